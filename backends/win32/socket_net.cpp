// Net over Winsock 2 on loopback TCP. Every socket is non-blocking (ioctlsocket FIONBIO) and not
// inherited by child processes (WSA_FLAG_NO_HANDLE_INHERIT, the counterpart of close-on-exec).
// Winsock has no SIGPIPE, so sends need no flag.
//
// Where Winsock's answers differ from POSIX, they are passed on, not disguised: a non-blocking
// connect fails with WSAEWOULDBLOCK (reported as in_progress, as POSIX's EINPROGRESS is); a send
// after shutdown(write) fails with WSAESHUTDOWN (shut_down, where POSIX says broken_pipe); a send
// or recv after a peer's reset fails with WSAECONNRESET (connection_reset) on every call.
#include <windows.h>
#include <winsock2.h>

#include <climits>

#include <fmt/format.h>

#include "win32.hpp"

namespace muxlab::win32 {
namespace {

SOCKET as_socket(Handle h) {
  return static_cast<SOCKET>(h);
}

sockaddr_in to_sockaddr(Endpoint e) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(e.port);
  sa.sin_addr.s_addr = htonl(e.address);
  return sa;
}

Error call_error(const char* call, Handle h) {
  return wsa_error(::WSAGetLastError(), fmt::format("{} socket {}", call, h));
}

// A Winsock call takes an int length; a larger span is sent or received in part, which the
// caller sees as a partial count.
int clamp_length(std::size_t size) {
  return size > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(size);
}

bool set_non_blocking(SOCKET s) {
  u_long on = 1;
  return ::ioctlsocket(s, FIONBIO, &on) == 0;
}

Result<Handle> new_socket() {
  if (const int started = start_winsock(); started != 0) return wsa_error(started, "WSAStartup");
  const SOCKET s = ::WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                                WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET) return wsa_error(::WSAGetLastError(), "socket");
  if (!set_non_blocking(s)) {
    Error e = wsa_error(::WSAGetLastError(), fmt::format("ioctlsocket(FIONBIO) socket {}", s));
    ::closesocket(s);
    return e;
  }
  return static_cast<Handle>(s);
}

class WinsockNet final : public Net {
 public:
  Result<Handle> listen(Endpoint at, int backlog) override {
    auto h = new_socket();
    if (!h) return h;
    // No SO_REUSEADDR: on Windows it lets another socket take over a bound port, which is not
    // what it means on POSIX (reusing a port in TIME_WAIT); Windows needs nothing for that.
    const sockaddr_in sa = to_sockaddr(at);
    if (::bind(as_socket(*h), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == SOCKET_ERROR ||
        ::listen(as_socket(*h), backlog) == SOCKET_ERROR) {
      Error e = wsa_error(::WSAGetLastError(), fmt::format("listen on {}", to_string(at)));
      ::closesocket(as_socket(*h));
      return e;
    }
    return h;
  }

  Result<Handle> socket() override { return new_socket(); }

  Status connect(Handle h, Endpoint to) override {
    const sockaddr_in sa = to_sockaddr(to);
    if (::connect(as_socket(h), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0) return {};
    const int err = ::WSAGetLastError();
    const std::string what = fmt::format("connect socket {} to {}", h, to_string(to));
    // Winsock's way of saying EINPROGRESS.
    if (err == WSAEWOULDBLOCK) return Error(Errc::in_progress, what);
    return wsa_error(err, what);
  }

  Result<Handle> accept(Handle listener) override {
    const SOCKET s = ::accept(as_socket(listener), nullptr, nullptr);
    if (s == INVALID_SOCKET) return call_error("accept", listener);
    // An accepted socket takes the listener's properties; make sure of the two that matter.
    ::SetHandleInformation(reinterpret_cast<HANDLE>(s), HANDLE_FLAG_INHERIT, 0);
    if (!set_non_blocking(s)) {
      Error e = call_error("ioctlsocket(FIONBIO) on accepted", static_cast<Handle>(s));
      ::closesocket(s);
      return e;
    }
    return static_cast<Handle>(s);
  }

  Result<std::size_t> send(Handle h, std::span<const std::byte> data) override {
    const int n = ::send(as_socket(h), reinterpret_cast<const char*>(data.data()),
                         clamp_length(data.size()), 0);
    if (n == SOCKET_ERROR) return call_error("send", h);
    return static_cast<std::size_t>(n);
  }

  Result<std::size_t> recv(Handle h, std::span<std::byte> into) override {
    const int n =
        ::recv(as_socket(h), reinterpret_cast<char*>(into.data()), clamp_length(into.size()), 0);
    if (n == SOCKET_ERROR) return call_error("recv", h);
    return static_cast<std::size_t>(n);
  }

  Status shutdown(Handle h, Direction d) override {
    const int how = d == Direction::read ? SD_RECEIVE : d == Direction::write ? SD_SEND : SD_BOTH;
    if (::shutdown(as_socket(h), how) == SOCKET_ERROR) return call_error("shutdown", h);
    return {};
  }

  Status close(Handle h) override {
    if (::closesocket(as_socket(h)) == SOCKET_ERROR) return call_error("closesocket", h);
    return {};
  }

  Status abort(Handle h) override {
    linger abortive{};
    abortive.l_onoff = 1;
    abortive.l_linger = 0;
    if (::setsockopt(as_socket(h), SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&abortive),
                     sizeof abortive) == SOCKET_ERROR)
      return call_error("setsockopt(SO_LINGER)", h);
    return close(h);
  }

  Result<std::error_code> pending_error(Handle h) override {
    int err = 0;
    int len = sizeof err;
    if (::getsockopt(as_socket(h), SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&err), &len) ==
        SOCKET_ERROR)
      return call_error("getsockopt(SO_ERROR)", h);
    return err == 0 ? std::error_code{} : error_from_wsa(err);
  }

  Status set_send_buffer(Handle h, std::size_t bytes) override {
    return set_int(h, SO_SNDBUF, bytes, "setsockopt(SO_SNDBUF)");
  }

  Status set_receive_buffer(Handle h, std::size_t bytes) override {
    return set_int(h, SO_RCVBUF, bytes, "setsockopt(SO_RCVBUF)");
  }

  Result<std::size_t> send_buffer(Handle h) override {
    int value = 0;
    int len = sizeof value;
    if (::getsockopt(as_socket(h), SOL_SOCKET, SO_SNDBUF, reinterpret_cast<char*>(&value), &len) ==
        SOCKET_ERROR)
      return call_error("getsockopt(SO_SNDBUF)", h);
    return static_cast<std::size_t>(value);
  }

  Result<Endpoint> local_endpoint(Handle h) override {
    sockaddr_in sa{};
    int len = sizeof sa;
    if (::getsockname(as_socket(h), reinterpret_cast<sockaddr*>(&sa), &len) == SOCKET_ERROR)
      return call_error("getsockname", h);
    return Endpoint{ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
  }

 private:
  static Status set_int(Handle h, int option, std::size_t bytes, const char* call) {
    const int value = clamp_length(bytes);
    if (::setsockopt(as_socket(h), SOL_SOCKET, option, reinterpret_cast<const char*>(&value),
                     sizeof value) == SOCKET_ERROR)
      return call_error(call, h);
    return {};
  }
};

}  // namespace

bool running_under_wine() {
  static const bool wine =
      GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version") != nullptr;
  return wine;
}

std::unique_ptr<Net> make_winsock_net() {
  start_winsock();
  return std::make_unique<WinsockNet>();
}

}  // namespace muxlab::win32
