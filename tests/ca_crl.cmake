# Revocation for standard relying parties (issue 14 part 5): the whole dev
# server, openssl verify -crl_download against gateway.http_listen (the
# default 127.0.0.1:8080: run inside a private network namespace).
if(TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME crl_http_test
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/crl_http_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(crl_http_test PROPERTIES TIMEOUT 300 LABELS integration)
endif()

# A CRL over gRPC's 4 MiB default (90,000 revocations) through GetCrl, the
# CRL URL and Validate (issue 16). Also on 127.0.0.1:8080: network namespace.
if(TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME crl_big_test
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/crl_big_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(crl_big_test PROPERTIES TIMEOUT 300 LABELS integration)
endif()
