# /metrics (issue 14 part 1): the merge of the children's expositions, its
# fuzz target, and the whole path through a running server.
tc_add_cunit(test_metrics_expo SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_metrics_expo.c LIBS tc_common)
file(GLOB TC_METRICS_EXPO_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/metrics_expo/*)
tc_add_fuzz(fuzz_metrics_expo SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_metrics_expo.c
            LIBS tc_common SEEDS ${TC_METRICS_EXPO_SEEDS})
add_test(NAME metrics_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/metrics_test.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(metrics_test PROPERTIES TIMEOUT 600 LABELS integration)
