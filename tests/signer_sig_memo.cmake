# The signer's memo of its CT log key's signatures (src/signer/sig_memo.c),
# which spares the embedded-SCT check an ECDSA verification per final
# certificate.
tc_add_cunit(test_sig_memo SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_sig_memo.c LIBS tc_signer_core)
