#pragma once
// A FIFO of bytes: what send() accepted and the peer has not yet acknowledged, or what arrived and
// recv() has not yet taken. Bytes leave from the front in the order they came in.
#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

namespace muxlab::fake {

class StreamBuffer {
 public:
  std::size_t size() const { return bytes_.size() - head_; }
  bool empty() const { return size() == 0; }

  void append(std::span<const std::byte> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
  }

  // A copy of `count` bytes starting `offset` bytes from the front (clipped to what is there).
  std::vector<std::byte> copy(std::size_t offset, std::size_t count) const {
    offset = std::min(offset, size());
    count = std::min(count, size() - offset);
    const auto first = bytes_.begin() + static_cast<std::ptrdiff_t>(head_ + offset);
    return {first, first + static_cast<std::ptrdiff_t>(count)};
  }

  // The first `count` bytes (clipped to what is there), valid until the buffer next changes.
  std::span<const std::byte> front(std::size_t count) const {
    return std::span<const std::byte>(bytes_).subspan(head_, std::min(count, size()));
  }

  // Moves up to into.size() bytes from the front into `into`; returns how many.
  std::size_t take(std::span<std::byte> into) {
    const std::size_t n = std::min(into.size(), size());
    const auto first = bytes_.begin() + static_cast<std::ptrdiff_t>(head_);
    std::copy(first, first + static_cast<std::ptrdiff_t>(n), into.begin());
    discard(n);
    return n;
  }

  void discard(std::size_t count) {
    head_ += std::min(count, size());
    // Reclaim the consumed front once it is most of the storage, so a long stream stays bounded.
    if (head_ == bytes_.size()) {
      bytes_.clear();
      head_ = 0;
    } else if (head_ > bytes_.size() / 2) {
      bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  void clear() {
    bytes_.clear();
    head_ = 0;
  }

 private:
  std::vector<std::byte> bytes_;
  std::size_t head_ = 0;  // bytes_[0, head_) were consumed
};

}  // namespace muxlab::fake
