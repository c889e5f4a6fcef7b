# Idempotent issuance (issue 11): the signer's idempotency-key rules, which
# close the double issuance of a finalize resumed after kill -9 of acme.
tc_add_cunit(test_signer_idempotency SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_signer_idempotency.c
             LIBS tc_signer_core)
