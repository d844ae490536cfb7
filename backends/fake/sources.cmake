# The fake kernel's sources, compiled into muxlab::core (it has no platform headers).
set(MUXLAB_FAKE_SOURCES
  personality.cpp
  loopback.cpp
  fake_kernel.cpp
  ready_list_backend.cpp
  scanning_backend.cpp
  fake_environment.cpp
)
