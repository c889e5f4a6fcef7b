# STOQ integration kit (issue 15): libtrustchain's verifier and TLS hooks,
# the stoq-echo QUIC example built on them, and its end-to-end test against
# a whole dev server (tests/integration/stoq_echo_test.sh; runs inside its
# own network namespace when it can: unshare -n).
if(EXISTS ${CMAKE_SOURCE_DIR}/examples/stoq-echo/CMakeLists.txt)
  add_subdirectory(${CMAKE_SOURCE_DIR}/examples/stoq-echo ${CMAKE_BINARY_DIR}/examples/stoq-echo)
endif()

if(TARGET stoq-echo-server AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME stoq_echo
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/stoq_echo_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(stoq_echo PROPERTIES TIMEOUT 600 LABELS integration)
endif()
