#pragma once
// Virtual time and what is due in it. Time moves only here: run_until() carries out the events in
// order of due time, and events due at the same time in the order they were scheduled, so a run
// is a pure function of its inputs.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "muxlab/clock.hpp"

namespace muxlab::fake {

// What an event does: a callable kept inline when it is small, made and run in its slot of the
// queue, never moved. Every segment sent schedules one, and std::function keeps only 16 bytes
// inline, so a segment's action cost a heap allocation of its own; moving a freshly made capture
// also stalled the CPU (wide loads reading back the narrow stores that had just made it).
class Action {
 public:
  static constexpr std::size_t kInlineSize = 56;

  Action() = default;  // does nothing: what a free slot of the queue holds
  Action(const Action&) = delete;
  Action& operator=(const Action&) = delete;
  ~Action() { reset(); }

  // Makes `f` this action's callable.
  template <class F>
  void emplace(F&& f) {
    reset();
    using Callable = std::decay_t<F>;
    if constexpr (sizeof(Callable) <= kInlineSize &&
                  alignof(Callable) <= alignof(std::max_align_t)) {
      ::new (static_cast<void*>(storage_)) Callable(std::forward<F>(f));
      ops_ = &kOps<Callable>;
    } else {
      // Too big to keep inline: keep a pointer to it inline instead.
      auto boxed = [p = std::make_unique<Callable>(std::forward<F>(f))] { (*p)(); };
      ::new (static_cast<void*>(storage_)) decltype(boxed)(std::move(boxed));
      ops_ = &kOps<decltype(boxed)>;
    }
  }

  void operator()() {
    if (ops_) ops_->invoke(storage_);
  }

  void reset() {
    if (ops_ && ops_->destroy) ops_->destroy(storage_);
    ops_ = nullptr;
  }

 private:
  struct Ops {
    void (*invoke)(void* self);
    void (*destroy)(void* self);  // null when there is nothing to destroy
  };
  template <class Callable>
  static constexpr Ops kOps = {
      [](void* self) { (*static_cast<Callable*>(self))(); },
      std::is_trivially_destructible_v<Callable>
          ? nullptr
          : +[](void* self) { static_cast<Callable*>(self)->~Callable(); },
  };

  alignas(std::max_align_t) unsigned char storage_[kInlineSize];
  const Ops* ops_ = nullptr;
};

class EventQueue {
 public:
  Time now() const { return now_; }

  // An event due in the past runs at the next run_until(), at the current time.
  template <class F>
  void schedule(Time at, F&& action) {
    std::size_t slot;
    if (free_slots_.empty()) {
      slot = actions_.size();
      actions_.emplace_back();
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
    }
    actions_[slot].emplace(std::forward<F>(action));
    push(at, next_order_++, slot);
  }

  std::optional<Time> next_time() const {
    if (entries_.empty()) return std::nullopt;
    return entries_.front().at;
  }

  // Carries out every event due at or before `until`, including the ones those schedule, and
  // leaves the clock at `until` (never earlier than it was). Every system call comes here, and most
  // find nothing due: that check is inline, the running of events is not.
  void run_until(Time until) {
    while (!entries_.empty() && entries_.front().at <= until)
      run_first();
    if (until > now_) now_ = until;
  }

 private:
  // Runs the earliest event (there is one). Out of line, so that run_until() stays small enough to
  // be inlined into every call.
  [[gnu::noinline]] void run_first() {
    const Entry entry = pop();
    if (entry.at > now_) now_ = entry.at;
    // Run where it lies (what it schedules goes to other slots, and a deque does not move its
    // elements when it grows), and only then free the slot.
    Action& action = actions_[entry.slot];
    action();
    action.reset();
    free_slots_.push_back(entry.slot);
  }

  // A binary heap ordered by (due time, order of scheduling): the earliest at the front. Each
  // (at, order) is unique, so the order is total and the same on every run. The actions stay in
  // their slots, made and run in place, while the heap moves the small entries about.
  struct Entry {
    Time at{0};
    std::uint64_t order = 0;
    std::size_t slot = 0;  // in actions_
  };
  static bool earlier(const Entry& a, const Entry& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  }

  // The heap by hand rather than std::push_heap and std::pop_heap, which copy the entry just
  // stored back out of the vector: reading freshly stored fields with wider loads stalls the CPU
  // (a failed store-to-load forwarding), and that was a good part of a send's cost. For the same
  // reason the new entry comes in as its three fields, kept in registers, never as an Entry built
  // on the stack and read back whole.
  void push(const Time at, const std::uint64_t order, const std::size_t slot) {
    std::size_t hole = entries_.size();
    entries_.emplace_back();
    while (hole > 0) {
      const std::size_t parent = (hole - 1) / 2;
      const Entry& above = entries_[parent];
      if (!(at != above.at ? at < above.at : order < above.order)) break;
      entries_[hole] = above;
      hole = parent;
    }
    Entry& entry = entries_[hole];
    entry.at = at;
    entry.order = order;
    entry.slot = slot;
  }

  Entry pop() {
    const Entry first = entries_.front();
    const Entry last = entries_.back();
    entries_.pop_back();
    const std::size_t size = entries_.size();
    std::size_t hole = 0;
    for (;;) {
      std::size_t child = 2 * hole + 1;
      if (child >= size) break;
      if (child + 1 < size && earlier(entries_[child + 1], entries_[child])) ++child;
      if (!earlier(entries_[child], last)) break;
      entries_[hole] = entries_[child];
      hole = child;
    }
    if (size > 0) entries_[hole] = last;
    return first;
  }

  std::vector<Entry> entries_;
  std::deque<Action> actions_;
  std::vector<std::size_t> free_slots_;  // slots of actions_ whose events have run
  Time now_{0};
  std::uint64_t next_order_ = 0;
};

}  // namespace muxlab::fake
