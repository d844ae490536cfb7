#pragma once
// Scheduler: runs several programs on one Environment and one thread, the way an event loop
// does. Two styles, as in the documents this project replays:
//   - callbacks: watch(handle, interest, callback) and after(delay, callback), like selectors;
//   - coroutines: Task<> programs whose "blocking" calls (accept, recv, send_all, connect,
//     sleep) suspend only their own program until the handle is ready.
// Every socket call a coroutine makes through the scheduler is a scheduling point: other ready
// programs and due events run first. On the fake kernel that is what lets a busy-polling
// program advance virtual time instead of hanging the simulation; on a real kernel it gives the
// other programs their turn without blocking.
#include <coroutine>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "muxlab/backend.hpp"
#include "muxlab/environment.hpp"
#include "muxlab/task.hpp"

namespace muxlab {

class Scheduler {
 public:
  using ProgramId = std::size_t;
  using TimerId = std::uint64_t;

  struct Program {
    std::string name;
    bool finished = false;
    std::string failure;  // what an escaped exception said; empty when it ended normally
    Time started{};       // when it was spawned
    Time ended{};         // when it finished
  };

  Scheduler(Environment& env, std::unique_ptr<Backend> backend);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  Environment& env() { return env_; }
  Net& net() { return env_.net(); }
  Backend& backend() { return *backend_; }
  Time now() const { return env_.clock().now(); }

  // --- programs -------------------------------------------------------------------------
  ProgramId spawn(std::string name, Task<> program);
  const Program& program(ProgramId id) const { return programs_[id].info; }
  std::size_t program_count() const { return programs_.size(); }
  // The program whose code is running now (callbacks run as the program that set them up).
  std::string_view current_program() const;

  // --- callback style -------------------------------------------------------------------
  // Calls on_ready with the readiness whenever `h` is ready for `interest` (level-triggered
  // unless `trigger` says otherwise). A second watch() on the same handle replaces interest,
  // trigger and callback, and re-arms a one-shot registration.
  Status watch(Handle h, Interest interest, std::function<void(Readiness)> on_ready,
               Trigger trigger = Trigger::level);
  Status unwatch(Handle h);
  TimerId after(Duration delay, std::function<void()> fn);
  bool cancel(TimerId id);

  // --- coroutine style --------------------------------------------------------------------
  class ReadyAwaiter;
  class SleepAwaiter;
  class YieldAwaiter;
  // Suspends until `h` is ready for `interest`, or shows a hang-up or error (both wake either
  // waiter: the next call tells which). Fails when the backend refuses the handle.
  ReadyAwaiter ready(Handle h, Interest interest);
  SleepAwaiter sleep(Duration d);
  // A scheduling point: everything ready or due runs before this program continues.
  YieldAwaiter yield();

  // Blocking-style socket calls: retry on would_block after waiting for readiness.
  Task<Result<Handle>> accept(Handle listener);
  Task<Status> connect(Handle h, Endpoint to);  // start, wait writable, check pending_error
  Task<Result<std::size_t>> recv(Handle h, std::span<std::byte> into);
  Task<Status> send_all(Handle h, std::span<const std::byte> data);

  // Non-blocking calls for busy-polling programs: a scheduling point, then the call as is.
  Task<Result<Handle>> try_accept(Handle listener);
  Task<Status> try_connect(Handle h, Endpoint to);
  Task<Result<std::size_t>> try_recv(Handle h, std::span<std::byte> into);
  Task<Result<std::size_t>> try_send(Handle h, std::span<const std::byte> data);

  // --- running ----------------------------------------------------------------------------
  // Runs until every spawned program has finished.
  Status run(Duration limit = infinite);
  // Runs until done() is true; timed_out when `limit` passes first, and an error when nothing
  // could ever make progress (programs wait, but nothing is watched or timed).
  Status run_until(const std::function<bool()>& done, Duration limit = infinite);
  // A pause: runs every program for `d`; ok once it has passed, an error as run_until's.
  Status run_for(Duration d);

 private:
  struct Waiter {
    std::coroutine_handle<> coroutine;
    ProgramId program = 0;
    Readiness* result = nullptr;
  };
  struct Watch {
    Interest callback_interest = Interest::none;
    Trigger trigger = Trigger::level;
    std::function<void(Readiness)> callback;
    ProgramId owner = 0;
    Waiter reader;
    Waiter writer;
    Interest registered = Interest::none;  // what the backend has now
  };
  struct RunningProgram {
    Program info;
    std::coroutine_handle<> root;
  };
  struct Timer {
    std::function<void()> fn;
    ProgramId owner;
  };

  Status add_waiter(Handle h, Interest interest, Waiter waiter);
  // Brings the backend's registration in line with what the watch wants; `force` re-issues it
  // even when unchanged (re-arming a one-shot).
  Status sync_registration(Handle h, Watch& w, bool force = false);
  void make_ready(std::coroutine_handle<> c, ProgramId program);
  void resume(std::coroutine_handle<> c, ProgramId program);
  void run_ready_queue();
  void dispatch(const Event& e);
  void fire_due_timers();
  Duration next_timeout(Time deadline) const;
  bool all_programs_finished() const;

  Environment& env_;
  std::unique_ptr<Backend> backend_;
  std::vector<RunningProgram> programs_;
  ProgramId current_ = kNoProgram;
  std::deque<std::pair<std::coroutine_handle<>, ProgramId>> ready_;
  std::unordered_map<Handle, Watch> watches_;
  std::map<std::pair<Time, TimerId>, Timer> timers_;  // ordered by due time, then creation
  std::unordered_map<TimerId, Time> timer_due_;
  TimerId next_timer_ = 1;
  std::vector<Event> events_ = std::vector<Event>(256);

  static constexpr ProgramId kNoProgram = static_cast<ProgramId>(-1);
};

// --- awaiters -------------------------------------------------------------------------------

class Scheduler::ReadyAwaiter {
 public:
  ReadyAwaiter(Scheduler& s, Handle h, Interest i) : s_(s), h_(h), interest_(i) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> c) {
    status_ = s_.add_waiter(h_, interest_, Waiter{c, s_.current_, &readiness_});
    return status_.ok();  // refused: resume at once with the error
  }
  Result<Readiness> await_resume() {
    if (!status_) return status_.error();
    return readiness_;
  }

 private:
  Scheduler& s_;
  Handle h_;
  Interest interest_;
  Status status_;
  Readiness readiness_ = Readiness::none;
};

class Scheduler::SleepAwaiter {
 public:
  SleepAwaiter(Scheduler& s, Duration d) : s_(s), d_(d) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> c) {
    const ProgramId p = s_.current_;
    s_.after(d_, [this_scheduler = &s_, c, p] { this_scheduler->make_ready(c, p); });
  }
  void await_resume() const noexcept {}

 private:
  Scheduler& s_;
  Duration d_;
};

class Scheduler::YieldAwaiter {
 public:
  explicit YieldAwaiter(Scheduler& s) : s_(s) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> c) { s_.make_ready(c, s_.current_); }
  void await_resume() const noexcept {}

 private:
  Scheduler& s_;
};

inline Scheduler::ReadyAwaiter Scheduler::ready(Handle h, Interest i) {
  return {*this, h, i};
}
inline Scheduler::SleepAwaiter Scheduler::sleep(Duration d) {
  return {*this, d};
}
inline Scheduler::YieldAwaiter Scheduler::yield() {
  return YieldAwaiter(*this);
}

}  // namespace muxlab
