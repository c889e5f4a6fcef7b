# trustchain-validator: ACME challenge checks (http-01, tls-alpn-01, dns-01)
# for trustchain-acme, and the client library trustchain-acme links to
# reach it. libcurl (OpenSSL flavour, Debian libcurl4-openssl-dev) makes the
# http-01 fetches; the DNS messages are built and read with the resolver's
# wire code (three pure files, no sockets).
tc_add_proto(tc_proto_acme_validator ${CMAKE_SOURCE_DIR}/api/internal/acme_validator.proto)

pkg_check_modules(CURL IMPORTED_TARGET libcurl)

# The wire protocol: what both sides link.
add_library(tc_validator_proto STATIC validator_proto.c)
tc_target_defaults(tc_validator_proto)
target_link_libraries(tc_validator_proto PUBLIC tc_proto_acme_validator tc_common)

# The client side, linked by trustchain-acme.
add_library(tc_validator_client STATIC validator_client.c)
tc_target_defaults(tc_validator_client)
target_link_libraries(tc_validator_client PUBLIC tc_validator_proto tc_common Threads::Threads)

if(NOT CURL_FOUND)
  message(WARNING "libcurl not found (apt-get install libcurl4-openssl-dev): trustchain-validator not built")
  return()
endif()

# Everything of the validator but main(): the tests link it.
add_library(tc_validator_core STATIC
  target_policy.c validator_check.c validator_dns.c validator_server.c
  challenge_http01.c challenge_tls_alpn01.c challenge_dns01.c)
tc_target_defaults(tc_validator_core)
# tc_dns_core is a static library: only its wire, builder and name objects
# are pulled in, none of the resolver's zone or server code.
target_link_libraries(tc_validator_core PUBLIC tc_validator_proto tc_dns_core tc_common
                      PkgConfig::CURL PkgConfig::OPENSSL PkgConfig::SECCOMP Threads::Threads)

# The process needs the runtime's peer links (common/child_runtime.h).
file(STRINGS ${CMAKE_SOURCE_DIR}/src/common/child_runtime.h TC_HAVE_PEER_LINKS REGEX "tc_child_on_peer_link")
if(TC_HAVE_PEER_LINKS)
  add_executable(trustchain-validator validator_main.c)
  tc_target_defaults(trustchain-validator)
  target_link_libraries(trustchain-validator PRIVATE tc_validator_core tc_common)
endif()
