# Real ACME clients (Debian's lego and certbot) against a whole
# trustchain-server with ACME on (issue 11).
if(TARGET trustchain-server AND TARGET trustchain-acme AND TARGET trustchain-validator)
  add_test(NAME acme_clients_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/acme_clients_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(acme_clients_test PROPERTIES TIMEOUT 600 LABELS integration)
endif()
