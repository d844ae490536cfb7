#pragma once
// Every socket of the fake kernel, by SocketId. Sockets are made in chunks of consecutive ids
// rather than one allocation each: sockets made one after the other (a connection's two ends) sit
// side by side, each on its own cache lines, and their SocketSetups sit in a block of their own,
// away from the lines every call reads. With too many connections to stay in the cache, that is
// fewer lines to fetch per call. A chunk goes away when every id it covers has been handed out and
// every socket in it is gone.
// Internal to backends/fake.
#include <cstddef>
#include <new>
#include <optional>
#include <vector>

#include "aligned_slots.hpp"
#include "socket.hpp"

namespace muxlab::fake {

class SocketStore {
 public:
  SocketStore() = default;
  SocketStore(const SocketStore&) = delete;
  SocketStore& operator=(const SocketStore&) = delete;
  ~SocketStore() {
    for (Socket* s : by_id_)
      if (s != nullptr) destroy_in_place(*s);
  }

  // A new socket with the next id.
  Socket& create() {
    const SocketId id = by_id_.size();
    const std::size_t index = id / kChunkSize;
    if (index == chunks_.size()) chunks_.emplace_back();
    Chunk& chunk = chunks_[index];
    if (!chunk.sockets) chunk.allocate();
    const std::size_t i = id % kChunkSize;
    Socket* s = ::new (static_cast<void*>((*chunk.sockets)[i])) Socket();
    s->setup = ::new (static_cast<void*>((*chunk.setups)[i])) SocketSetup();
    s->id = id;
    ++chunk.live;
    by_id_.push_back(s);
    return *s;
  }

  // nullptr when the socket is gone (or never was).
  Socket* find(SocketId id) const { return id < by_id_.size() ? by_id_[id] : nullptr; }

  void destroy(SocketId id) {
    destroy_in_place(*by_id_[id]);
    by_id_[id] = nullptr;
    Chunk& chunk = chunks_[id / kChunkSize];
    // Every id of the chunk handed out and none alive: none can ever be again.
    if (--chunk.live == 0 && by_id_.size() >= (id / kChunkSize + 1) * kChunkSize) {
      chunk.sockets.reset();
      chunk.setups.reset();
    }
  }

  // In order of SocketId. A socket that goes away meanwhile is not visited.
  template <class Visit>
  void for_each(Visit visit) {
    for (std::size_t id = 0; id < by_id_.size(); ++id)
      if (Socket* s = by_id_[id]) visit(*s);
  }

 private:
  static constexpr std::size_t kChunkSize = 64;

  static void destroy_in_place(Socket& s) {
    s.setup->~SocketSetup();
    s.~Socket();
  }

  struct Chunk {
    std::optional<AlignedSlots<Socket, kChunkSize>> sockets;
    std::optional<AlignedSlots<SocketSetup, kChunkSize>> setups;
    std::size_t live = 0;

    void allocate() {
      sockets.emplace();
      setups.emplace();
    }
  };

  // By SocketId, from 0 (kNoSocket, never a socket). Ids are never reused, so this keeps a slot
  // (8 bytes) for every socket ever made, the price of finding one with a single indexing.
  std::vector<Socket*> by_id_ = std::vector<Socket*>(kNoSocket + 1, nullptr);
  std::vector<Chunk> chunks_;  // chunk i holds ids [i * kChunkSize, (i + 1) * kChunkSize)
};

}  // namespace muxlab::fake
