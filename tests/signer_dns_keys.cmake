# The signer's DNS keys across more rolls than its key table holds, in one
# run (real signer, SoftHSM, keys made by trustchainctl dns-roll).
tc_add_cunit(test_signer_dns_keys SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_signer_dns_keys.c
             LIBS tc_test_support tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
