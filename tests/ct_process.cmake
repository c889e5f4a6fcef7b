# The CT log process end to end: a real signer (harness), trustchain-transparency
# run with its own signer link, and RFC 6962 HTTP requests against it.
# (tc_test_support comes from server.cmake; link names resolve at generate time.)
if(TARGET trustchain-transparency)
  tc_add_cunit(test_ct_http SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/ct_http_test.c
                                    ${CMAKE_SOURCE_DIR}/src/transparency/ct_json.c
               LIBS tc_test_support tc_ct_core tc_common PkgConfig::JANSSON
               ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_ct_http trustchain-transparency trustchain-signer trustchainctl)
endif()
