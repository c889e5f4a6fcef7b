# DNSSEC and TLSA for the bootstrap zone (src/resolver dnssec_*.c, tlsa.c,
# zone_live.c, zone_keeper.c) and the signer's check of what the zone key
# may sign (src/signer/dns_sign_input.c):
#  - test_dnssec: canonical form/order, RFC 6605 known answer, zone signing,
#    NSEC chain, DNSSEC answers, live swaps, TLSA from certificates;
#  - test_dns_sign_input: the signer's shape check, fed by the resolver's
#    own signing-input builder and by mutations of it;
#  - test_dnssec_signer: the zone key through a real signer (harness):
#    resolver inputs signed and verifiable, other data and peers refused;
#  - dnssec_process_test: the whole server; delv validates answers against
#    a trust anchor from `trustchainctl dns ds --anchor`, dig shows RRSIGs
#    and TLSA records (checked against openssl), DoQ certificate reload.
if(TARGET tc_dns_core)
  tc_add_cunit(test_dnssec SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dnssec.c LIBS tc_dns_core)
endif()
if(TARGET tc_dns_core AND TARGET tc_signer_core)
  tc_add_cunit(test_dns_sign_input SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dns_sign_input.c
               LIBS tc_signer_core tc_dns_core)
endif()
if(TARGET tc_dns_core AND TARGET trustchain-signer)
  # (tc_test_support comes from server.cmake; link names resolve at generate time.)
  tc_add_cunit(test_dnssec_signer SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_dnssec_signer.c
               LIBS tc_test_support tc_dns_core tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
endif()
if(TARGET trustchain-resolver AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME dnssec_process_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dnssec_process_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dnssec_process_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
