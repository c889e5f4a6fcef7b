# Issuance with embedded SCTs under the real supervisor: gRPC Issue, OpenSSL's
# CT validation in a TLS handshake (trustchainctl ct loglist), the entries over
# HTTP and the gRPC Transparency service, a restart of the log.
if(TARGET trustchain-gateway AND TARGET trustchain-transparency)
  add_test(NAME test_ct_issue COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/test_ct_issue.sh
           ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
endif()

# The issuance bench with CT (CPU per issuance by process, -s/-l for the
# sequencer interval and final-certificate logging) is tests/bench/bench_issue.c.
