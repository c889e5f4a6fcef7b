# trustchain-acme: the RFC 8555 server. Everything but main.c goes into
# tc_acme_core so the unit tests and fuzz targets link the request code
# directly. The validator's files (validator*.c, challenge_*.c) belong to
# validator.cmake; the client side of its link (validator_client.c) is
# compiled in here when it exists.
if(NOT GRPC_FOUND OR NOT MHD_FOUND OR NOT LEVELDB_LIB)
  message(STATUS "trustchain-acme needs gRPC, libmicrohttpd and LevelDB: not built")
  return()
endif()

file(GLOB TC_ACME_SRCS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
list(FILTER TC_ACME_SRCS EXCLUDE REGEX "/(main|validator[^/]*|challenge_[^/]*)\\.c$")
# The gateway's PKCS#10 checks (proof of possession, key types, requested
# names), the same code Issue runs: finalize answers badCSR with its verdict.
list(APPEND TC_ACME_SRCS ${CMAKE_SOURCE_DIR}/src/gateway/csr.c)

add_library(tc_acme_core STATIC ${TC_ACME_SRCS})
tc_target_defaults(tc_acme_core)
target_include_directories(tc_acme_core PUBLIC ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/include)
target_include_directories(tc_acme_core SYSTEM PUBLIC ${LEVELDB_INCLUDE})
target_link_libraries(tc_acme_core PUBLIC tc_common tc_http_strict_mhd trustchain PkgConfig::MHD
                      PkgConfig::JANSSON PkgConfig::OPENSSL ${LEVELDB_LIB} Threads::Threads)

# The validator client (validator_client.c) is built by validator.cmake,
# included after this file: the executable is defined once both are read,
# linked with whichever library of this directory compiles that file.
function(tc_acme_add_executable)
  get_property(targets DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} PROPERTY BUILDSYSTEM_TARGETS)
  set(vclient "")
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    get_target_property(srcs ${t} SOURCES)
    if(type STREQUAL "STATIC_LIBRARY" AND srcs MATCHES "validator_client\\.c")
      set(vclient ${t})
    endif()
  endforeach()
  if(NOT vclient)
    message(STATUS "trustchain-acme: no library builds validator_client.c yet: not built")
    return()
  endif()
  add_executable(trustchain-acme ${CMAKE_CURRENT_SOURCE_DIR}/main.c)
  tc_target_defaults(trustchain-acme)
  target_link_libraries(trustchain-acme PRIVATE tc_acme_core ${vclient})
endfunction()
cmake_language(DEFER CALL tc_acme_add_executable)
