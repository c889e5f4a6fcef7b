# DNSSEC key rollovers (issue 12): the roll state file's reader and the
# signer's rule for DNS key selectors (unit), and the ceremonies end to end
# (tests/integration/dnssec_roll_test.sh: trustchainctl dns-roll, ZSK
# pre-publish and KSK double signature, delv + knotd at every step).
if(TARGET tc_signer_core AND EXISTS ${CMAKE_SOURCE_DIR}/tests/unit/test_dns_roll_state.c)
  tc_add_cunit(test_dns_roll_state SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dns_roll_state.c
               LIBS tc_signer_core tc_common)
endif()
if(TARGET trustchain-resolver AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME dnssec_roll_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dnssec_roll_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dnssec_roll_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
if(TARGET tc_dns_core)
  tc_add_cunit(test_dnssec_keyset SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dnssec_keyset.c LIBS tc_dns_core)
endif()
# dns-roll start refuses a max_ttl below the zone's largest TTL: the TTL
# it compares with (generated records, dns.records, journaled updates,
# DNSKEY), and the refusal itself from the command line.
if(TARGET tc_doq_client AND TARGET tc_dns_core)
  tc_add_cunit(test_dns_zone_ttl SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dns_zone_ttl.c
               ${CMAKE_SOURCE_DIR}/src/ctl/dns_zone_ttl.c LIBS tc_doq_client tc_dns_core tc_common)
endif()
if(TARGET trustchainctl)
  add_test(NAME dns_roll_ttl_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dns_roll_ttl_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dns_roll_ttl_test PROPERTIES TIMEOUT 120)
endif()
