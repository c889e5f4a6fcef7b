# Crash consistency of the audit journal (issue 16, part 6): an LD_PRELOAD
# recorder of writes and syncs (tests/support/io_recorder.c, lib/io_recorder.so,
# built without sanitizers: it is preloaded before the ASan runtime) and the
# test that rebuilds crash states from a load run.
add_library(tc_io_recorder MODULE ${CMAKE_SOURCE_DIR}/tests/support/io_recorder.c)
target_compile_options(tc_io_recorder PRIVATE ${TC_WARN} -fno-sanitize=all)
target_link_options(tc_io_recorder PRIVATE -fno-sanitize=all)
target_link_libraries(tc_io_recorder PRIVATE Threads::Threads ${CMAKE_DL_LIBS})
set_target_properties(tc_io_recorder PROPERTIES PREFIX "" OUTPUT_NAME io_recorder
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

if(TARGET trustchain-server AND TARGET trustchain-gateway AND TARGET trustchainctl)
  # CI form: 120 issuances; TC_CRASH_CALLS / TC_CRASH_SAMPLES for longer runs.
  add_test(NAME crash_consistency_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/crash_consistency_test.sh
           ${CMAKE_BINARY_DIR}/bin $<TARGET_FILE:tc_io_recorder> ${CMAKE_SOURCE_DIR})
  set_tests_properties(crash_consistency_test PROPERTIES TIMEOUT 600)
endif()

# Opens a rebuilt CT store and looks for acknowledged entries (crash_states.py --ct).
if(TARGET tc_ct_core)
  add_executable(ct_store_check ${CMAKE_SOURCE_DIR}/tests/support/ct_store_check.c)
  tc_target_defaults(ct_store_check)
  target_link_libraries(ct_store_check PRIVATE tc_ct_core tc_common)
endif()
