# Lint before signing (issue 14 part 7): the corpus of tests/data/lint (one
# TBS per lint, made by make_corpus.py) and the signer's signing call.
tc_add_cunit(test_lint SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_lint.c LIBS tc_signer_core
             ARGS ${CMAKE_CURRENT_SOURCE_DIR}/data/lint)

# Bench (prints figures; not a test): CPU per lint and per issuance.
add_executable(bench_lint ${CMAKE_SOURCE_DIR}/tests/bench/bench_lint.c)
tc_target_defaults(bench_lint)
target_link_libraries(bench_lint PRIVATE tc_signer_core tc_common)
