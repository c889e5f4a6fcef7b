# Resolver core (src/resolver, library tc_dns_core): wire format, zone,
# answer function, DoQ framing, and fuzz targets for the three parsers.
if(TARGET tc_dns_core)
  tc_add_cunit(test_dns_wire SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dns_wire.c LIBS tc_dns_core)
  tc_add_cunit(test_dns_zone SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dns_zone.c LIBS tc_dns_core)
  target_compile_definitions(test_dns_zone PRIVATE TC_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data")
  tc_add_cunit(test_dns_answer SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dns_answer.c LIBS tc_dns_core)

  file(GLOB TC_DNS_MSG_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/dns_msg/*)
  file(GLOB TC_DOQ_FRAME_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/doq_frame/*)
  file(GLOB TC_ZONE_FILE_SEEDS ${CMAKE_SOURCE_DIR}/tests/data/fuzz/zone_file/*
                               ${CMAKE_SOURCE_DIR}/tests/data/zones/*)
  tc_add_fuzz(fuzz_dns_msg SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_dns_msg.c
              LIBS tc_dns_core SEEDS ${TC_DNS_MSG_SEEDS})
  tc_add_fuzz(fuzz_doq_frame SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_doq_frame.c
              LIBS tc_dns_core SEEDS ${TC_DOQ_FRAME_SEEDS})
  tc_add_fuzz(fuzz_zone_file SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_zone_file.c
              LIBS tc_dns_core SEEDS ${TC_ZONE_FILE_SEEDS})
endif()
