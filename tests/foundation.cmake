# Tests of the foundation (config, IPC, signer, supervisor, ceremony).

# Config: the example file in ops/ is loaded by the test, so it cannot drift
# from the schema.
tc_add_cunit(test_config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_config.c LIBS tc_common)
target_compile_definitions(test_config PRIVATE
  TC_EXAMPLE_CONFIG="${CMAKE_SOURCE_DIR}/ops/trustchain.yaml.example")

# IPC framing and the pipelined signer client (against a fake signer thread).
tc_add_cunit(test_ipc_frame SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ipc_frame.c LIBS tc_common)

# Issuance policy and template parsing (templates built with OpenSSL).
tc_add_cunit(test_policy SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_policy.c LIBS tc_signer_core)

# Audit journal: chain, group commit, torn tails and tampering.
tc_add_cunit(test_journal SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_journal.c LIBS tc_signer_core)

# Revocations and the CRL (signed with an in-memory key standing in for the HSM).
tc_add_cunit(test_revocation SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_revocation.c LIBS tc_signer_core)
