#pragma once
// Handle numbers as a POSIX process sees them: the lowest free number first, 0 to 2 taken by
// stdio, and none at or above the open-file limit (RLIMIT_NOFILE), which is how EMFILE happens.
// Every personality numbers this way; Winsock's SOCKET values are opaque anyway.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <vector>

#include "muxlab/handle.hpp"

namespace muxlab::fake {

// A socket's identity inside the kernel. Unlike a handle number it is never reused, so an event
// scheduled for a socket that has gone away finds nothing instead of a stranger.
using SocketId = std::uint64_t;
inline constexpr SocketId kNoSocket = 0;

// Whether h could be a handle number at all: negative ints and Winsock's INVALID_SOCKET cannot.
inline bool is_handle_number(Handle h) {
  return static_cast<std::uint64_t>(h) <=
         static_cast<std::uint64_t>(std::numeric_limits<int>::max());
}

class HandleTable {
 public:
  static constexpr std::size_t kFirst = 3;

  // The lowest free number below `limit`, now naming `socket`; nullopt when none is left.
  std::optional<Handle> allocate(SocketId socket, std::size_t limit) {
    const std::size_t number = free_.empty() ? sockets_.size() : *free_.begin();
    if (number >= limit) return std::nullopt;
    if (number == sockets_.size())
      sockets_.push_back(socket);
    else {
      free_.erase(free_.begin());
      sockets_[number] = socket;
    }
    return static_cast<Handle>(number);
  }

  void release(Handle h) {
    const auto number = index_of(h);
    if (!number || sockets_[*number] == kNoSocket) return;
    sockets_[*number] = kNoSocket;
    free_.insert(*number);
  }

  // kNoSocket when h is not an open handle (never was, was closed, or is no number at all).
  SocketId find(Handle h) const {
    const auto number = index_of(h);
    return number ? sockets_[*number] : kNoSocket;
  }

 private:
  // Negative ints (and Winsock's INVALID_SOCKET) convert to huge values, which no table reaches.
  std::optional<std::size_t> index_of(Handle h) const {
    const auto number = static_cast<std::uint64_t>(h);
    if (number >= sockets_.size()) return std::nullopt;
    return static_cast<std::size_t>(number);
  }

  std::vector<SocketId> sockets_ = std::vector<SocketId>(kFirst, kNoSocket);  // by handle number
  std::set<std::size_t> free_;  // released numbers below sockets_.size()
};

}  // namespace muxlab::fake
