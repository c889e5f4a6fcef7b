# trustchainctl dns export against the whole server, checked by Knot's
# kzonecheck and ldns-verify-zone (tests/integration/dns_export_test.sh).
if(TARGET trustchain-resolver AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME dns_export_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dns_export_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dns_export_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()

# IXFR deltas (src/resolver/ixfr_log.c): the delta reader, the log and the
# IXFR answer written from it, and the differ, on arbitrary bytes.
if(TARGET tc_dns_core)
  file(GLOB TC_IXFR_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/ixfr/* ${CMAKE_SOURCE_DIR}/tests/data/fuzz/update/*)
  tc_add_fuzz(fuzz_ixfr SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_ixfr.c
              LIBS tc_dns_core SEEDS ${TC_IXFR_SEEDS})
endif()

# SIGHUP reloads the zone in the resolver without dropping DoQ connections
# (tests/integration/dns_reload_test.sh; bench_doq holds the connections).
if(TARGET trustchain-resolver AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME dns_reload_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dns_reload_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dns_reload_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()

# RFC 2136 update load generator (prints figures; not a test):
#   build/bin/bench_dns_update ADDR PORT ZONE KEYFILE KEYNAME [-c clients] [-d seconds]
# tests/bench/bench_dns_update.sh runs it against a whole server with the UDP
# query rate in the same run.
if(TARGET tc_dns_core)
  add_executable(bench_dns_update ${CMAKE_SOURCE_DIR}/tests/bench/bench_dns_update.c)
  tc_target_defaults(bench_dns_update)
  target_link_libraries(bench_dns_update PRIVATE tc_dns_core Threads::Threads)
endif()

# SIGHUP to trustchain-server: a zone-only change is handed to the running
# resolver (no restart, DoQ connection held by doq_hold across it).
if(TARGET trustchain-server AND TARGET tc_doq_client)
  add_executable(doq_hold ${CMAKE_SOURCE_DIR}/tests/integration/doq_hold.c)
  tc_target_defaults(doq_hold)
  target_link_libraries(doq_hold PRIVATE tc_doq_client tc_common)
  add_test(NAME dns_hup_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dns_hup_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dns_hup_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()

# IXFR across a restart of the resolver (src/resolver/zone_state.h): the
# chain and the signatures saved at a clean stop, AXFR after kill -9.
if(TARGET trustchain-resolver AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME dns_ixfr_restart_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dns_ixfr_restart_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dns_ixfr_restart_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()

# The restart state reader (src/resolver/zone_state.c) on arbitrary bytes.
if(TARGET tc_dns_core)
  file(GLOB TC_ZONE_STATE_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/zone_state/*)
  tc_add_fuzz(fuzz_zone_state SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_zone_state.c
              LIBS tc_dns_core SEEDS ${TC_ZONE_STATE_SEEDS})
endif()

# The zone serial's floor across unclean stops (resolver/serial_floor.h).
if(TARGET tc_dns_core)
  tc_add_cunit(test_serial_floor SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_serial_floor.c LIBS tc_dns_core)
endif()

# Zone journal compaction and the bounded IXFR history (update_fold.c,
# zone_journal.c, ixfr_log.c).
if(TARGET tc_dns_core)
  tc_add_cunit(test_zone_compact SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_zone_compact.c LIBS tc_dns_core)
  # The IXFR delta reader refuses meta types (found by fuzz_ixfr).
  tc_add_cunit(test_ixfr_check SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ixfr_check.c LIBS tc_dns_core)
endif()
if(TARGET trustchain-server AND TARGET bench_dns_update)
  add_test(NAME dns_journal_compact_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dns_journal_compact_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dns_journal_compact_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 400)
endif()

# Rollover timing (dnssec_roll.c): the plans against a model of validator
# caches, never bogus, and bogus when taken early.
if(TARGET tc_dns_core)
  tc_add_cunit(test_dnssec_roll SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_dnssec_roll.c LIBS tc_dns_core)
endif()
