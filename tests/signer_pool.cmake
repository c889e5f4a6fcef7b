# The signer's signing pool (src/signer/ipc_server.c): a burst of signing
# requests from one peer is all answered and holds no other peer's request.
tc_add_cunit(test_signer_fairness SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_signer_fairness.c
             LIBS tc_test_support tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
add_dependencies(test_signer_fairness trustchain-signer trustchainctl)
