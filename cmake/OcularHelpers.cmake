# ocular_library(NAME SOURCES ... DEPS ...): one static library per folder under src/.
function(ocular_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ocular_options ${A_DEPS} PRIVATE ${A_PRIVATE_DEPS})
endfunction()

# ocular_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary registered with CTest.
# Tests that need ../shared/golden skip loudly when it is absent (tests/support/golden.h).
function(ocular_test name)
  cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT OCULAR_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ocular_options ocular_test_support ${A_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 600)
  endif()
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST)
  # Labels and timeout are set by a script CTest includes after the discovery script (which
  # defines ${name}_TESTS): gtest_discover_tests' PROPERTIES keeps only the first element of a
  # list value, so a test labelled "golden slow" would lose "slow".
  set(props "${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake")
  file(WRITE "${props}"
    "if(DEFINED ${name}_TESTS)\n"
    "  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS [==[${A_LABELS}]==] TIMEOUT ${A_TIMEOUT})\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${props}")
endfunction()

# ocular_fuzzer(NAME SOURCES ... DEPS ...): a libFuzzer target (only with OCULAR_FUZZ).
function(ocular_fuzzer name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT OCULAR_FUZZ)
    return()
  endif()
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ocular_options ${A_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_property(GLOBAL APPEND PROPERTY OCULAR_FUZZERS ${name})
endfunction()
