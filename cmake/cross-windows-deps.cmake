# Dependencies for a Windows cross build on Linux (cmake/mingw-w64-x86_64.cmake), where the host's
# packages hold only Linux binaries. Included by the top-level CMakeLists.txt before it looks for
# fmt and GoogleTest; each part steps aside when a Windows build of the package is found.
if(CMAKE_VERSION VERSION_LESS 3.25)  # CMAKE_FIND_PACKAGE_REDIRECTS_DIR, add_subdirectory(SYSTEM)
  message(FATAL_ERROR "a Windows cross build needs CMake 3.25 or later")
endif()

# fmt, header-only, from the host's headers (libfmt-dev). The include directory must hold fmt/
# and nothing else: fmt's own parent, /usr/include, would put glibc's headers ahead of mingw's.
# So the build folder gets a directory with one symbolic link, fmt -> /usr/include/fmt.
find_package(fmt CONFIG QUIET)
if(NOT fmt_FOUND)
  set(MUXLAB_HOST_FMT_DIR "/usr/include/fmt" CACHE PATH
      "fmt's header directory (the one holding format.h), used header-only in a cross build")
  if(NOT EXISTS "${MUXLAB_HOST_FMT_DIR}/format.h")
    message(FATAL_ERROR "cross build: no fmt headers at ${MUXLAB_HOST_FMT_DIR} "
                        "(install libfmt-dev or set MUXLAB_HOST_FMT_DIR)")
  endif()
  set(_muxlab_fmt_include "${CMAKE_BINARY_DIR}/fmt-header-only")
  file(MAKE_DIRECTORY "${_muxlab_fmt_include}")
  file(CREATE_LINK "${MUXLAB_HOST_FMT_DIR}" "${_muxlab_fmt_include}/fmt" SYMBOLIC)
  add_library(fmt::fmt INTERFACE IMPORTED GLOBAL)
  set_target_properties(fmt::fmt PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_muxlab_fmt_include}"
    INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
  message(STATUS "cross build: fmt header-only from ${MUXLAB_HOST_FMT_DIR}")
endif()

# GoogleTest and GoogleMock, built from the host's sources (libgtest-dev puts them in
# /usr/src/googletest). A redirect file makes the later find_package(GTest) find these targets.
if(MUXLAB_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  if(NOT GTest_FOUND)
    set(MUXLAB_GOOGLETEST_SOURCE_DIR "/usr/src/googletest" CACHE PATH
        "GoogleTest's source tree, built as part of a cross build")
    if(NOT EXISTS "${MUXLAB_GOOGLETEST_SOURCE_DIR}/CMakeLists.txt")
      message(FATAL_ERROR "cross build: no GoogleTest sources at ${MUXLAB_GOOGLETEST_SOURCE_DIR} "
                          "(install libgtest-dev libgmock-dev or set MUXLAB_GOOGLETEST_SOURCE_DIR)")
    endif()
    set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
    set(BUILD_GMOCK ON CACHE BOOL "" FORCE)
    add_subdirectory("${MUXLAB_GOOGLETEST_SOURCE_DIR}" "${CMAKE_BINARY_DIR}/googletest"
                     EXCLUDE_FROM_ALL SYSTEM)
    file(WRITE "${CMAKE_FIND_PACKAGE_REDIRECTS_DIR}/gtest-config.cmake"
         "# GTest::gtest and GTest::gmock come from ${MUXLAB_GOOGLETEST_SOURCE_DIR}, built here.\n")
    file(WRITE "${CMAKE_FIND_PACKAGE_REDIRECTS_DIR}/gtest-config-version.cmake"
         "set(PACKAGE_VERSION_COMPATIBLE TRUE)\n")
    message(STATUS "cross build: GoogleTest from ${MUXLAB_GOOGLETEST_SOURCE_DIR}")
  endif()
endif()
