#include <cerrno>

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
      return Errc::not_connected;
    case ECONNREFUSED:
      return Errc::connection_refused;
    case ECONNRESET:
      return Errc::connection_reset;
    case EPIPE:
      return Errc::broken_pipe;
    case EADDRINUSE:
      return Errc::address_in_use;
    case EBADF:
    case ENOTSOCK:
      return Errc::bad_handle;
    case EMFILE:
    case ENFILE:
      return Errc::too_many_handles;
    case EEXIST:
      return Errc::already_registered;
    case ENOENT:
      return Errc::not_registered;
    case EINVAL:
      return Errc::invalid_argument;
    case ETIMEDOUT:
      return Errc::timed_out;
    case ENOBUFS:
    case ENOMEM:
      return Errc::no_resources;
    default:
      return {err, std::generic_category()};
  }
}

}  // namespace muxlab::posix
