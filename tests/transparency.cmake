# Tests of the CT log core (src/transparency): Merkle maths, RFC 6962
# encodings, the LevelDB store; plus the store benchmark (not a test).
if(TARGET tc_ct_core)
  tc_add_cunit(test_merkle SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_merkle.c
               ${CMAKE_CURRENT_SOURCE_DIR}/support/merkle_reference.c LIBS tc_ct_core)
  tc_add_cunit(test_ct_encode SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ct_encode.c LIBS tc_ct_core)
  tc_add_cunit(test_ct_store SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ct_store.c
               ${CMAKE_CURRENT_SOURCE_DIR}/support/merkle_reference.c LIBS tc_ct_core)

  tc_add_cunit(test_chain_check SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_chain_check.c
               ${CMAKE_CURRENT_SOURCE_DIR}/support/test_ca.c LIBS tc_ct_core)

  # Temporal shards (ct.logs): config, notAfter, shard selection, window refusal.
  # ct_ops.c (the log's window check) and what it calls are built into
  # trustchain-transparency only: compiled in here.
  tc_add_cunit(test_ct_shard SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ct_shard.c
               ${CMAKE_CURRENT_SOURCE_DIR}/support/test_ca.c ${CMAKE_SOURCE_DIR}/src/transparency/ct_ops.c
               ${CMAKE_SOURCE_DIR}/src/transparency/sequencer.c ${CMAKE_SOURCE_DIR}/src/transparency/log_signer.c
               ${CMAKE_SOURCE_DIR}/src/transparency/sct.c LIBS tc_ct_core)

  file(GLOB TC_CHAIN_CHECK_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/data/fuzz/chain_check/*)
  tc_add_fuzz(fuzz_chain_check SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_chain_check.c
              ${CMAKE_CURRENT_SOURCE_DIR}/support/test_ca.c LIBS tc_ct_core SEEDS ${TC_CHAIN_CHECK_SEEDS})
  target_include_directories(fuzz_chain_check PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})

  file(GLOB TC_CT_ENCODE_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/data/fuzz/ct_encode/*)
  tc_add_fuzz(fuzz_ct_encode SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_ct_encode.c
              LIBS tc_ct_core SEEDS ${TC_CT_ENCODE_SEEDS})

  add_executable(bench_ct_store ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_ct_store.c)
  tc_target_defaults(bench_ct_store)
  target_link_libraries(bench_ct_store PRIVATE tc_ct_core)
  set_target_properties(bench_ct_store PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
endif()

# static-ct-api (C2SP): tile paths, signed notes, checkpoints, the tile
# publisher over a real store; fuzz targets for what monitors parse.
if(TARGET tc_ct_core)
  tc_add_cunit(test_static_ct SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_static_ct.c LIBS tc_ct_core)
endif()
if(TARGET tc_ct_core)
  tc_add_cunit(test_tile_publisher SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_tile_publisher.c
               ${CMAKE_CURRENT_SOURCE_DIR}/support/merkle_reference.c LIBS tc_ct_core)
endif()
if(TARGET tc_ct_core)
  file(GLOB TC_STATIC_CT_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/data/fuzz/static_ct/*)
  tc_add_fuzz(fuzz_static_ct SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_static_ct.c
              LIBS tc_ct_core SEEDS ${TC_STATIC_CT_SEEDS})
endif()
tc_add_cunit(test_ct_tiles_sandbox SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ct_tiles_sandbox.c LIBS tc_common)

# Bench helper (not a test): a synthetic static-ct-api log of N entries for
# timing trustchainctl ct monitor from a cold start (README, CT section).
#   build/bin/ct_synth_log DIR [entries=1000000] [cert_bytes=700]
if(TARGET tc_ct_core)
  add_executable(ct_synth_log ${CMAKE_CURRENT_SOURCE_DIR}/bench/ct_synth_log.c)
  tc_target_defaults(ct_synth_log)
  target_link_libraries(ct_synth_log PRIVATE tc_ct_core)
  set_target_properties(ct_synth_log PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
endif()
# ... and its server: the log's own read path (tile_http.c) over DIR.
#   build/bin/ct_tiles_server DIR PORT
if(TARGET tc_ct_core AND MHD_FOUND)
  add_executable(ct_tiles_server ${CMAKE_CURRENT_SOURCE_DIR}/bench/ct_tiles_server.c
                 ${CMAKE_SOURCE_DIR}/src/transparency/tile_http.c)
  tc_target_defaults(ct_tiles_server)
  target_link_libraries(ct_tiles_server PRIVATE tc_ct_core PkgConfig::MHD)
  set_target_properties(ct_tiles_server PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
endif()
# Both driven by tests/bench/bench_ct_monitor.sh BINDIR [ENTRIES] [DIR]: the
# monitor's catch-up over ENTRIES (10^6) from a cold start, entries/s of wall
# clock and per second of the monitor's own CPU, in one run (Release build).
