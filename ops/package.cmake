# Install rules and the Debian package: `cpack -G DEB` in a Release build
# directory (cmake -DCMAKE_BUILD_TYPE=Release -DTC_SANITIZE=OFF) makes
# trustchain_<version>_<arch>.deb. README "Operating" says how to use it.
#
# Every program goes to /usr/lib/trustchain: trustchain-server starts its
# children from the directory it runs from, so they stay together and off
# PATH; /usr/bin has links to the server and trustchainctl only.
include(GNUInstallDirs)
set(TC_LIBEXEC lib/trustchain)
foreach(t trustchain-server trustchain-signer trustchain-transparency trustchain-resolver
          trustchain-gateway trustchain-acme trustchain-validator trustchain-metrics trustchainctl)
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION ${TC_LIBEXEC})
  endif()
endforeach()
install(CODE "
  file(MAKE_DIRECTORY \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/bin\")
  execute_process(COMMAND ${CMAKE_COMMAND} -E create_symlink ../${TC_LIBEXEC}/trustchain-server
                  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/bin/trustchain-server\")
  execute_process(COMMAND ${CMAKE_COMMAND} -E create_symlink ../${TC_LIBEXEC}/trustchainctl
                  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/bin/trustchainctl\")")
# The users: ops/create-users.sh is the one list (also run by ops/setup.sh).
install(PROGRAMS ${CMAKE_SOURCE_DIR}/ops/create-users.sh DESTINATION ${TC_LIBEXEC})
# Absolute paths below: the package installs with prefix /usr, and these
# belong where Debian and systemd look for them.
install(FILES ${CMAKE_SOURCE_DIR}/ops/systemd/trustchain.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/ops/trustchain.yaml.example DESTINATION /etc/trustchain RENAME trustchain.yaml
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${CMAKE_SOURCE_DIR}/ops/trustchain.yaml.example ${CMAKE_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/hsm/CEREMONY.md ${CMAKE_SOURCE_DIR}/hsm/softhsm2.conf.template
        DESTINATION ${CMAKE_INSTALL_DATADIR}/trustchain/hsm)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME trustchain)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "TrustChain operators <ops@hypermesh.online>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Certificate authority with HSM keys, Certificate Transparency log and DNS-over-QUIC resolver")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Library dependencies from the binaries themselves (dpkg-shlibdeps); the
# users are made with useradd (passwd), SoftHSM is the default PKCS#11 module.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd, adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "softhsm2, opensc")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/ops/debian/postinst ${CMAKE_SOURCE_DIR}/ops/debian/prerm
    ${CMAKE_SOURCE_DIR}/ops/debian/postrm ${CMAKE_SOURCE_DIR}/ops/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
