# Warnings and sanitizers applied to every Ocular target through ocular_options.
add_library(ocular_options INTERFACE)
target_compile_options(ocular_options INTERFACE
  -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
# OCULAR_SOURCE_DIR is defined only where it is used (test support, benches, `gen`): an
# absolute path in every compile command would defeat ccache across checkouts.

if(OCULAR_SANITIZE STREQUAL "address")
  set(_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_compile_options(ocular_options INTERFACE ${_san})
  target_link_options(ocular_options INTERFACE ${_san})
  target_compile_definitions(ocular_options INTERFACE OCULAR_ASAN=1)
elseif(OCULAR_SANITIZE STREQUAL "thread")
  set(_san -fsanitize=thread -fno-omit-frame-pointer)
  target_compile_options(ocular_options INTERFACE ${_san})
  target_link_options(ocular_options INTERFACE ${_san})
  target_compile_definitions(ocular_options INTERFACE OCULAR_TSAN=1)
endif()

if(OCULAR_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "OCULAR_FUZZ needs clang (use the fuzz preset)")
  endif()
  target_compile_options(ocular_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(ocular_options INTERFACE -fsanitize=address,undefined)
  target_compile_definitions(ocular_options INTERFACE OCULAR_FUZZING=1)
endif()
