# bench_long_video: windowed analysis of a generated clip (time to the first window result and
# total) against one request that samples the whole clip (docs/long-video.md).
if(TARGET ocular_analysis_test_video)
  add_executable(bench_long_video ${CMAKE_CURRENT_LIST_DIR}/long_video_bench.cc)
  target_link_libraries(bench_long_video PRIVATE ocular_options ocular_analysis ocular_analysis_test_video
    CLI11::CLI11 nlohmann_json::nlohmann_json)
endif()
