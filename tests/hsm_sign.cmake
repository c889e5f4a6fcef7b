# EC signatures on the signer's own PKCS#11 session pool with session-object
# key copies (src/signer/hsm_sign.c), against a real SoftHSM token.
tc_add_cunit(test_hsm_sign SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_hsm_sign.c LIBS tc_signer_core)
