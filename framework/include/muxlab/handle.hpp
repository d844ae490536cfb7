#pragma once
// A socket handle as the operating system names it: an int file descriptor on POSIX and in the
// fake kernel, a SOCKET (an unsigned pointer-sized integer) on Windows.
#include <cstdint>

namespace muxlab {

#if defined(_WIN32)
using Handle = std::uintptr_t;
#else
using Handle = int;
#endif

inline constexpr Handle invalid_handle = static_cast<Handle>(-1);

}  // namespace muxlab
