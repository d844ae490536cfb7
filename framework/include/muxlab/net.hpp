#pragma once
// Non-blocking TCP socket operations, as a program under test makes them. Real kernels implement
// this over BSD sockets or Winsock; the fake kernel over its own model. Every call returns a
// portable error (error.hpp) instead of errno, and none of them ever blocks.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "muxlab/handle.hpp"
#include "muxlab/result.hpp"

namespace muxlab {

// An IPv4 address and port, host byte order. muxlab's sockets live on loopback.
struct Endpoint {
  std::uint32_t address = 0x7f000001;  // 127.0.0.1
  std::uint16_t port = 0;              // 0 asks listen() for a free port
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

std::string to_string(const Endpoint& e);  // "127.0.0.1:8000"

enum class Direction : std::uint8_t { read = 1, write = 2, both = 3 };

class Net {
 public:
  virtual ~Net() = default;

  // socket + bind + listen. Port 0 takes a free one; local_endpoint() tells which.
  virtual Result<Handle> listen(Endpoint at, int backlog) = 0;
  // A new non-blocking stream socket, not yet connected.
  virtual Result<Handle> socket() = 0;
  // Starts a connect: in_progress (or success on a fast path); completion shows as writable,
  // failure as the backend's error flags and pending_error().
  virtual Status connect(Handle h, Endpoint to) = 0;
  // A non-blocking accepted socket, or would_block.
  virtual Result<Handle> accept(Handle listener) = 0;

  // Bytes sent (possibly fewer than asked: a partial send), or would_block, broken_pipe, ...
  // Never raises SIGPIPE.
  virtual Result<std::size_t> send(Handle h, std::span<const std::byte> data) = 0;
  // Bytes received; 0 means the peer finished sending (EOF).
  virtual Result<std::size_t> recv(Handle h, std::span<std::byte> into) = 0;

  virtual Status shutdown(Handle h, Direction d) = 0;
  virtual Status close(Handle h) = 0;
  // Abortive close: SO_LINGER with a zero timeout, so the peer sees a reset (RST), not a FIN.
  virtual Status abort(Handle h) = 0;

  // SO_ERROR: the pending error, which reading clears (success when there is none).
  virtual Result<std::error_code> pending_error(Handle h) = 0;
  virtual Status set_send_buffer(Handle h, std::size_t bytes) = 0;
  virtual Status set_receive_buffer(Handle h, std::size_t bytes) = 0;
  virtual Result<std::size_t> send_buffer(Handle h) = 0;
  virtual Result<Endpoint> local_endpoint(Handle h) = 0;
};

// Convenience for the common string payloads of tests and examples.
inline std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace muxlab
