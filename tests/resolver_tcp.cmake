# The resolver's TCP listener (src/resolver/tcp_server.c) on real loopback
# sockets: per-source quota and room made by closing idle connections
# (RFC 7766 §6.2.3, §10).
if(TARGET tc_dns_core)
  tc_add_cunit(test_dns_tcp_limits
               SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_dns_tcp_limits.c
                       ${CMAKE_SOURCE_DIR}/src/resolver/tcp_server.c
                       ${CMAKE_SOURCE_DIR}/src/resolver/dns_service.c
                       ${CMAKE_SOURCE_DIR}/src/resolver/forwarder.c
               LIBS tc_dns_core tc_common Threads::Threads)
  set_tests_properties(test_dns_tcp_limits PROPERTIES TIMEOUT 60)
endif()
