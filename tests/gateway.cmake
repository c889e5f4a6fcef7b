# The gateway: the public gRPC API served by trustchain-gateway against a
# real signer, driven through libtrustchain (C) and grpcio (Python).
if(TARGET trustchain AND TARGET trustchain-gateway)
  # Starting trustchain-gateway against a signer harness (tests and benches).
  add_library(tc_gateway_test_support STATIC ${CMAKE_SOURCE_DIR}/tests/support/gateway_process.c)
  tc_target_defaults(tc_gateway_test_support)
  target_link_libraries(tc_gateway_test_support PUBLIC tc_test_support tc_common)

  # Bench (prints figures; not a test):
  #   build/bin/bench_issue build/bin [-c clients] [-d seconds] [-g gateway_threads]
  add_executable(bench_issue ${CMAKE_SOURCE_DIR}/tests/bench/bench_issue.c ${CMAKE_SOURCE_DIR}/tests/bench/bench_hsm.c)
  tc_target_defaults(bench_issue)
  target_link_libraries(bench_issue PRIVATE tc_gateway_test_support trustchain tc_signer_core tc_common)
  set_target_properties(bench_issue PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(bench_issue trustchain-gateway trustchain-transparency trustchain-signer trustchainctl)

  tc_add_cunit(test_gateway_auth SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_auth.c
               ${CMAKE_SOURCE_DIR}/tests/support/raw_string_call.c LIBS tc_gateway_test_support trustchain tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_gateway_auth trustchain-gateway trustchain-transparency trustchain-signer trustchainctl)
  tc_add_cunit(test_gateway_issue SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_issue.c
               ${CMAKE_SOURCE_DIR}/tests/support/raw_string_call.c LIBS tc_test_support trustchain tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_gateway_issue trustchain-gateway trustchain-transparency trustchain-signer trustchainctl)
endif()

# The CSR checks alone: formats, key types, limits, random mutations.
# The principal files and name patterns alone.
if(TARGET tc_gateway_core)
  tc_add_cunit(test_gateway_auth_file SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_gateway_auth_file.c
               LIBS tc_gateway_core)
  tc_add_cunit(test_gateway_csr SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_csr.c
               LIBS tc_gateway_core)
endif()

if(TARGET trustchain-gateway)
  add_test(NAME test_gateway_py COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_py.sh
           ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
endif()

# trustchainctl token/issue/revoke/crl against the server in dev mode.
if(TARGET trustchain-gateway AND TARGET trustchainctl)
  add_test(NAME ctl_issue_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/ctl_issue_test.sh
           ${CMAKE_BINARY_DIR}/bin)
endif()
