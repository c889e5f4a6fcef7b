# trustchain-validator (src/acme/validator*): target policy and wire
# protocol, the three challenge checks over loopback against real servers in
# the test (HTTP, TLS with acme-tls/1, UDP DNS), the link between the client
# and the server loop, and fuzz targets for every decoder of untrusted bytes.
if(TARGET tc_validator_core)
  tc_add_cunit(test_validator_policy SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_validator_policy.c
               LIBS tc_validator_core)
endif()
if(TARGET tc_validator_core)
  # Real servers on loopback ports: run inside `unshare -n` by hand; under
  # ctest ephemeral ports keep runs apart.
  tc_add_cunit(test_validator_checks SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_validator_checks.c
               ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_validator_responders.c LIBS tc_validator_core)
endif()
if(TARGET tc_validator_core)
  tc_add_cunit(test_validator_link SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_validator_link.c
               ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_validator_responders.c LIBS tc_validator_core tc_validator_client)
endif()
if(TARGET tc_validator_core)
  # Every decoder of bytes from the other side: link frames both ways, DNS
  # answers and the resolver setting. Seeds under tests/data/fuzz/validator_*/.
  file(GLOB TC_FUZZ_VREQ_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/data/fuzz/validator_request/*)
  tc_add_fuzz(fuzz_validator_request SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_validator_request.c
              LIBS tc_validator_proto SEEDS ${TC_FUZZ_VREQ_SEEDS})
  file(GLOB TC_FUZZ_VDNS_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/data/fuzz/validator_dns/*)
  tc_add_fuzz(fuzz_validator_dns SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_validator_dns.c
              LIBS tc_validator_core SEEDS ${TC_FUZZ_VDNS_SEEDS})
endif()
if(TARGET tc_validator_core)
  tc_add_cunit(test_validator_sandbox SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_validator_sandbox.c
               ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_validator_responders.c LIBS tc_validator_core)
endif()
if(TARGET trustchain-validator)
  tc_add_cunit(test_validator_process SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_validator_process.c
               ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_validator_responders.c LIBS tc_validator_core tc_validator_client
               ARGS $<TARGET_FILE:trustchain-validator>)
endif()
