# Operations (issue 14): log formats, service unit, package, backup/restore.
tc_add_cunit(test_log SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_log.c LIBS tc_common)
add_test(NAME log_json_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/log_json_test.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(log_json_test PROPERTIES TIMEOUT 300 LABELS integration)
# The .deb built from this build directory, installed, started as the unit
# does (root only; removes the package at the end).
add_test(NAME package_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/package_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(package_test PROPERTIES TIMEOUT 900 SKIP_RETURN_CODE 77 LABELS "integration;package" RUN_SERIAL ON)
add_test(NAME backup_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/backup_test.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(backup_test PROPERTIES TIMEOUT 600 LABELS integration)
tc_add_cunit(test_metrics SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_metrics.c LIBS tc_common)
