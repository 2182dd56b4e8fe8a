# bench_media: media decode+preprocess against a Pillow baseline (bench/media_bench.cc).
if(TARGET ocular_media_test_images)
  add_executable(bench_media ${CMAKE_CURRENT_LIST_DIR}/media_bench.cc)
  target_link_libraries(bench_media PRIVATE ocular_options ocular_media ocular_media_test_images ocular_media_test_clip
    nlohmann_json::nlohmann_json PkgConfig::TURBOJPEG PkgConfig::LIBAV)
  target_compile_definitions(bench_media PRIVATE OCULAR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
