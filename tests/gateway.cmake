# The gateway: the public gRPC API served by trustchain-gateway against a
# real signer, driven through libtrustchain (C) and grpcio (Python).
if(TARGET trustchain AND TARGET trustchain-gateway)
  tc_add_cunit(test_gateway_issue SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_issue.c
               LIBS tc_test_support trustchain tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_gateway_issue trustchain-gateway trustchain-signer trustchainctl)
endif()

# The CSR checks alone: formats, key types, limits, random mutations.
if(TARGET tc_gateway_core)
  tc_add_cunit(test_gateway_csr SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_csr.c
               LIBS tc_gateway_core)
endif()

if(TARGET trustchain-gateway)
  add_test(NAME test_gateway_py COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_py.sh
           ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
endif()
