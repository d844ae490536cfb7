#pragma once
// A first-in, first-out queue over one vector. std::deque would do, but libstdc++'s allocates
// about 600 bytes as soon as it is made, even empty, and every socket has an accept queue that
// only a listener ever fills.
#include <cstddef>
#include <vector>

namespace muxlab::fake {

template <class T>
class Fifo {
 public:
  std::size_t size() const { return items_.size() - head_; }
  bool empty() const { return size() == 0; }

  void push_back(const T& item) { items_.push_back(item); }
  const T& front() const { return items_[head_]; }
  void pop_front() {
    ++head_;
    // Reclaim the taken front once it is most of the storage, so the vector stays bounded.
    if (head_ == items_.size()) {
      clear();
    } else if (head_ > items_.size() / 2) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void clear() {
    items_.clear();
    head_ = 0;
  }

  // The items in order, front first.
  auto begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() const { return items_.end(); }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;  // items_[0, head_) were taken
};

}  // namespace muxlab::fake
