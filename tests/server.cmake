# Integration tests of the processes: the signer over IPC and the supervisor.
add_library(tc_test_support STATIC ${CMAKE_SOURCE_DIR}/tests/support/signer_harness.c
            ${CMAKE_SOURCE_DIR}/tests/support/peer_harness.c ${CMAKE_SOURCE_DIR}/tests/support/sct_mint.c
            ${CMAKE_SOURCE_DIR}/tests/support/child_spawn.c)
tc_target_defaults(tc_test_support)
target_include_directories(tc_test_support PUBLIC ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(tc_test_support PUBLIC tc_common)

tc_add_cunit(test_signer_ipc SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_signer_ipc.c
             LIBS tc_test_support tc_common ARGS ${CMAKE_BINARY_DIR}/bin)

add_test(NAME server_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/server_test.sh ${CMAKE_BINARY_DIR}/bin)

# Bench (prints figures; not a test): build/bin/bench_signer build/bin [requests] [concurrency...]
add_executable(bench_signer ${CMAKE_SOURCE_DIR}/tests/bench/bench_signer.c)
tc_target_defaults(bench_signer)
target_link_libraries(bench_signer PRIVATE tc_test_support tc_signer_core)
