# tc_add_cunit(<name> <sources...> LIBS <libs...>): a CUnit test binary under ctest.
function(tc_add_cunit name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  tc_target_defaults(${name})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CUNIT)
  add_test(NAME ${name} COMMAND ${name})
endfunction()
