# The gateway: the public gRPC API served by trustchain-gateway against a
# real signer, driven through libtrustchain (C) and grpcio (Python).
if(TARGET trustchain AND TARGET trustchain-gateway)
  tc_add_cunit(test_gateway_issue SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_issue.c
               LIBS tc_test_support trustchain tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_gateway_issue trustchain-gateway trustchain-signer trustchainctl)
endif()

if(TARGET trustchain-gateway)
  add_test(NAME test_gateway_py COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_py.sh
           ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
endif()
