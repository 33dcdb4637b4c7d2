# libFuzzer target for the safetensors reader: only with clang and -DCTCIR_FUZZ=ON (not a
# ctest test: it runs until stopped). With gcc, or without the option, this does nothing.
option(CTCIR_FUZZ "Build libFuzzer targets (clang only)" OFF)
if(CTCIR_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  # The reader's own sources are compiled into the target so that they carry coverage.
  add_executable(fuzz_safetensors
    ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_safetensors.c
    ${PROJECT_SOURCE_DIR}/src/io/safetensors_read.c
    ${PROJECT_SOURCE_DIR}/src/core/status.c)
  target_include_directories(fuzz_safetensors PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(fuzz_safetensors PRIVATE -fsanitize=fuzzer,address,undefined -g)
  target_link_options(fuzz_safetensors PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_safetensors PRIVATE PkgConfig::CJSON m)
elseif(CTCIR_FUZZ)
  message(STATUS "CTCIR_FUZZ: libFuzzer targets need clang; skipped with ${CMAKE_C_COMPILER_ID}")
endif()
