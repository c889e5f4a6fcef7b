# trustchain-acme's store (src/acme/acme_store.c): the group commit that
# keeps synced LevelDB writes off the HTTP pool threads.
if(TARGET tc_acme_core)
  tc_add_cunit(test_acme_group_commit SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/acme_group_commit_test.c
               LIBS tc_acme_core)
endif()
