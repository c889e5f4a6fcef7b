# Exact names (DESIGN.md section 5): string fields of protobuf messages
# checked on the wire before protobuf-c would cut them at a NUL
# (common/pb_strings.h), its unit test and a fuzz target that checks it
# against protobuf-c's own unpacking.
if(TARGET tc_proto_api)
  tc_add_cunit(test_pb_strings SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_pb_strings.c
               LIBS tc_common tc_proto_api)
  file(GLOB TC_FUZZ_PB_STRINGS_SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/data/fuzz/pb_strings/*)
  tc_add_fuzz(fuzz_pb_strings SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_pb_strings.c
              LIBS tc_common tc_proto_api SEEDS ${TC_FUZZ_PB_STRINGS_SEEDS})
endif()

# Strict UTF-8 shared by the signer's template checks, lint and the CT log.
tc_add_cunit(test_utf8 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_utf8.c LIBS tc_common)
tc_add_cunit(test_file_replace SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_file_replace.c LIBS tc_common)
tc_add_cunit(test_key_label SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_key_label.c LIBS tc_common)
