# The resolver's TCP listener (src/resolver/tcp_server.c) on real loopback
# sockets: per-source quota and room made by closing idle connections
# (RFC 7766 §6.2.3, §10).
if(TARGET tc_dns_core)
  tc_add_cunit(test_dns_tcp_limits
               SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_dns_tcp_limits.c
                       ${CMAKE_SOURCE_DIR}/src/resolver/tcp_server.c
                       ${CMAKE_SOURCE_DIR}/src/resolver/dns_service.c
                       ${CMAKE_SOURCE_DIR}/src/resolver/signed_query.c
                       ${CMAKE_SOURCE_DIR}/src/resolver/forwarder.c
               LIBS tc_dns_core tc_common Threads::Threads)
  set_tests_properties(test_dns_tcp_limits PROPERTIES TIMEOUT 60)
endif()

# Zone transfers to real secondaries: knot and nsd over TSIG, delv against
# them (tests/integration/dns_xfr_test.sh; packages in ops/deps.sh).
if(TARGET trustchain-resolver AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME dns_xfr_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dns_xfr_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dns_xfr_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()

# TSIG (src/resolver/tsig.c, tsig_keys.c): unit test and fuzz target of the
# key file parser and the TSIG record reader.
if(TARGET tc_dns_core)
  tc_add_cunit(test_tsig SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_tsig.c LIBS tc_dns_core)
  file(GLOB TC_TSIG_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/tsig/* ${CMAKE_SOURCE_DIR}/tests/data/fuzz/dns_msg/*)
  tc_add_fuzz(fuzz_tsig SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_tsig.c
              LIBS tc_dns_core SEEDS ${TC_TSIG_SEEDS})
endif()

# Dynamic updates (src/resolver/update.c, zone_journal.c): fuzz target of
# the UPDATE reader and the journal reader; nsupdate against the whole
# server (tests/integration/dns_update_test.sh).
if(TARGET tc_dns_core)
  file(GLOB TC_UPDATE_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/update/* ${CMAKE_SOURCE_DIR}/tests/data/fuzz/dns_msg/*)
  tc_add_fuzz(fuzz_update SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_update.c
              LIBS tc_dns_core SEEDS ${TC_UPDATE_SEEDS})
endif()
if(TARGET trustchain-resolver AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME dns_update_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dns_update_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dns_update_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
if(TARGET tc_dns_core)
  tc_add_cunit(test_update SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_update.c LIBS tc_dns_core)
endif()
