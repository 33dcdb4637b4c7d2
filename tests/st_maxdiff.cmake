# A test tool (not a test): the largest difference between the tensors of two safetensors
# files, for the equivalence tests of data-parallel training.
add_executable(st_maxdiff ${CMAKE_CURRENT_SOURCE_DIR}/st_maxdiff.c)
target_link_libraries(st_maxdiff PRIVATE ctcir_lib)
if(TEST test_train_mpi)
  set_property(TEST test_train_mpi APPEND PROPERTY ENVIRONMENT "ST_MAXDIFF=$<TARGET_FILE:st_maxdiff>")
endif()
