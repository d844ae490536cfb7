# The fake kernel's sources, compiled into muxlab::core (it has no platform headers).
set(MUXLAB_FAKE_SOURCES)
