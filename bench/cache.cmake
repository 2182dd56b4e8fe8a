# bench_cache: KV cache bookkeeping (prefix keys vs raw SHA-256, pool, whole request life).
if(TARGET ocular_cache)
  add_executable(bench_cache ${CMAKE_CURRENT_LIST_DIR}/cache_bench.cc)
  target_link_libraries(bench_cache PRIVATE ocular_options ocular_cache)
endif()
