# DNSSEC key rollovers in real time against a validating cache (issue 12):
# tests/integration/dnssec_roll_cache_test.sh, two ZSK rolls and a KSK roll with
# a DNSKEY TTL of 4 s, unbound (with a knot-signed parent zone) asked every second
# by dig and delv, never bogus. 130-170 s under ASan.
if(TARGET trustchain-resolver AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME dnssec_roll_cache_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dnssec_roll_cache_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dnssec_roll_cache_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 480 LABELS integration)
endif()
