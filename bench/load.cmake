# bench_load: time to open and validate model files (safetensors file/folder, GGUF).
if(TARGET ocular_loader)
  add_executable(bench_load ${CMAKE_CURRENT_LIST_DIR}/load_bench.cc)
  target_link_libraries(bench_load PRIVATE ocular_options ocular_loader)
endif()
