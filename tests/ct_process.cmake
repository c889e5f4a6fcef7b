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

# Shared by the CT process tests below: the log under test (signer harness,
# issued certificates, the log process, verified HTTP helpers).
if(TARGET trustchain-transparency)
  add_library(tc_ct_fixture STATIC ${CMAKE_SOURCE_DIR}/tests/support/ct_log_fixture.c)
  tc_target_defaults(tc_ct_fixture)
  target_include_directories(tc_ct_fixture PUBLIC ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(tc_ct_fixture PUBLIC tc_test_support tc_ct_core tc_common PkgConfig::JANSSON)

  tc_add_cunit(test_ct_crash SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/ct_crash_test.c
               LIBS tc_ct_fixture ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_ct_crash trustchain-transparency trustchain-signer trustchainctl)
endif()

if(TARGET trustchain-transparency)
  tc_add_cunit(test_ct_log_only SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/ct_log_only_test.c
               LIBS tc_ct_fixture ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_ct_log_only trustchain-transparency trustchain-signer trustchainctl)
endif()

if(TARGET trustchain-transparency)
  tc_add_cunit(test_ct_export SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/ct_export_test.c
               LIBS tc_ct_fixture ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_ct_export trustchain-transparency trustchain-signer trustchainctl)
endif()

# Bench (prints figures; not a test):
#   build/bin/bench_ct_http build/bin [seconds] [connections] [certs]
if(TARGET trustchain-transparency)
  add_executable(bench_ct_http ${CMAKE_SOURCE_DIR}/tests/bench/bench_ct_http.c ${CMAKE_SOURCE_DIR}/tests/bench/bench_hsm.c)
  tc_target_defaults(bench_ct_http)
  target_link_libraries(bench_ct_http PRIVATE tc_ct_fixture tc_signer_core)
  set_target_properties(bench_ct_http PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
endif()

# static-ct-api files and HTTP read path of the real log (issue 13).
if(TARGET trustchain-transparency)
  tc_add_cunit(test_ct_tiles SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/ct_tiles_test.c
               ${CMAKE_SOURCE_DIR}/tests/support/merkle_reference.c
               LIBS tc_ct_fixture ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_ct_tiles trustchain-transparency trustchain-signer trustchainctl)
endif()

# trustchainctl ct monitor over python's http.server serving ct.tiles_dir.
if(TARGET trustchain-transparency)
  tc_add_cunit(test_ct_monitor SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/ct_monitor_test.c
               LIBS tc_ct_fixture ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_ct_monitor trustchain-transparency trustchain-signer trustchainctl)
endif()

# Bench (prints figures; not a test): add-chain with tiles off vs on,
# publication lag, tiles bytes per entry.
#   build/bin/bench_ct_tiles build/bin [seconds] [connections] [certs]
if(TARGET trustchain-transparency)
  add_executable(bench_ct_tiles ${CMAKE_SOURCE_DIR}/tests/bench/bench_ct_tiles.c)
  tc_target_defaults(bench_ct_tiles)
  target_link_libraries(bench_ct_tiles PRIVATE tc_ct_fixture)
  set_target_properties(bench_ct_tiles PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
endif()

# Freezing the log (ct.frozen): submissions refused, reads go on (issue 13).
if(TARGET trustchain-transparency)
  tc_add_cunit(test_ct_freeze SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/ct_freeze_test.c
               LIBS tc_ct_fixture ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_ct_freeze trustchain-transparency trustchain-signer trustchainctl)
endif()

# Temporal shards (ct.logs) under the whole server: per-shard keys, windows,
# URLs, tiles, Issue picking the shard, Validate, loglist, export (issue 13).
if(TARGET trustchain-transparency AND TARGET trustchain-server)
  add_test(NAME ct_shards_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/ct_shards_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(ct_shards_test PROPERTIES TIMEOUT 600)
endif()
