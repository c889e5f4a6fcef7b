# Privilege separation played from the attacker's side: a probe that
# confines itself like a taken-over child and tries to reach what it must
# not (the PIN, the token, the journal, another child's store, the signer's
# memory, the network from the signer).
add_executable(sandbox_probe ${CMAKE_SOURCE_DIR}/tests/support/sandbox_probe.c
               ${CMAKE_SOURCE_DIR}/src/server/privdrop.c)
tc_target_defaults(sandbox_probe)
target_link_libraries(sandbox_probe PRIVATE tc_common)

add_test(NAME privsep_attack_test
         COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/privsep_attack_test.sh ${CMAKE_BINARY_DIR}/bin)
set_tests_properties(privsep_attack_test PROPERTIES SKIP_RETURN_CODE 77)

# The README's run command from a checkout below a 0700 directory with
# spaces in its path (builds a second, release tree: a few minutes).
add_test(NAME checkout_anywhere_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/checkout_anywhere_test.sh)
set_tests_properties(checkout_anywhere_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1800)
