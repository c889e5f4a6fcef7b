# Strict HTTP (issue 10, item 4): the shared rules (common/http_strict) by
# unit cases and a fuzz target, and the CT log's listener attacked over raw
# TCP (real signer harness and trustchain-transparency process).
tc_add_cunit(test_http_strict SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_http_strict.c LIBS tc_common)

file(GLOB TC_HTTP_STRICT_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/data/fuzz/http_strict/*)
tc_add_fuzz(fuzz_http_strict SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_http_strict.c LIBS tc_common
            SEEDS ${TC_HTTP_STRICT_SEEDS})

# (tc_ct_fixture comes from ct_process.cmake; link names resolve at generate time.)
if(TARGET trustchain-transparency)
  tc_add_cunit(test_ct_http_strict SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/ct_http_strict_test.c
               LIBS tc_ct_fixture ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_ct_http_strict trustchain-transparency trustchain-signer trustchainctl)
endif()
