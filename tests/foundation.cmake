# Tests of the foundation (config, IPC, signer, supervisor, ceremony).

# Config: the example file in ops/ is loaded by the test, so it cannot drift
# from the schema.
tc_add_cunit(test_config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_config.c LIBS tc_common)
target_compile_definitions(test_config PRIVATE
  TC_EXAMPLE_CONFIG="${CMAKE_SOURCE_DIR}/ops/trustchain.yaml.example")

# IPC framing and the pipelined signer client (against a fake signer thread).
tc_add_cunit(test_ipc_frame SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ipc_frame.c LIBS tc_common)
# common/listen_socket: the listening sockets of every process.
tc_add_cunit(test_listen_socket SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_listen_socket.c LIBS tc_common)

# The syscall filter every child installs (common/sandbox.c).
tc_add_cunit(test_sandbox SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_sandbox.c LIBS tc_common)

# Issuance policy and template parsing (templates built with OpenSSL).
tc_add_cunit(test_policy SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_policy.c LIBS tc_signer_core)

# Audit journal: chain, group commit, torn tails and tampering.
tc_add_cunit(test_journal SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_journal.c LIBS tc_signer_core)

# Revocations and the CRL (signed with an in-memory key standing in for the HSM).
tc_add_cunit(test_revocation SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_revocation.c LIBS tc_signer_core)

# Fuzz targets of the parsers that take untrusted input: trustchain.yaml, the
# IPC stream from a peer, and leaf templates. Seeds under tests/data/fuzz/<target>/.
set(TC_FUZZ_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/data/fuzz)
file(GLOB TC_FUZZ_CONFIG_SEEDS ${TC_FUZZ_SEEDS}/fuzz_config/*)
tc_add_fuzz(fuzz_config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_config.c LIBS tc_common
  SEEDS ${CMAKE_SOURCE_DIR}/ops/trustchain.yaml.example ${TC_FUZZ_CONFIG_SEEDS})
file(GLOB TC_FUZZ_IPC_SEEDS ${TC_FUZZ_SEEDS}/fuzz_ipc/*)
tc_add_fuzz(fuzz_ipc SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_ipc.c LIBS tc_common
  SEEDS ${TC_FUZZ_IPC_SEEDS})
file(GLOB TC_FUZZ_TEMPLATE_SEEDS ${TC_FUZZ_SEEDS}/fuzz_template/*)
tc_add_fuzz(fuzz_template SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_template.c LIBS tc_signer_core
  SEEDS ${TC_FUZZ_TEMPLATE_SEEDS})

# The strict DER reader and the certificate / key views on it (common/der*.c,
# cert_der.c): unit checks against OpenSSL's encodings and a fuzz target.
tc_add_cunit(test_der SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_der.c LIBS tc_common)
file(GLOB TC_FUZZ_CERT_DER_SEEDS ${TC_FUZZ_SEEDS}/fuzz_cert_der/*)
tc_add_fuzz(fuzz_cert_der SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_cert_der.c LIBS tc_common
  SEEDS ${TC_FUZZ_CERT_DER_SEEDS})

# Leaf certificates assembled as DER by the signer against the OpenSSL
# X509 code it replaced (same TBS bytes for the same template and serial).
tc_add_cunit(test_cert_build SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_cert_build.c LIBS tc_signer_core)
