# trustchainctl dns export against the whole server, checked by Knot's
# kzonecheck and ldns-verify-zone (tests/integration/dns_export_test.sh).
if(TARGET trustchain-resolver AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME dns_export_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dns_export_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dns_export_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
