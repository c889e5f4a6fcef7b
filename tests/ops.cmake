# Operations (issue 14): log formats, service unit, package, backup/restore.
tc_add_cunit(test_log SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_log.c LIBS tc_common)
add_test(NAME log_json_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/log_json_test.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(log_json_test PROPERTIES TIMEOUT 300 LABELS integration)
