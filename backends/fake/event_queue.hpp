#pragma once
// Virtual time and what is due in it. Time moves only here: run_until() carries out the events in
// order of due time, and events due at the same time in the order they were scheduled, so a run
// is a pure function of its inputs.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "muxlab/clock.hpp"

namespace muxlab::fake {

class EventQueue {
 public:
  Time now() const { return now_; }

  // An event due in the past runs at the next run_until(), at the current time.
  void schedule(Time at, std::function<void()> action) {
    entries_.emplace(Key{at, next_order_++}, std::move(action));
  }

  std::optional<Time> next_time() const {
    if (entries_.empty()) return std::nullopt;
    return entries_.begin()->first.at;
  }

  // Carries out every event due at or before `until`, including the ones those schedule, and
  // leaves the clock at `until` (never earlier than it was).
  void run_until(Time until) {
    while (!entries_.empty() && entries_.begin()->first.at <= until) {
      auto entry = entries_.extract(entries_.begin());
      if (entry.key().at > now_) now_ = entry.key().at;
      entry.mapped()();
    }
    if (until > now_) now_ = until;
  }

 private:
  struct Key {
    Time at;
    std::uint64_t order;
    friend bool operator<(const Key& a, const Key& b) {
      return a.at != b.at ? a.at < b.at : a.order < b.order;
    }
  };

  std::map<Key, std::function<void()>> entries_;
  Time now_{0};
  std::uint64_t next_order_ = 0;
};

}  // namespace muxlab::fake
