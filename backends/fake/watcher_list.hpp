#pragma once
// The registrations listening to one socket, in the order they were added. Nearly always there
// is one, so it is kept inline: a wake-up then needs no trip to a separately allocated array, and
// an idle socket's list allocates nothing. The rare others are behind one pointer, which keeps the
// list (and so the socket's hot part) small.
#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

namespace muxlab::fake {

class Watcher;

class WatcherList {
 public:
  std::size_t size() const { return first_ == nullptr ? 0 : 1 + rest_size(); }
  Watcher* front() const { return first_; }

  void add(Watcher* w) {
    if (first_ == nullptr) {
      first_ = w;
      return;
    }
    if (!rest_) rest_ = std::make_unique<std::vector<Watcher*>>();
    rest_->push_back(w);
  }

  void remove(Watcher* w) {
    if (rest_) std::erase(*rest_, w);
    if (first_ != w) return;
    first_ = nullptr;
    if (rest_ && !rest_->empty()) {
      first_ = rest_->front();
      rest_->erase(rest_->begin());
    }
  }

  bool contains(const Watcher* w) const {
    return w != nullptr &&
           (first_ == w || (rest_ && std::find(rest_->begin(), rest_->end(), w) != rest_->end()));
  }

  // All of them, in order.
  std::vector<Watcher*> copy() const {
    std::vector<Watcher*> all;
    if (first_ == nullptr) return all;
    all.reserve(size());
    all.push_back(first_);
    if (rest_) all.insert(all.end(), rest_->begin(), rest_->end());
    return all;
  }

  // All of them, in order, leaving the list empty.
  std::vector<Watcher*> take_all() {
    std::vector<Watcher*> all = copy();
    first_ = nullptr;
    rest_.reset();
    return all;
  }

 private:
  std::size_t rest_size() const { return rest_ ? rest_->size() : 0; }

  Watcher* first_ = nullptr;
  std::unique_ptr<std::vector<Watcher*>> rest_;  // the second and later, rarely any
};

}  // namespace muxlab::fake
