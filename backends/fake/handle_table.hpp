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

// The lowest number a socket gets: 0 to 2 are stdio's.
inline constexpr std::size_t kFirstHandle = 3;

// What each open number names is an `Open` that outlives the number (the fake kernel's Socket,
// which goes away only after its handle is closed), held by pointer: finding a handle's socket,
// which every call does, is then one indexing, not two.
template <class Open>
class HandleTable {
 public:
  // The lowest free number below `limit`, now naming `open`; nullopt when none is left.
  std::optional<Handle> allocate(Open& open, std::size_t limit) {
    const std::size_t number = free_.empty() ? named_.size() : *free_.begin();
    if (number >= limit) return std::nullopt;
    if (number == named_.size())
      named_.push_back(&open);
    else {
      free_.erase(free_.begin());
      named_[number] = &open;
    }
    return static_cast<Handle>(number);
  }

  void release(Handle h) {
    const auto number = index_of(h);
    if (!number || named_[*number] == nullptr) return;
    named_[*number] = nullptr;
    free_.insert(*number);
  }

  // nullptr when h is not an open handle (never was, was closed, or is no number at all).
  Open* find(Handle h) const {
    const auto number = index_of(h);
    return number ? named_[*number] : nullptr;
  }

 private:
  // Negative ints (and Winsock's INVALID_SOCKET) convert to huge values, which no table reaches.
  std::optional<std::size_t> index_of(Handle h) const {
    const auto number = static_cast<std::uint64_t>(h);
    if (number >= named_.size()) return std::nullopt;
    return static_cast<std::size_t>(number);
  }

  std::vector<Open*> named_ = std::vector<Open*>(kFirstHandle, nullptr);  // by handle number
  std::set<std::size_t> free_;  // released numbers below named_.size()
};

}  // namespace muxlab::fake
