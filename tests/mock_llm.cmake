# The mock OpenAI-compatible server of the caption-pairs tests (not a test itself).
add_executable(mock_llm_server ${CMAKE_CURRENT_SOURCE_DIR}/mock_llm_server.c)
target_compile_definitions(mock_llm_server PRIVATE _GNU_SOURCE)
target_link_libraries(mock_llm_server PRIVATE PkgConfig::CJSON Threads::Threads)
if(TEST test_caption_pairs_cli)
  set_property(TEST test_caption_pairs_cli APPEND PROPERTY ENVIRONMENT "MOCK_LLM=$<TARGET_FILE:mock_llm_server>")
endif()
