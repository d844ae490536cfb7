#pragma once
// What the Win32 backends share: Winsock start-up, WSAGetLastError → portable errors, and the
// factories the registry calls. Internal to backends/win32. No Windows header here: select.cpp
// must define FD_SETSIZE before it includes <winsock2.h>, so each file includes that itself.
#include <memory>
#include <string>
#include <system_error>

#include "muxlab/backend.hpp"
#include "muxlab/net.hpp"

namespace muxlab::win32 {

// WSAStartup(2.2), once per process, on first use (thread-safe: a function-local static).
// Returns WSAStartup's result: 0 when Winsock is usable. Never undone: the process's exit does it.
int start_winsock();

// A WSAGetLastError() value → its portable Errc (winsock_error.cpp lists them); Errc::other for
// one with no portable meaning. Always in muxlab_category. WSAEWOULDBLOCK is would_block here;
// connect turns it into in_progress itself.
std::error_code error_from_wsa(int err);

// An Error carrying the code's portable meaning and "what failed" (e.g. "send socket 260"); for
// Errc::other, the detail adds the Winsock code and its text.
Error wsa_error(int err, std::string what);

// Wine's ntdll exports wine_get_version; Windows' does not.
bool running_under_wine();

Result<std::unique_ptr<Backend>> make_select_backend();
std::unique_ptr<Net> make_winsock_net();

}  // namespace muxlab::win32
