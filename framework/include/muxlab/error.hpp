#pragma once
// Portable error codes. Every backend and Net maps its native errors (errno, WSAGetLastError)
// onto these, so a test compares `result.error() == Errc::would_block` on any platform. A native
// error with no portable meaning is `other`, and its Error's detail keeps the native number and
// text ("errno 5 (Input/output error)"), so nothing is hidden. Codes are only ever appended:
// their numbers are stable.
#include <string>
#include <system_error>

namespace muxlab {

enum class Errc {
  would_block = 1,      // EAGAIN / EWOULDBLOCK / WSAEWOULDBLOCK on a data call
  in_progress,          // a non-blocking connect has started
  already_in_progress,  // connect called again before the first one finished
  already_connected,    // connect on a connected socket
  not_connected,        // data call on a socket that never connected
  connection_refused,   // nothing listens at the address
  connection_reset,     // the peer aborted (RST)
  broken_pipe,          // send after the connection was shut or reset
  shut_down,            // send after a local shutdown (Winsock's WSAESHUTDOWN)
  address_in_use,       // bind to a taken port
  bad_handle,           // not an open socket, or closed underneath the caller
  too_many_handles,     // a process or backend handle limit
  already_registered,   // Backend::add of a handle that is registered
  not_registered,       // Backend::modify/remove of a handle that is not
  unsupported,          // the backend has no such mode (edge-triggered on poll, ...)
  invalid_argument,     // a value the call cannot take
  timed_out,            // a connect that the network gave up on
  no_resources,         // ENOBUFS / ENOMEM
  not_permitted,        // EPERM / EACCES: a firewall rule, a privileged port, a broadcast
  connection_aborted,   // the local stack gave the connection up (ECONNABORTED: accept of one
                        // that died in the queue; WSAECONNABORTED: a timeout on an established one)
  unreachable,          // no route to the network or host, or the network is down
  address_not_available,  // bind/connect to an address this host does not have, or no free port
  other,                  // a native error with no portable meaning: see the Error's detail
};

const std::error_category& muxlab_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), muxlab_category()};
}

// The short stable name of a code ("would_block"), as scripts and traces spell it.
std::string error_name(std::error_code code);

// An error with the context that makes it actionable: which handle, which limit, which call.
struct Error {
  std::error_code code;
  std::string detail;  // may be empty; otherwise a whole sentence fragment naming the culprit

  Error() = default;
  Error(std::error_code c, std::string d = {}) : code(c), detail(std::move(d)) {}
  Error(Errc e, std::string d = {}) : code(make_error_code(e)), detail(std::move(d)) {}

  // "too_many_handles: fd 1030 is over select's limit ..." (the name, then the detail if any).
  std::string message() const;
  friend bool operator==(const Error& a, Errc e) { return a.code == make_error_code(e); }
};

}  // namespace muxlab

template <>
struct std::is_error_code_enum<muxlab::Errc> : std::true_type {};
