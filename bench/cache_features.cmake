# bench_feature_cache: vision feature cache end to end (cold vs cached time to first token for a
# 1280x720 screenshot; encoder time on a workload with 60% repeated images).
if(TARGET ocular_server AND TARGET ocular_feature_cache_test_images AND TARGET ocular_media_test_images)
  add_executable(bench_feature_cache ${CMAKE_CURRENT_LIST_DIR}/cache_features_bench.cc)
  target_link_libraries(bench_feature_cache PRIVATE ocular_options ocular_server ocular_engine
    ocular_feature_cache_test_images ocular_media_test_images nlohmann_json::nlohmann_json)
endif()
