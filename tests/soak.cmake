# Resilience (issue 16): the chaos soak (tests/soak/chaos.sh: mixed load
# while a random child is killed every 5-20 s, then everything acknowledged
# is checked), full disk and clock jumps. Label "soak": exclude locally with
# `ctest -LE soak`; CI runs them in their short form. The long form:
#   BINDIR=build/bin tests/soak/chaos.sh 30
if(TARGET trustchain-server AND TARGET trustchain-gateway AND TARGET trustchain-transparency
   AND TARGET trustchain-resolver)
  add_test(NAME soak_chaos COMMAND ${CMAKE_SOURCE_DIR}/tests/soak/chaos.sh 2)
  set_tests_properties(soak_chaos PROPERTIES ENVIRONMENT "BINDIR=${CMAKE_BINARY_DIR}/bin"
                       TIMEOUT 900 LABELS "soak;integration")
endif()
if(TARGET trustchain-server AND TARGET trustchain-gateway AND TARGET trustchain-transparency
   AND TARGET trustchain-resolver)
  add_test(NAME full_disk_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/full_disk_test.sh
           ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
  set_tests_properties(full_disk_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600 LABELS "soak;integration")
endif()
if(TARGET trustchain-server AND TARGET trustchain-gateway AND TARGET trustchain-transparency
   AND TARGET trustchain-resolver)
  add_test(NAME clock_jump_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/clock_jump_test.sh
           ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
  set_tests_properties(clock_jump_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS "soak;integration")
endif()
# Connection floods, short form (idle TLS to the gateway, DoQ, slowloris on
# the CT HTTP listener): RSS before/during, new clients served. The long
# form: BINDIR=build/bin TC_FLOOD_IDLE_S=300 tests/soak/flood.sh 10000 4096 2000 (idle
# connections held long enough for the gateway cap to be reached).
if(TARGET trustchain-server AND TARGET trustchain-gateway AND TARGET bench_doq)
  add_test(NAME soak_flood COMMAND ${CMAKE_SOURCE_DIR}/tests/soak/flood.sh 500 256 300)
  set_tests_properties(soak_flood PROPERTIES ENVIRONMENT "BINDIR=${CMAKE_BINARY_DIR}/bin"
                       TIMEOUT 900 LABELS "soak;integration")
endif()
