# Cross-compiles muxlab for 64-bit Windows with mingw-w64 on Linux, and runs what it builds
# (tests, gtest discovery) under Wine. Debian packages: g++-mingw-w64-x86-64-posix (the posix
# thread model, which std::thread needs), wine64, wine. Used by the `mingw` preset and
# .ci/wine-tests; see docs/windows.md.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(MUXLAB_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${MUXLAB_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${MUXLAB_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${MUXLAB_MINGW_TRIPLE}-windres)

# Libraries, headers and packages come from the mingw sysroot only, never from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${MUXLAB_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained executables: no libstdc++/libgcc/libwinpthread DLLs to put on Wine's path.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Run the .exe files under Wine, with a prefix of their own inside the build folder and Wine's
# debug channels off. No Mono or Gecko: nothing here needs them, and their installers would ask.
# Address-space randomisation off (setarch -R, util-linux): Debian's Wine has no preloader to
# reserve the addresses Windows fixes, so about one process in 2 000 found something mapped where
# the shared user data must go and exited at once, status 1, silently ("failed to map the shared
# user data: c0000018" with Wine's err channel on). Without randomisation: none in 5 000.
find_program(MUXLAB_WINE NAMES wine wine64 PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
find_program(MUXLAB_SETARCH NAMES setarch NO_CMAKE_FIND_ROOT_PATH)
if(MUXLAB_WINE)
  set(_muxlab_fixed_layout "")
  if(MUXLAB_SETARCH)
    set(_muxlab_fixed_layout ${MUXLAB_SETARCH} x86_64 -R)
  endif()
  set(CMAKE_CROSSCOMPILING_EMULATOR
      ${_muxlab_fixed_layout} env WINEPREFIX=${CMAKE_BINARY_DIR}/wineprefix WINEDEBUG=-all
      WINEDLLOVERRIDES=mscoree,mshtml= ${MUXLAB_WINE})
endif()
