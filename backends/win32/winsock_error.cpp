// Winsock's error codes onto muxlab's portable ones, and Winsock's one-time start-up. The list
// covers what the calls the Win32 backend and Net make can fail with, by their Winsock reference
// pages: WSAStartup, WSASocketW, ioctlsocket, bind, listen, accept, connect, send, recv, shutdown,
// closesocket, getsockname, setsockopt and getsockopt (SO_ERROR hands back any error a connection
// can end with), select. Anything else is Errc::other, with the native number and text in the
// Error's detail.
#include <winsock2.h>

#include <fmt/format.h>

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
    case WSAEINPROGRESS:  // a blocking call is already running (never ours: every socket is
                          // non-blocking; a non-blocking connect says WSAEWOULDBLOCK)
      return Errc::already_in_progress;
    case WSAEISCONN:
      return Errc::already_connected;
    case WSAENOTCONN:
    case WSAEDESTADDRREQ:
      return Errc::not_connected;
    case WSAECONNREFUSED:
      return Errc::connection_refused;
    case WSAECONNRESET:
    case WSAENETRESET:  // keep-alive found the peer gone
      return Errc::connection_reset;
    case WSAESHUTDOWN:
      return Errc::shut_down;
    case WSAEADDRINUSE:
      return Errc::address_in_use;
    case WSAENOTSOCK:
    case WSAEBADF:
    case WSA_INVALID_HANDLE:
      return Errc::bad_handle;
    case WSAEMFILE:
      return Errc::too_many_handles;
    case WSAEOPNOTSUPP:
    case WSAEAFNOSUPPORT:
    case WSAEPROTONOSUPPORT:
    case WSAESOCKTNOSUPPORT:
    case WSAEPFNOSUPPORT:
    case WSAEPROTOTYPE:
    case WSAENOPROTOOPT:
    case WSAVERNOTSUPPORTED:  // WSAStartup: no Winsock 2.2
      return Errc::unsupported;
    case WSAEINVAL:
    case WSAEFAULT:
    case WSAEMSGSIZE:
    case WSA_INVALID_PARAMETER:
    case WSANOTINITIALISED:  // a call before WSAStartup: muxlab's own mistake if ever
      return Errc::invalid_argument;
    case WSAETIMEDOUT:
      return Errc::timed_out;
    case WSAENOBUFS:
    case WSA_NOT_ENOUGH_MEMORY:
    case WSAEPROCLIM:  // WSAStartup: too many processes use Winsock
      return Errc::no_resources;
    case WSAEACCES:
      return Errc::not_permitted;
    case WSAECONNABORTED:  // the local stack aborted it (a retransmission timeout, an abort)
      return Errc::connection_aborted;
    case WSAENETUNREACH:
    case WSAEHOSTUNREACH:
    case WSAENETDOWN:
    case WSAEHOSTDOWN:
    case WSASYSNOTREADY:  // WSAStartup: the network subsystem is not ready
      return Errc::unreachable;
    case WSAEADDRNOTAVAIL:
      return Errc::address_not_available;
    default:
      return Errc::other;
  }
}

Error wsa_error(int err, std::string what) {
  const std::error_code code = error_from_wsa(err);
  if (code == Errc::other)
    what += fmt::format(": Winsock error {} ({})", err, std::system_category().message(err));
  return {code, std::move(what)};
}

}  // namespace muxlab::win32
