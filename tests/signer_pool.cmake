# The signer's signing pool (src/signer/ipc_server.c): a burst of signing
# requests from one peer is all answered and holds no other peer's request.
tc_add_cunit(test_signer_fairness SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_signer_fairness.c
             LIBS tc_test_support tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
add_dependencies(test_signer_fairness trustchain-signer trustchainctl)
# A CRL over the 1 MiB request-frame limit reaches the gateway whole on its
# link (the chaos soak broke the link at ~21,000 revocations).
tc_add_cunit(test_signer_big_crl SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_signer_big_crl.c
             LIBS tc_test_support tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
add_dependencies(test_signer_big_crl trustchain-signer trustchainctl)
# A child whose signer link ends while both run is linked again (TC_SUP_RELINK).
add_test(NAME signer_relink_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/signer_relink_test.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(signer_relink_test PROPERTIES TIMEOUT 300 LABELS integration)
