# Lint before signing (issue 14 part 7): the corpus of tests/data/lint (one
# TBS per lint, made by make_corpus.py) and the signer's signing call.
tc_add_cunit(test_lint SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_lint.c LIBS tc_signer_core
             ARGS ${CMAKE_CURRENT_SOURCE_DIR}/data/lint)
