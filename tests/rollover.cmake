# CA key rollover at runtime (issue 14 part 8): the whole server switching
# issuing intermediates at the cut-over. Uses 127.0.0.1:8080 (the default
# gateway.http_listen): run it in a private network namespace.
if(TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME ca_rollover_runtime_test
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/ca_rollover_runtime_test.sh ${CMAKE_BINARY_DIR}/bin
                   ${CMAKE_SOURCE_DIR})
  set_tests_properties(ca_rollover_runtime_test PROPERTIES TIMEOUT 600 LABELS integration)
endif()

# Revocations recorded with their issuer; each intermediate's CRL lists its own.
tc_add_cunit(test_revocation_issuer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_revocation_issuer.c LIBS tc_signer_core)

# The signer's ceremony inbox: ceremony records taken while the server runs.
tc_add_cunit(test_ceremony_inbox SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ceremony_inbox.c LIBS tc_signer_core)
