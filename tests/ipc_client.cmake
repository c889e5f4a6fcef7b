# The pipelined IPC client (common/ipc_client.c) against a stand-in server:
# out-of-order answers, timeouts (also racing answers), late answers, close.
tc_add_cunit(test_ipc_client SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_ipc_client.c LIBS tc_common)
