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

if(TARGET stoq-echo-server AND TARGET trustchain-server AND TARGET trustchainctl)
  add_test(NAME stoq_agent
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/stoq_agent_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(stoq_agent PROPERTIES TIMEOUT 600 LABELS integration)
endif()

# The OpenSSL hook, driven by stoq_echo_test.sh (an in-memory TLS handshake).
if(TARGET trustchain)
  add_executable(stoq_openssl_probe ${CMAKE_SOURCE_DIR}/tests/integration/stoq_openssl_probe.c)
  tc_target_defaults(stoq_openssl_probe)
  target_link_libraries(stoq_openssl_probe PRIVATE trustchain PkgConfig::OPENSSL)
  if(TARGET stoq-echo-server)
    add_dependencies(stoq-echo-server stoq_openssl_probe)
  endif()
endif()

if(TARGET trustchain AND TARGET trustchainctl)
  tc_add_cunit(test_stoq_verify SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_stoq_verify.c
               ${CMAKE_SOURCE_DIR}/tests/support/test_ca.c ${CMAKE_SOURCE_DIR}/src/ctl/agent_files.c
               LIBS trustchain tc_common)
endif()
