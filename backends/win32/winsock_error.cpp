// Winsock's error codes onto muxlab's portable ones, and Winsock's one-time start-up.
#include <winsock2.h>

#include "win32.hpp"

namespace muxlab::win32 {

int start_winsock() {
  static const int status = [] {
    WSADATA data;
    return ::WSAStartup(MAKEWORD(2, 2), &data);
  }();
  return status;
}

std::error_code error_from_wsa(int err) {
  switch (err) {
    case WSAEWOULDBLOCK:
      return Errc::would_block;
    case WSAEALREADY:
      return Errc::already_in_progress;
    case WSAEISCONN:
      return Errc::already_connected;
    case WSAENOTCONN:
      return Errc::not_connected;
    case WSAECONNREFUSED:
      return Errc::connection_refused;
    case WSAECONNRESET:
    case WSAECONNABORTED:  // the local stack aborted it (a retransmission timeout, an abort)
    case WSAENETRESET:     // keep-alive found the peer gone
      return Errc::connection_reset;
    case WSAESHUTDOWN:
      return Errc::shut_down;
    case WSAEADDRINUSE:
      return Errc::address_in_use;
    case WSAENOTSOCK:
    case WSAEBADF:
      return Errc::bad_handle;
    case WSAEMFILE:
      return Errc::too_many_handles;
    case WSAEINVAL:
      return Errc::invalid_argument;
    case WSAETIMEDOUT:
      return Errc::timed_out;
    case WSAENOBUFS:
    case WSA_NOT_ENOUGH_MEMORY:
      return Errc::no_resources;
    default:
      return {err, std::system_category()};
  }
}

}  // namespace muxlab::win32
