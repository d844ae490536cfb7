#pragma once
// A FIFO of bytes: what send() accepted and the peer has not yet acknowledged, or what arrived and
// recv() has not yet taken. Bytes leave from the front in the order they came in.
// The bytes are in one block, kept when the buffer empties (as std::vector keeps its capacity), so
// a connection's steady traffic allocates nothing. The block's capacity is stored at its front and
// the offsets are 32 bits, which keeps the buffer to two words: every socket has two, and with many
// connections each byte of a socket costs (see socket.hpp). A socket buffer holds far less than
// 4 GiB (SO_SNDBUF is an int, and the fake kernel's at most 416 KiB); more is a length_error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

namespace muxlab::fake {

class StreamBuffer {
 public:
  StreamBuffer() = default;
  StreamBuffer(const StreamBuffer&) = delete;
  StreamBuffer& operator=(const StreamBuffer&) = delete;

  std::size_t size() const { return end_ - head_; }
  bool empty() const { return size() == 0; }

  void append(std::span<const std::byte> data) {
    if (data.empty()) return;
    if (data.size() > capacity() - end_) make_room(data.size());
    std::memcpy(storage() + end_, data.data(), data.size());
    end_ += static_cast<Offset>(data.size());
  }

  // A copy of `count` bytes starting `offset` bytes from the front (clipped to what is there).
  std::vector<std::byte> copy(std::size_t offset, std::size_t count) const {
    const std::span<const std::byte> all = front(size());
    offset = std::min(offset, all.size());
    const std::span<const std::byte> part =
        all.subspan(offset, std::min(count, all.size() - offset));
    return {part.begin(), part.end()};
  }

  // The first `count` bytes (clipped to what is there), valid until the buffer next changes.
  std::span<const std::byte> front(std::size_t count) const {
    return {storage() + head_, std::min(count, size())};
  }

  // Moves up to into.size() bytes from the front into `into`; returns how many.
  std::size_t take(std::span<std::byte> into) {
    const std::size_t n = std::min(into.size(), size());
    if (n > 0) std::memcpy(into.data(), storage() + head_, n);
    discard(n);
    return n;
  }

  void discard(std::size_t count) {
    head_ += static_cast<Offset>(std::min(count, size()));
    // Reclaim the consumed front once it is most of what is stored, so a long stream stays
    // bounded without moving the bytes on every read.
    if (head_ == end_) {
      head_ = end_ = 0;
    } else if (head_ > end_ / 2) {
      std::memmove(storage(), storage() + head_, size());
      end_ -= head_;
      head_ = 0;
    }
  }

  void clear() { head_ = end_ = 0; }

 private:
  using Offset = std::uint32_t;
  static constexpr std::size_t kHeader = sizeof(std::size_t);  // the capacity, then the bytes
  static constexpr std::size_t kMaxSize = std::numeric_limits<Offset>::max();

  std::byte* storage() { return block_ ? block_.get() + kHeader : nullptr; }
  const std::byte* storage() const { return block_ ? block_.get() + kHeader : nullptr; }
  std::size_t capacity() const {
    std::size_t capacity = 0;
    if (block_) std::memcpy(&capacity, block_.get(), kHeader);
    return capacity;
  }

  // Room for `more` bytes after the stored ones: a block twice as large (at least), the stored
  // bytes moved to its front.
  void make_room(std::size_t more) {
    if (more > kMaxSize - size()) throw std::length_error("StreamBuffer: 4 GiB or more");
    const std::size_t capacity = std::min(std::max(2 * this->capacity(), size() + more), kMaxSize);
    auto bigger = std::make_unique_for_overwrite<std::byte[]>(kHeader + capacity);
    std::memcpy(bigger.get(), &capacity, kHeader);
    if (!empty()) std::memcpy(bigger.get() + kHeader, storage() + head_, size());
    end_ = static_cast<Offset>(size());
    head_ = 0;
    block_ = std::move(bigger);
  }

  std::unique_ptr<std::byte[]> block_;  // none until the first append
  Offset head_ = 0;  // storage()[head_, end_) is stored; before head_ it was taken
  Offset end_ = 0;
};

}  // namespace muxlab::fake
