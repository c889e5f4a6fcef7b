# Validation.Validate (the STOQ trust decision): the validator core on
# certificates built in-process, a fuzz target for chain parsing, the
# end-to-end test against the real gateway, signer and CT log, and the
# Validate bench (not a test).
if(TARGET tc_gateway_core AND TARGET tc_ct_core)
  tc_add_cunit(test_validate_core SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_validate_core.c
               ${CMAKE_SOURCE_DIR}/tests/support/test_ca.c LIBS tc_gateway_core tc_ct_core)
endif()

if(TARGET tc_gateway_core)
  file(GLOB TC_VALIDATE_CHAIN_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/validate_chain/*)
  tc_add_fuzz(fuzz_validate_chain SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_validate_chain.c
              ${CMAKE_SOURCE_DIR}/tests/support/test_ca.c LIBS tc_gateway_core SEEDS ${TC_VALIDATE_CHAIN_SEEDS})
  target_include_directories(fuzz_validate_chain PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  # Each input runs the whole validator (and signs a leaf in SCT mode):
  # fewer mutations than the parser-only targets keep it at a few seconds.
  set_tests_properties(fuzz_validate_chain PROPERTIES ENVIRONMENT TC_FUZZ_ITERATIONS=6000)
endif()

if(TARGET trustchain AND TARGET trustchain-gateway AND TARGET trustchain-transparency)
  tc_add_cunit(test_gateway_validate SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_gateway_validate.c
               ${CMAKE_SOURCE_DIR}/tests/support/test_ca.c ${CMAKE_SOURCE_DIR}/tests/support/raw_string_call.c
               ${CMAKE_SOURCE_DIR}/tests/support/ca_key_direct.c
               LIBS tc_gateway_test_support tc_test_support trustchain tc_ct_core tc_signer_core tc_common
                    PkgConfig::JANSSON
               ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_gateway_validate trustchain-gateway trustchain-signer trustchainctl trustchain-transparency)
endif()

# Bench (prints figures; not a test):
#   build/bin/bench_validate build/bin [-c clients] [-d seconds] [-g gateway_threads] [-L]
if(TARGET tc_gateway_test_support AND TARGET trustchain-transparency)
  add_executable(bench_validate ${CMAKE_SOURCE_DIR}/tests/bench/bench_validate.c)
  tc_target_defaults(bench_validate)
  target_include_directories(bench_validate PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(bench_validate PRIVATE tc_gateway_test_support tc_gateway_core trustchain tc_common)
  set_target_properties(bench_validate PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(bench_validate trustchain-gateway trustchain-transparency trustchain-signer trustchainctl)
endif()
