# HSM faults (issue 16, part 4): our PKCS#11 shim wrapping SoftHSM
# (tests/support/pkcs11_fault.c, lib/pkcs11_fault.so) and the test that runs
# the dev server on it while faults come and go.
add_library(tc_pkcs11_fault MODULE ${CMAKE_SOURCE_DIR}/tests/support/pkcs11_fault.c)
tc_target_defaults(tc_pkcs11_fault)
target_link_libraries(tc_pkcs11_fault PRIVATE PkgConfig::P11KIT Threads::Threads ${CMAKE_DL_LIBS})
set_target_properties(tc_pkcs11_fault PROPERTIES PREFIX "" OUTPUT_NAME pkcs11_fault
                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

if(TARGET trustchain-server AND TARGET trustchain-gateway AND TARGET trustchainctl)
  add_test(NAME hsm_fault_test COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/hsm_fault_test.sh
           ${CMAKE_BINARY_DIR}/bin $<TARGET_FILE:tc_pkcs11_fault> ${CMAKE_SOURCE_DIR})
  set_tests_properties(hsm_fault_test PROPERTIES TIMEOUT 600)
endif()

# tc_hsm_open's refusals on a real SoftHSM token (no crash on a failed module load).
tc_add_cunit(test_hsm_open SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_hsm_open.c LIBS tc_signer_core)
