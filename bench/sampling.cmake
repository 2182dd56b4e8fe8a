# bench_sampling: microseconds per sampled token on a Qwen3-VL-sized logits row.
add_executable(bench_sampling ${CMAKE_CURRENT_LIST_DIR}/sampling_bench.cc)
target_link_libraries(bench_sampling PRIVATE ocular_sampling)
