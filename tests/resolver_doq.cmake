# DNS over QUIC: the resolver process against a real signer, driven by the
# tc_doq_client library (src/ctl) over real QUIC packets; a fuzz target for
# the dig-style printer; and the DoQ load generator (prints figures, not a test):
#   build/bin/bench_doq --config FILE [@ADDR] [-p PORT] [-d SECONDS] [-c CONNS,...] [-s STREAMS] [-t THREADS]
if(TARGET trustchain-resolver AND TARGET tc_doq_client)
  tc_add_cunit(test_resolver_doq SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_resolver_doq.c
               LIBS tc_test_support tc_doq_client tc_common PkgConfig::OPENSSL ARGS ${CMAKE_BINARY_DIR}/bin)
  add_dependencies(test_resolver_doq trustchain-resolver trustchain-signer trustchainctl)
  set_tests_properties(test_resolver_doq PROPERTIES TIMEOUT 180)

  file(GLOB TC_DNS_PRINT_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/dns_msg/*)
  tc_add_fuzz(fuzz_dns_print SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_dns_print.c
              LIBS tc_doq_client SEEDS ${TC_DNS_PRINT_SEEDS})
  # The printer's RDATA buffer is kept for the run (see the target's comment).
  target_link_options(fuzz_dns_print PRIVATE -Wl,--wrap=malloc -Wl,--wrap=free)
endif()

# The listener's connection ID map and deadline heap (plain data structures).
if(TARGET trustchain-resolver)
  tc_add_cunit(test_quic_structs SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_quic_structs.c
               ${CMAKE_SOURCE_DIR}/src/resolver/quic_cid_map.c ${CMAKE_SOURCE_DIR}/src/resolver/quic_timer_heap.c
               LIBS tc_common)
endif()

if(TARGET tc_doq_client)
  add_executable(bench_doq ${CMAKE_SOURCE_DIR}/tests/bench/bench_doq.c)
  tc_target_defaults(bench_doq)
  target_link_libraries(bench_doq PRIVATE tc_doq_client tc_common Threads::Threads)
endif()
