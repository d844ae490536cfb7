// errno onto muxlab's portable codes. The list covers what the calls the POSIX backends and Net
// make can fail with, by their manual pages (Linux, and the BSDs' for kevent): socket, bind,
// listen, accept4/accept, connect, send, recv, shutdown, close, getsockname, setsockopt and
// getsockopt (SO_ERROR hands back any error a connection can end with), fcntl, epoll_create1,
// epoll_ctl, epoll_wait, poll, select, kqueue and kevent. Anything else is Errc::other, with the
// native number and text in the Error's detail.
#include <cerrno>

#include <fmt/format.h>

#include "posix.hpp"

namespace muxlab::posix {

std::error_code error_from_errno(int err) {
  switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
      return Errc::would_block;
    case EINPROGRESS:
      return Errc::in_progress;
    case EALREADY:
      return Errc::already_in_progress;
    case EISCONN:
      return Errc::already_connected;
    case ENOTCONN:
    case EDESTADDRREQ:  // send on a socket with no peer
      return Errc::not_connected;
    case ECONNREFUSED:
      return Errc::connection_refused;
    case ECONNRESET:
    case ENETRESET:  // keep-alive found the peer gone: the connection is dead, as after a reset
      return Errc::connection_reset;
    case EPIPE:
      return Errc::broken_pipe;
    case ESHUTDOWN:
      return Errc::shut_down;
    case EADDRINUSE:
      return Errc::address_in_use;
    case EBADF:
    case ENOTSOCK:
      return Errc::bad_handle;
    case EMFILE:
    case ENFILE:
    case ENOSPC:  // epoll_ctl: the per-user limit on watched descriptors (max_user_watches)
      return Errc::too_many_handles;
    case EEXIST:
      return Errc::already_registered;
    case ENOENT:
      return Errc::not_registered;
    case EOPNOTSUPP:
#if ENOTSUP != EOPNOTSUPP
    case ENOTSUP:
#endif
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
    case ESOCKTNOSUPPORT:
    case EPFNOSUPPORT:
    case EPROTOTYPE:
    case ENOPROTOOPT:
      return Errc::unsupported;
    case EINVAL:
    case EFAULT:
    case ELOOP:  // epoll_ctl: an epoll set watching itself, or nested too deep
    case EMSGSIZE:
      return Errc::invalid_argument;
    case ETIMEDOUT:
      return Errc::timed_out;
    case ENOBUFS:
    case ENOMEM:
      return Errc::no_resources;
    case EPERM:
    case EACCES:
      return Errc::not_permitted;
    case ECONNABORTED:
    case EPROTO:  // accept: a protocol error on the queued connection; it is gone
      return Errc::connection_aborted;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
#if defined(ENONET)
    case ENONET:  // Linux: the machine is not on the network
#endif
      return Errc::unreachable;
    case EADDRNOTAVAIL:
      return Errc::address_not_available;
    default:
      return Errc::other;
  }
}

Error errno_error(int err, std::string what) {
  const std::error_code code = error_from_errno(err);
  if (code == Errc::other)
    what += fmt::format(": errno {} ({})", err, std::generic_category().message(err));
  return {code, std::move(what)};
}

}  // namespace muxlab::posix
