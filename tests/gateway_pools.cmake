# The gateway's two worker pools (fast calls, calls that wait on the
# signer or the CT log) against real signer, CT log and gateway processes.
if(TARGET tc_gateway_test_support)
  tc_add_cunit(test_gateway_pools SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_pools.c
               LIBS tc_gateway_test_support trustchain tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_gateway_pools trustchain-gateway trustchain-transparency trustchain-signer trustchainctl)
endif()
