// Net over BSD sockets on loopback TCP. Every socket is non-blocking and close-on-exec; sends
// never raise SIGPIPE (MSG_NOSIGNAL on Linux, SO_NOSIGPIPE where that is the way).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "posix.hpp"

namespace muxlab::posix {
namespace {

#if defined(MSG_NOSIGNAL)
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;
#endif

sockaddr_in to_sockaddr(Endpoint e) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(e.port);
  sa.sin_addr.s_addr = htonl(e.address);
  return sa;
}

Error call_error(const char* call, Handle h) {
  return errno_error(errno, fmt::format("{} fd {}", call, h));
}

// Makes an fd non-blocking, close-on-exec and SIGPIPE-free where the platform needs it done by
// hand (Linux does the first two in socket()/accept4()).
bool prepare(int fd) {
#if !defined(__linux__)
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return false;
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return false;
#endif
#if defined(SO_NOSIGPIPE)
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) < 0) return false;
#endif
  return fd >= 0;
}

Result<Handle> new_socket() {
#if defined(__linux__)
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
#endif
  if (fd < 0) return errno_error(errno, "socket");
  if (!prepare(fd)) {
    const int err = errno;
    ::close(fd);
    return errno_error(err, "socket options");
  }
  return fd;
}

class SocketNet final : public Net {
 public:
  Result<Handle> listen(Endpoint at, int backlog) override {
    auto fd = new_socket();
    if (!fd) return fd;
    const int one = 1;
    ::setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in sa = to_sockaddr(at);
    if (::bind(*fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0 ||
        ::listen(*fd, backlog) < 0) {
      Error e = errno_error(errno, fmt::format("listen on {}", to_string(at)));
      ::close(*fd);
      return e;
    }
    return fd;
  }

  Result<Handle> socket() override { return new_socket(); }

  Status connect(Handle h, Endpoint to) override {
    const sockaddr_in sa = to_sockaddr(to);
    if (::connect(h, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0)
      return errno_error(errno, fmt::format("connect fd {} to {}", h, to_string(to)));
    return {};
  }

  Result<Handle> accept(Handle listener) override {
#if defined(__linux__)
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    const int fd = ::accept(listener, nullptr, nullptr);
#endif
    if (fd < 0) return call_error("accept", listener);
    if (!prepare(fd)) {
      Error e = call_error("accepted socket options", fd);
      ::close(fd);
      return e;
    }
    return fd;
  }

  Result<std::size_t> send(Handle h, std::span<const std::byte> data) override {
    const ssize_t n = ::send(h, data.data(), data.size(), kSendFlags);
    if (n < 0) return call_error("send", h);
    return static_cast<std::size_t>(n);
  }

  Result<std::size_t> recv(Handle h, std::span<std::byte> into) override {
    const ssize_t n = ::recv(h, into.data(), into.size(), 0);
    if (n < 0) return call_error("recv", h);
    return static_cast<std::size_t>(n);
  }

  Status shutdown(Handle h, Direction d) override {
    const int how = d == Direction::read ? SHUT_RD : d == Direction::write ? SHUT_WR : SHUT_RDWR;
    if (::shutdown(h, how) < 0) return call_error("shutdown", h);
    return {};
  }

  Status close(Handle h) override {
    // EINTR: the descriptor is released all the same (Linux, the BSDs); retrying could close a
    // number another thread was just given.
    if (::close(h) < 0 && errno != EINTR) return call_error("close", h);
    return {};
  }

  Status abort(Handle h) override {
    const linger abortive{1, 0};
    if (::setsockopt(h, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive) < 0)
      return call_error("setsockopt(SO_LINGER)", h);
    return close(h);
  }

  Result<std::error_code> pending_error(Handle h) override {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(h, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
      return call_error("getsockopt(SO_ERROR)", h);
    return err == 0 ? std::error_code{} : error_from_errno(err);
  }

  Status set_send_buffer(Handle h, std::size_t bytes) override {
    return set_int(h, SO_SNDBUF, bytes, "setsockopt(SO_SNDBUF)");
  }

  Status set_receive_buffer(Handle h, std::size_t bytes) override {
    return set_int(h, SO_RCVBUF, bytes, "setsockopt(SO_RCVBUF)");
  }

  Result<std::size_t> send_buffer(Handle h) override {
    int value = 0;
    socklen_t len = sizeof value;
    if (::getsockopt(h, SOL_SOCKET, SO_SNDBUF, &value, &len) < 0)
      return call_error("getsockopt(SO_SNDBUF)", h);
    return static_cast<std::size_t>(value);
  }

  Result<Endpoint> local_endpoint(Handle h) override {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    if (::getsockname(h, reinterpret_cast<sockaddr*>(&sa), &len) < 0)
      return call_error("getsockname", h);
    return Endpoint{ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
  }

 private:
  static Status set_int(Handle h, int option, std::size_t bytes, const char* call) {
    const int value = static_cast<int>(bytes);
    if (::setsockopt(h, SOL_SOCKET, option, &value, sizeof value) < 0) return call_error(call, h);
    return {};
  }
};

}  // namespace

std::unique_ptr<Net> make_socket_net() {
  return std::make_unique<SocketNet>();
}

}  // namespace muxlab::posix
