# Our own processes' certificates (the gateway's TLS certificate, the
# resolver's DoQ certificate) are issued like every other: precertificate in
# the CT log, SCT embedded, Validate says TRUSTED; under the real supervisor.
if(TARGET trustchain-server AND TARGET trustchain-gateway AND TARGET trustchain-resolver AND TARGET trustchainctl)
  add_test(NAME own_certs_logged_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/own_certs_logged_test.sh
           ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
  set_tests_properties(own_certs_logged_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
