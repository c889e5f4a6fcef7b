# Issuance with embedded SCTs under the real supervisor: gRPC Issue, OpenSSL's
# CT validation in a TLS handshake (trustchainctl ct loglist), the entries over
# HTTP and the gRPC Transparency service, a restart of the log.
if(TARGET trustchain-gateway AND TARGET trustchain-transparency)
  add_test(NAME test_ct_issue COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/test_ct_issue.sh
           ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
endif()

# Bench (prints figures; not a test):
#   build/bin/bench_issue_ct build/bin [seconds] [concurrency...]
# (tc_gateway_test_support comes from gateway.cmake; link names resolve at generate time.)
if(TARGET trustchain AND TARGET trustchain-gateway)
  add_executable(bench_issue_ct ${CMAKE_SOURCE_DIR}/tests/bench/bench_issue_ct.c)
  tc_target_defaults(bench_issue_ct)
  target_link_libraries(bench_issue_ct PRIVATE tc_gateway_test_support trustchain tc_common)
endif()
