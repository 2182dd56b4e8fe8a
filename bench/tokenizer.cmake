# bench_tokenizer: tokenizer load time and encode/decode throughput (MB/s) on a generated
# mixed-language text (prose, code, CJK, emoji, numbers).
add_executable(bench_tokenizer ${CMAKE_CURRENT_LIST_DIR}/tokenizer_bench.cc)
target_link_libraries(bench_tokenizer PRIVATE ocular_tokenizer)
# The default model is the tiny-a checkpoint of the golden data beside the source tree.
target_compile_definitions(bench_tokenizer PRIVATE OCULAR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
