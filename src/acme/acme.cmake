# trustchain-acme: the RFC 8555 server. Everything but main.c goes into
# tc_acme_core so the unit tests and fuzz targets link the request code
# directly.
if(NOT GRPC_FOUND OR NOT MHD_FOUND OR NOT LEVELDB_LIB)
  message(STATUS "trustchain-acme needs gRPC, libmicrohttpd and LevelDB: not built")
  return()
endif()

# An explicit list: the validator engineer's files live in the same
# directory and are built by validator.cmake.
set(TC_ACME_SRCS b64url.c jwk.c jws.c nonce.c problem.c acme_resp.c acme_store.c eab.c rate_limit.c
    identifiers.c acme_router.c directory.c account.c order.c authz.c finalize.c certificate.c revoke.c
    renewal_info.c cert_info.c rest_v1.c acme_http.c acme_tls_cert.c ca_link.c workq.c key_cache.c
    account_cache.c issuer.c wake.c acme_metrics.c)
list(TRANSFORM TC_ACME_SRCS PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/)
# The gateway's PKCS#10 checks (proof of possession, key types, requested
# names), the same code Issue runs: finalize answers badCSR with its verdict.
list(APPEND TC_ACME_SRCS ${CMAKE_SOURCE_DIR}/src/gateway/csr.c)

add_library(tc_acme_core STATIC ${TC_ACME_SRCS})
tc_target_defaults(tc_acme_core)
target_include_directories(tc_acme_core PUBLIC ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/include)
target_include_directories(tc_acme_core SYSTEM PUBLIC ${LEVELDB_INCLUDE})
target_link_libraries(tc_acme_core PUBLIC tc_common tc_http_strict_mhd trustchain PkgConfig::MHD
                      PkgConfig::JANSSON PkgConfig::OPENSSL ${LEVELDB_LIB} Threads::Threads)

# The validator client library (tc_validator_client) comes from
# validator.cmake, read after this file; target names resolve at generate
# time.
target_link_libraries(tc_acme_core PUBLIC tc_validator_client)

# The process needs the runtime's peer links (common/child_runtime.h).
file(STRINGS ${CMAKE_SOURCE_DIR}/src/common/child_runtime.h TC_ACME_PEER_LINKS REGEX "tc_child_on_peer_link")
if(TC_ACME_PEER_LINKS)
  add_executable(trustchain-acme main.c)
  tc_target_defaults(trustchain-acme)
  target_link_libraries(trustchain-acme PRIVATE tc_acme_core)
endif()
