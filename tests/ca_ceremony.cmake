# Name-constrained intermediate (issue 14 part 6): leaves forged with the
# intermediate's key (ca_forge_leaf, test-only) outside its nameConstraints
# are refused by openssl verify.
if(TARGET trustchainctl)
  add_executable(ca_forge_leaf ${CMAKE_SOURCE_DIR}/tests/integration/ca_forge_leaf.c
                 ${CMAKE_SOURCE_DIR}/tests/support/ca_key_direct.c)
  tc_target_defaults(ca_forge_leaf)
  target_include_directories(ca_forge_leaf PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(ca_forge_leaf PRIVATE tc_signer_core tc_common)
  add_test(NAME ca_name_constraints_test
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/ca_name_constraints_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(ca_name_constraints_test PROPERTIES TIMEOUT 300 LABELS integration)
endif()

# CA key rollover ceremonies (issue 14 part 8): old/new trust stores.
if(TARGET trustchainctl)
  add_test(NAME ca_rollover_test
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/ca_rollover_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(ca_rollover_test PROPERTIES TIMEOUT 300 LABELS integration)
endif()
