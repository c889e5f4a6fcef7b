# trustchainctl: the key ceremony end to end on a throwaway SoftHSM token
# (tests/integration/ceremony_test.sh; it needs openssl, pkcs11-tool, flock).
if(TARGET trustchainctl)
  add_test(NAME ctl_ceremony
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/ceremony_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(ctl_ceremony PROPERTIES TIMEOUT 300 LABELS integration)
endif()
