# CSRs and leaf templates without OpenSSL's object decoders/encoders on the
# gateway's Issue path: the PKCS#10 DER view (common/csr_der.c) against
# OpenSSL-made requests, the DER template builder (common/leaf_template_der.c)
# byte for byte against the OpenSSL one, and a fuzz target over both and
# the gateway's CSR check.
tc_add_cunit(test_csr_der SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_csr_der.c LIBS tc_common)
tc_add_cunit(test_leaf_template SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_leaf_template.c LIBS tc_common)
if(TARGET tc_gateway_core)
  file(GLOB TC_FUZZ_CSR_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/data/fuzz/fuzz_csr/*)
  tc_add_fuzz(fuzz_csr SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_csr.c LIBS tc_gateway_core
    SEEDS ${TC_FUZZ_CSR_SEEDS})
endif()
