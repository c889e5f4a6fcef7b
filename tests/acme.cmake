# trustchain-acme (issue 11): unit tests of the RFC 8555 server's modules
# and the fuzz target of its request parsing.
if(TARGET tc_acme_core)
  set(TC_ACME_TEST_SUPPORT ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_acme_support.c)
  set(TC_ACME_TEST_FIXTURE ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_acme_fixture.c)
  tc_add_cunit(test_acme_jws SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_acme_jws.c ${TC_ACME_TEST_SUPPORT}
               LIBS tc_acme_core)
endif()
if(TARGET tc_acme_core)
  tc_add_cunit(test_acme_server SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_acme_server.c ${TC_ACME_TEST_SUPPORT} ${TC_ACME_TEST_FIXTURE}
               LIBS tc_acme_core)
endif()
if(TARGET tc_acme_core)
  file(GLOB TC_ACME_JWS_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/data/fuzz/acme_jws/*)
  tc_add_fuzz(fuzz_acme_jws SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_acme_jws.c LIBS tc_acme_core
              SEEDS ${TC_ACME_JWS_SEEDS})
endif()
if(TARGET tc_acme_core)
  # Account records cached: update, deactivation, keyChange seen at once.
  tc_add_cunit(test_acme_account_cache SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_acme_account_cache.c
               ${TC_ACME_TEST_SUPPORT} ${TC_ACME_TEST_FIXTURE} LIBS tc_acme_core)
endif()
if(TARGET tc_acme_core)
  tc_add_cunit(test_acme_wake SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_acme_wake.c LIBS tc_acme_core)
endif()
if(TARGET tc_acme_core)
  tc_add_cunit(test_acme_limits SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_acme_limits.c LIBS tc_acme_core)
endif()
if(TARGET tc_acme_core)
  # Listens on an ephemeral loopback port.
  tc_add_cunit(test_acme_http SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_acme_http.c LIBS tc_acme_core)
endif()
# bench_acme: ACME throughput against a running server, with the gRPC Issue
# rate of the same run (a bench, not a test).
pkg_check_modules(TC_BENCH_CURL IMPORTED_TARGET libcurl)
if(TARGET tc_acme_core AND TC_BENCH_CURL_FOUND)
  add_executable(bench_acme ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_acme.c
                 ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_acme_cpu.c ${TC_ACME_TEST_SUPPORT})
  tc_target_defaults(bench_acme)
  target_include_directories(bench_acme PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(bench_acme PRIVATE tc_acme_core PkgConfig::TC_BENCH_CURL PkgConfig::MHD)
  set_target_properties(bench_acme PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
endif()
if(TARGET tc_acme_core)
  tc_add_cunit(test_acme_challenge SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_acme_challenge.c
               ${TC_ACME_TEST_SUPPORT} LIBS tc_acme_core)
endif()
# Finalize answered "processing", then kill -9 of trustchain-acme: the order
# is resumed and issued once (python3-acme as the client; a whole server).
if(TARGET trustchain-server AND TARGET trustchain-acme AND TARGET trustchain-validator)
  add_test(NAME acme_resume_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/acme_resume_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(acme_resume_test PROPERTIES TIMEOUT 300 LABELS integration)
endif()
