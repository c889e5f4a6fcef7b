# The resolver process (src/resolver listeners) end to end under the
# supervisor, with dig; and the UDP load generator (prints figures, not a test):
#   build/bin/bench_dns_udp 127.0.0.1 PORT [-s sockets] [-d seconds] [-w window] [-n name]
if(TARGET trustchain-resolver)
  add_test(NAME dns_process_test
           COMMAND ${CMAKE_SOURCE_DIR}/tests/integration/dns_process_test.sh ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(dns_process_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()

add_executable(bench_dns_udp ${CMAKE_SOURCE_DIR}/tests/bench/bench_dns_udp.c)
tc_target_defaults(bench_dns_udp)
