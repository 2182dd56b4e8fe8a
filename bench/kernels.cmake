# bench_kernels: GEMV GB/s per weight dtype against the measured memory read bandwidth, and
# large-matmul GFLOP/s (oneDNN) against the measured FMA peak.
add_executable(bench_kernels ${CMAKE_CURRENT_LIST_DIR}/kernels_bench.cc)
target_link_libraries(bench_kernels PRIVATE ocular_kernels)
