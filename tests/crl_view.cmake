# Our CRL reader (common/crl_view.c): against OpenSSL's on built CRLs, a
# 50,000-entry CRL read both ways (times printed), and a differential fuzz
# target. Seeds: tests/fuzz/make_seeds.py (crl_view).
tc_add_cunit(test_crl_view SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_crl_view.c LIBS tc_common)

file(GLOB TC_FUZZ_CRL_VIEW_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/crl_view/*)
tc_add_fuzz(fuzz_crl_view SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_crl_view.c LIBS tc_common
            SEEDS ${TC_FUZZ_CRL_VIEW_SEEDS})
