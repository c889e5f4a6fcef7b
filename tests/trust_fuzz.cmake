# Fuzz targets where input crosses a trust boundary (issue 16, part 1): the
# audit journal reader, the CT store's records, our DER readers against
# OpenSSL's, and, with a real signer (SoftHSM) and CT log started in the
# fuzz process by the signer harness, every gRPC method of the gateway, the
# CT log's HTTP and IPC handlers and the signer's request handler under
# every peer. ops/fuzz.sh runs them with libFuzzer; ctest replays their
# corpora (tests/data/fuzz/<name>/) plus a few mutations with the
# stand-alone driver. Seeds: tests/fuzz/make_seeds.py.
set(TC_TF_DATA ${CMAKE_SOURCE_DIR}/tests/data/fuzz)

file(GLOB TC_FUZZ_JOURNAL_SEEDS ${TC_TF_DATA}/journal/*)
tc_add_fuzz(fuzz_journal SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_journal.c LIBS tc_common
            SEEDS ${TC_FUZZ_JOURNAL_SEEDS})

file(GLOB TC_FUZZ_DER_DIFF_SEEDS ${TC_TF_DATA}/der_diff/*)
tc_add_fuzz(fuzz_der_diff SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_der_diff.c LIBS tc_common
            SEEDS ${TC_FUZZ_DER_DIFF_SEEDS})

if(TARGET tc_ct_core)
  file(GLOB TC_FUZZ_CT_STORE_SEEDS ${TC_TF_DATA}/ct_store/*)
  tc_add_fuzz(fuzz_ct_store SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_ct_store.c LIBS tc_ct_core
              SEEDS ${TC_FUZZ_CT_STORE_SEEDS})
  # One LevelDB handle for every input: the store's open and close of it
  # are wrapped (see the target's comment).
  target_link_options(fuzz_ct_store PRIVATE -Wl,--wrap=leveldb_open -Wl,--wrap=leveldb_close)
  set_tests_properties(fuzz_ct_store PROPERTIES ENVIRONMENT TC_FUZZ_ITERATIONS=3000)
endif()

# fuzz_child.c: the child runtime in the fuzz process, linked to a harness signer.
# tc_trust_fuzz(<name> <libs> [extra sources...])
function(tc_trust_fuzz name libs)
  file(GLOB seeds ${TC_TF_DATA}/${name}/*)
  tc_add_fuzz(fuzz_${name} SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_${name}.c
              ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_child.c ${ARGN} LIBS ${libs} tc_test_support tc_common
              SEEDS ${seeds})
  target_include_directories(fuzz_${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_compile_definitions(fuzz_${name} PRIVATE TC_FUZZ_DEFAULT_BINDIR="${CMAKE_BINARY_DIR}/bin")
  add_dependencies(fuzz_${name} trustchain-signer trustchainctl trustchain-transparency)
  # A real signer per run, and each input may sign: fewer mutations.
  set_tests_properties(fuzz_${name} PROPERTIES ENVIRONMENT TC_FUZZ_ITERATIONS=2000)
endfunction()

if(TARGET tc_test_support AND TARGET trustchain-signer AND TARGET trustchainctl AND TARGET trustchain-transparency)
  if(TARGET tc_signer_core)
    tc_trust_fuzz(signer_dispatch tc_signer_core)
  endif()
  if(TARGET tc_ct_core AND MHD_FOUND)
    # The log's request handlers are built into trustchain-transparency
    # only: their sources are compiled in here (all but main.c and the
    # HTTP server itself).
    set(ct_dir ${CMAKE_SOURCE_DIR}/src/transparency)
    tc_trust_fuzz(ct_api "tc_ct_core;tc_http_strict_mhd;PkgConfig::MHD;PkgConfig::JANSSON"
                  ${ct_dir}/log_signer.c ${ct_dir}/sct.c ${ct_dir}/sequencer.c ${ct_dir}/ct_json.c
                  ${ct_dir}/ct_ops.c ${ct_dir}/ct_api.c ${ct_dir}/tile_http.c ${ct_dir}/ct_ipc.c
                  ${ct_dir}/ct_ipc_server.c)
  endif()
  if(TARGET tc_gateway_core)
    tc_trust_fuzz(gateway_rpc tc_gateway_core)
  endif()
endif()
