# Issuance with embedded SCTs under the real supervisor: gRPC Issue, OpenSSL's
# CT validation in a TLS handshake (trustchainctl ct loglist), the entries over
# HTTP and the gRPC Transparency service, a restart of the log.
if(TARGET trustchain-gateway AND TARGET trustchain-transparency)
  add_test(NAME test_ct_issue COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/test_ct_issue.sh
           ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
endif()

# The issuance bench with CT (CPU per issuance by process, -s/-l for the
# sequencer interval and final-certificate logging) is tests/bench/bench_issue.c.

# The internal IPC between the gateway and the CT log, against the real log.
if(TARGET trustchain-transparency)
  tc_add_cunit(test_ct_ipc SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_ct_ipc.c
               LIBS tc_test_support tc_common ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_ct_ipc trustchain-transparency trustchain-signer trustchainctl)
endif()
