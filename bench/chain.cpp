// chain: the classic libevent benchmark (libevent's test/bench.c) over muxlab's epoll, poll and
// select backends, over the same system calls written by hand, and over libevent and libuv.
//
// The workload: n non-blocking AF_UNIX stream socket pairs; every pair's read end is registered
// once, level-triggered, for reading. An iteration puts one byte into `a` evenly spaced pairs,
// then dispatches until every byte is consumed. Each read callback takes one byte from its pair
// and, while the iteration's budget of n forwarded writes lasts, writes one byte into the next
// pair, so `a` bytes chase each other around the ring. Only the dispatch phase is timed. Every
// contender runs the same callback on the same kind of sockets; they differ only in how they learn
// which pairs are readable, which is the thing compared.
//
//   chain                 the full grid: n ∈ {100, 1000, 5000} × a ∈ {1, 100}, 9 repetitions
//   chain --quick         seconds: n ∈ {100, 1000} × a ∈ {1, 100}, 2 repetitions (ctest)
//   chain --clock=wall    times the dispatch by the wall clock, as libevent's bench does, instead
//                         of the thread's CPU time; the two agree on a quiet machine, but on a
//                         busy one the wall clock also counts the time other processes had the CPU
//   chain --lose-a-byte   counts one byte per iteration as written without sending it, to prove
//                         that a lost byte fails the run (ctest bench_chain_catches_loss)
//   plus any --benchmark_* flag, e.g. --benchmark_filter=epoll --benchmark_repetitions=9
//
// After the medians, each target's two contenders run again as a pair, alternating single
// iterations, and the targets are judged by the median of the pairs' ratios (see "Paired runs"),
// with raw-epoll paired against itself as the control that shows the method's own error.
//
// Google Benchmark's progress goes to stderr. stdout gets only the Markdown report (medians,
// ratios to raw-epoll, the targets), to paste into README. The exit code is 1 when a contender
// loses a byte or fails. A select that refuses or aborts on an fd ≥ FD_SETSIZE is a result, shown
// in its cell, not a failure.
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#if defined(MUXLAB_BENCH_HAVE_LIBEVENT)
#include <event2/event.h>
#endif
#if defined(MUXLAB_BENCH_HAVE_LIBUV)
#include <uv.h>
#endif

#include "muxlab/backend.hpp"
#include "muxlab/environment.hpp"

#include "harness.hpp"

namespace {

// How long a wait may find nothing readable before the unconsumed bytes are declared lost.
// AF_UNIX delivery is synchronous, so while a byte is unconsumed some pair is readable and a
// correct contender never sleeps; the timeout only bounds how long a broken one can hang.
constexpr std::chrono::milliseconds kStallTimeout{1000};
constexpr int kStallTimeoutMs = static_cast<int>(kStallTimeout.count());

// Ready events one wait can return, for muxlab and the raw epoll loop alike. At most `a` (≤ 100)
// bytes are in flight, so at most that many pairs are readable and one wait returns them all.
constexpr std::size_t kEventCapacity = 256;

using muxlab_bench::Failure;
using muxlab_bench::TimingClock;

// `error` is errno, saved by the caller before anything else can change it.
[[noreturn]] void throw_errno(int error, std::string_view what) {
  throw Failure(fmt::format("{}: {}", what, std::strerror(error)));
}

// A file descriptor closed when it goes out of scope.
class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// ---------------------------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------------------------

// n connected AF_UNIX stream socket pairs, both ends non-blocking. The contenders watch the read
// ends; the chain writes into the write ends.
class SocketPairs {
 public:
  explicit SocketPairs(std::size_t count) {
    ends_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
        const int error = errno;
        close_all();
        throw Failure(fmt::format("socketpair #{} of {}: {}", i + 1, count, std::strerror(error)));
      }
      ends_.push_back({fds[0], fds[1]});
    }
  }
  ~SocketPairs() { close_all(); }
  SocketPairs(const SocketPairs&) = delete;
  SocketPairs& operator=(const SocketPairs&) = delete;

  std::size_t count() const { return ends_.size(); }
  int read_end(std::size_t pair) const { return ends_[pair].read; }
  int write_end(std::size_t pair) const { return ends_[pair].write; }

  int highest_read_end() const {
    int highest = -1;
    for (const Ends& e : ends_)
      highest = std::max(highest, e.read);
    return highest;
  }

 private:
  struct Ends {
    int read;
    int write;
  };

  void close_all() {
    for (const Ends& e : ends_) {
      ::close(e.read);
      ::close(e.write);
    }
    ends_.clear();
  }

  std::vector<Ends> ends_;
};

// The workload's counters and its read callback, shared by every contender.
class Chain {
 public:
  // lose_a_byte: every iteration counts its first byte as written but never sends it.
  Chain(const SocketPairs& pairs, bool lose_a_byte) : pairs_(pairs), lose_a_byte_(lose_a_byte) {}

  // Untimed: one byte into each of `active` evenly spaced pairs, and a fresh budget of n forwards.
  void start_iteration(std::size_t active) {
    bytes_written_ = 0;
    bytes_read_ = 0;
    failed_calls_ = 0;
    forwards_left_ = pairs_.count();
    expected_bytes_ = active + pairs_.count();
    const std::size_t spacing = pairs_.count() / active;
    for (std::size_t k = 0; k < active; ++k) {
      if (lose_a_byte_ && k == 0) {
        ++bytes_written_;
        continue;
      }
      send_byte(k * spacing);
    }
  }

  // The read callback: take one byte from `pair` and, while the budget lasts, pass one byte on
  // to the next pair.
  void on_readable(std::size_t pair) {
    char byte;
    if (::recv(pairs_.read_end(pair), &byte, 1, 0) != 1) {
      ++failed_calls_;
      return;
    }
    ++bytes_read_;
    if (forwards_left_ > 0) {
      --forwards_left_;
      send_byte(pair + 1 == pairs_.count() ? 0 : pair + 1);
    }
  }

  bool has_unconsumed_bytes() const { return bytes_read_ < bytes_written_; }
  std::size_t bytes_read() const { return bytes_read_; }

  std::string progress() const {
    return fmt::format("{} of {} bytes written were read", bytes_read_, bytes_written_);
  }

  // After a dispatch: every byte the iteration should write was written, and every one was read.
  void check_every_byte_consumed() const {
    if (bytes_written_ == expected_bytes_ && bytes_read_ == bytes_written_ && failed_calls_ == 0)
      return;
    throw Failure(
        fmt::format("bytes lost: {} of {} expected were written, {} read, {} recv/send "
                    "calls did not move a byte",
                    bytes_written_, expected_bytes_, bytes_read_, failed_calls_));
  }

 private:
  void send_byte(std::size_t pair) {
    static constexpr char kByte = 'e';  // what libevent's bench sends
    if (::send(pairs_.write_end(pair), &kByte, 1, MSG_NOSIGNAL) == 1)
      ++bytes_written_;
    else
      ++failed_calls_;
  }

  const SocketPairs& pairs_;
  const bool lose_a_byte_;
  std::size_t expected_bytes_ = 0;
  std::size_t bytes_written_ = 0;
  std::size_t bytes_read_ = 0;
  std::size_t forwards_left_ = 0;
  // A recv or send that did not move exactly one byte. With level-triggered reports that are
  // accurate there are none: a pair is reported only when it holds a byte.
  std::size_t failed_calls_ = 0;
};

[[noreturn]] void throw_stall(const Chain& chain) {
  throw Failure(fmt::format("stalled: nothing readable for {} ms, and only {}",
                            kStallTimeout.count(), chain.progress()));
}

// ---------------------------------------------------------------------------------------------
// The contenders
// ---------------------------------------------------------------------------------------------

// One contender set up for one cell: the read ends registered, ready to run iterations.
class Dispatcher {
 public:
  Dispatcher() = default;
  // The peers keep pointers into a dispatcher, so it stays where it was made.
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;
  virtual ~Dispatcher() = default;
  // Waits for readable pairs and calls Chain::on_readable for each until every byte written has
  // been read. Throws Failure when the contender fails or stalls.
  virtual void dispatch() = 0;
};

// A cell a contender does not run, and what the report says instead of a time.
struct NotRun {
  std::string cell_text;  // "refused: …", "skipped: …", "aborts (signal 6)"
  std::string note;       // the why, printed once under the table
};

using Setup = std::variant<std::unique_ptr<Dispatcher>, NotRun>;

struct Contender {
  std::string name;  // "muxlab-epoll": the report's row and the benchmark's name
  std::function<Setup(const SocketPairs&, Chain&)> set_up;
};

// muxlab's backends, reached the way a user reaches them: Environment, then Backend.
class MuxlabDispatcher final : public Dispatcher {
 public:
  MuxlabDispatcher(std::unique_ptr<muxlab::Environment> environment,
                   std::unique_ptr<muxlab::Backend> backend, Chain& chain)
      : environment_(std::move(environment)), backend_(std::move(backend)), chain_(chain) {}

  void dispatch() override {
    while (chain_.has_unconsumed_bytes()) {
      const muxlab::Result<std::size_t> ready = backend_->wait(events_, kStallTimeout);
      if (!ready.ok()) throw Failure(ready.error().message());
      if (*ready == 0) throw_stall(chain_);
      for (std::size_t i = 0; i < *ready; ++i)
        chain_.on_readable(events_[i].token);
    }
  }

 private:
  std::unique_ptr<muxlab::Environment> environment_;
  std::unique_ptr<muxlab::Backend> backend_;
  Chain& chain_;
  std::array<muxlab::Event, kEventCapacity> events_{};
};

Setup set_up_muxlab(std::string_view environment_name, const SocketPairs& pairs, Chain& chain) {
  auto environment = muxlab::make_environment(environment_name);
  if (!environment.ok()) throw Failure(environment.error().message());
  auto backend = (*environment)->make_backend();
  if (!backend.ok()) throw Failure(backend.error().message());
  for (std::size_t pair = 0; pair < pairs.count(); ++pair) {
    const muxlab::Status added =
        (*backend)->add(pairs.read_end(pair), muxlab::Interest::read, pair);
    if (added.ok()) continue;
    // select's fd-value limit: the refusal is the result this cell reports.
    if (added.error() == muxlab::Errc::too_many_handles)
      return NotRun{"refused: " + added.error().message(), ""};
    throw Failure(added.error().message());
  }
  return std::make_unique<MuxlabDispatcher>(std::move(*environment), std::move(*backend), chain);
}

// The raw loops are what a careful programmer writes by hand with the same system call: the
// baselines that say what muxlab's interface costs.

class RawEpollDispatcher final : public Dispatcher {
 public:
  RawEpollDispatcher(const SocketPairs& pairs, Chain& chain)
      : chain_(chain), epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epfd_.get() < 0) throw_errno(errno, "epoll_create1");
    for (std::size_t pair = 0; pair < pairs.count(); ++pair) {
      epoll_event interest{};
      interest.events = EPOLLIN;
      interest.data.u64 = pair;  // the kernel hands back the pair index itself
      if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, pairs.read_end(pair), &interest) != 0) {
        const int error = errno;
        throw_errno(error, fmt::format("epoll_ctl(ADD) fd {}", pairs.read_end(pair)));
      }
    }
  }

  void dispatch() override {
    while (chain_.has_unconsumed_bytes()) {
      const int ready = ::epoll_wait(epfd_.get(), events_.data(), static_cast<int>(events_.size()),
                                     kStallTimeoutMs);
      if (ready < 0) {
        if (errno == EINTR) continue;
        throw_errno(errno, "epoll_wait");
      }
      if (ready == 0) throw_stall(chain_);
      for (int i = 0; i < ready; ++i)
        chain_.on_readable(events_[static_cast<std::size_t>(i)].data.u64);
    }
  }

 private:
  Chain& chain_;
  OwnedFd epfd_;
  std::array<epoll_event, kEventCapacity> events_{};
};

class RawPollDispatcher final : public Dispatcher {
 public:
  RawPollDispatcher(const SocketPairs& pairs, Chain& chain) : chain_(chain) {
    watched_.reserve(pairs.count());
    for (std::size_t pair = 0; pair < pairs.count(); ++pair)
      watched_.push_back(pollfd{pairs.read_end(pair), POLLIN, 0});  // index = pair
  }

  void dispatch() override {
    while (chain_.has_unconsumed_bytes()) {
      int ready = ::poll(watched_.data(), watched_.size(), kStallTimeoutMs);
      if (ready < 0) {
        if (errno == EINTR) continue;
        throw_errno(errno, "poll");
      }
      if (ready == 0) throw_stall(chain_);
      // Stop scanning once all `ready` entries are found, as any poll loop does.
      for (std::size_t pair = 0; pair < watched_.size() && ready > 0; ++pair) {
        if (watched_[pair].revents == 0) continue;
        --ready;
        chain_.on_readable(pair);
      }
    }
  }

 private:
  Chain& chain_;
  std::vector<pollfd> watched_;
};

class RawSelectDispatcher final : public Dispatcher {
 public:
  RawSelectDispatcher(const SocketPairs& pairs, Chain& chain)
      : pairs_(pairs), chain_(chain), highest_fd_(pairs.highest_read_end()) {
    FD_ZERO(&watched_);
    for (std::size_t pair = 0; pair < pairs.count(); ++pair)
      FD_SET(pairs.read_end(pair), &watched_);
  }

  void dispatch() override {
    while (chain_.has_unconsumed_bytes()) {
      fd_set readable = watched_;  // select overwrites its sets (and, on Linux, the timeout)
      timeval timeout{kStallTimeoutMs / 1000, (kStallTimeoutMs % 1000) * 1000};
      int ready = ::select(highest_fd_ + 1, &readable, nullptr, nullptr, &timeout);
      if (ready < 0) {
        if (errno == EINTR) continue;
        throw_errno(errno, "select");
      }
      if (ready == 0) throw_stall(chain_);
      for (std::size_t pair = 0; pair < pairs_.count() && ready > 0; ++pair) {
        if (!FD_ISSET(pairs_.read_end(pair), &readable)) continue;
        --ready;
        chain_.on_readable(pair);
      }
    }
  }

 private:
  const SocketPairs& pairs_;
  Chain& chain_;
  int highest_fd_;
  fd_set watched_;
};

// A hand-written select loop must not FD_SET an fd ≥ FD_SETSIZE: the fd_set has FD_SETSIZE bits,
// so FD_SET would write past it (glibc's fortify check aborts instead). It can only skip the cell.
Setup set_up_raw_select(const SocketPairs& pairs, Chain& chain) {
  if (const int highest = pairs.highest_read_end(); highest >= FD_SETSIZE)
    return NotRun{fmt::format("skipped: fd {} ≥ FD_SETSIZE", highest),
                  fmt::format("raw-select: not run where a read end is ≥ FD_SETSIZE ({}): select "
                              "watches fd values below FD_SETSIZE only, and FD_SET on a larger "
                              "one writes past the fd_set.",
                              FD_SETSIZE)};
  return std::make_unique<RawSelectDispatcher>(pairs, chain);
}

#if defined(MUXLAB_BENCH_HAVE_LIBEVENT) || defined(MUXLAB_BENCH_HAVE_LIBUV)

// The peers call back with one pointer of ours per registration.
struct PairCallback {
  Chain* chain;
  std::size_t pair;
};

// The peers own their wait, so a stall is caught by a timer ticking every kStallTimeout: a whole
// tick without a byte read means the unconsumed bytes are lost.
class StallWatchdog {
 public:
  explicit StallWatchdog(const Chain& chain) : chain_(chain) {}

  // At the start of each dispatch, together with (re)starting the timer.
  void arm() {
    stalled_ = false;
    bytes_read_at_last_tick_ = chain_.bytes_read();
  }
  void tick() {
    if (chain_.bytes_read() == bytes_read_at_last_tick_) stalled_ = true;
    bytes_read_at_last_tick_ = chain_.bytes_read();
  }
  bool stalled() const { return stalled_; }

 private:
  const Chain& chain_;
  std::size_t bytes_read_at_last_tick_ = 0;
  bool stalled_ = false;
};

#endif

#if defined(MUXLAB_BENCH_HAVE_LIBEVENT)

struct EventBaseFree {
  void operator()(event_base* base) const { event_base_free(base); }
};
struct EventFree {
  void operator()(event* ev) const { event_free(ev); }
};

// libevent with exactly one backend: method is "epoll", "poll" or "select".
class LibeventDispatcher final : public Dispatcher {
 public:
  LibeventDispatcher(const char* method, const SocketPairs& pairs, Chain& chain)
      : chain_(chain), watchdog_(chain), base_(make_base(method)) {
    callbacks_.reserve(pairs.count());  // no reallocation: libevent keeps pointers into it
    events_.reserve(pairs.count());
    for (std::size_t pair = 0; pair < pairs.count(); ++pair) {
      callbacks_.push_back({&chain, pair});
      events_.emplace_back(event_new(base_.get(), pairs.read_end(pair), EV_READ | EV_PERSIST,
                                     on_read, &callbacks_.back()));
      if (!events_.back() || event_add(events_.back().get(), nullptr) != 0)
        throw Failure(fmt::format("libevent {}: event_add fd {}", method, pairs.read_end(pair)));
    }
    watchdog_timer_.reset(event_new(base_.get(), -1, EV_PERSIST, on_watchdog_tick, &watchdog_));
    if (!watchdog_timer_) throw Failure("libevent: event_new for the watchdog timer");
  }

  void dispatch() override {
    watchdog_.arm();
    const timeval tick{kStallTimeoutMs / 1000, (kStallTimeoutMs % 1000) * 1000};
    if (event_add(watchdog_timer_.get(), &tick) != 0)
      throw Failure("libevent: event_add for the watchdog timer");
    while (chain_.has_unconsumed_bytes() && !watchdog_.stalled()) {
      if (event_base_loop(base_.get(), EVLOOP_ONCE) < 0)
        throw Failure("libevent: event_base_loop failed");
    }
    event_del(watchdog_timer_.get());
    if (watchdog_.stalled()) throw_stall(chain_);
  }

 private:
  // libevent takes the best backend it has; avoiding every other one leaves it exactly one.
  // EVENT_BASE_FLAG_IGNORE_ENV keeps EVENT_NOEPOLL and the like from changing the choice.
  static event_base* make_base(const char* method) {
    event_config* config = event_config_new();
    if (!config) throw Failure("libevent: event_config_new");
    event_config_set_flag(config, EVENT_BASE_FLAG_IGNORE_ENV);
    for (const char** other = event_get_supported_methods(); *other; ++other) {
      if (std::strcmp(*other, method) != 0) event_config_avoid_method(config, *other);
    }
    event_base* base = event_base_new_with_config(config);
    event_config_free(config);
    if (!base) throw Failure(fmt::format("libevent: no event_base with only '{}'", method));
    if (std::strcmp(event_base_get_method(base), method) != 0) {
      const std::string got = event_base_get_method(base);
      event_base_free(base);
      throw Failure(
          fmt::format("libevent: asked for {}, event_base_get_method says {}", method, got));
    }
    return base;
  }

  static void on_read(evutil_socket_t, short, void* arg) {
    const auto* callback = static_cast<const PairCallback*>(arg);
    callback->chain->on_readable(callback->pair);
  }

  static void on_watchdog_tick(evutil_socket_t, short, void* arg) {
    static_cast<StallWatchdog*>(arg)->tick();
  }

  Chain& chain_;
  StallWatchdog watchdog_;
  // Declared before the events so that it is destroyed after them.
  std::unique_ptr<event_base, EventBaseFree> base_;
  std::vector<PairCallback> callbacks_;
  std::vector<std::unique_ptr<event, EventFree>> events_;
  std::unique_ptr<event, EventFree> watchdog_timer_;
};

// libevent's select backend sizes its own fd_sets to fit any fd, but fills them with glibc's
// FD_SET, whose _FORTIFY_SOURCE check aborts the process on an fd ≥ FD_SETSIZE. That is shown in
// a forked child, which registers the pairs and dispatches once, so this process lives to report
// it.
NotRun run_libevent_select_in_child(const SocketPairs& pairs, Chain& chain) {
  int child_stderr[2];
  if (::pipe2(child_stderr, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
  const pid_t child = ::fork();
  if (child < 0) {
    const int error = errno;
    ::close(child_stderr[0]);
    ::close(child_stderr[1]);
    throw_errno(error, "fork");
  }
  if (child == 0) {
    ::dup2(child_stderr[1], STDERR_FILENO);
    const rlimit no_core_file{0, 0};  // the abort is the expected outcome, not a crash to debug
    ::setrlimit(RLIMIT_CORE, &no_core_file);
    try {
      LibeventDispatcher dispatcher("select", pairs, chain);
      chain.start_iteration(1);
      dispatcher.dispatch();
      chain.check_every_byte_consumed();
    } catch (const std::exception& e) {
      fmt::print(stderr, "{}\n", e.what());
      ::_exit(1);
    }
    ::_exit(0);  // never return into Google Benchmark in the child
  }
  ::close(child_stderr[1]);
  std::string said;
  char buffer[512];
  for (ssize_t got; (got = ::read(child_stderr[0], buffer, sizeof buffer)) != 0;) {
    if (got > 0)
      said.append(buffer, static_cast<std::size_t>(got));
    else if (errno != EINTR)
      break;
  }
  ::close(child_stderr[0]);
  said = said.substr(0, said.find('\n'));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }

  const int fd = pairs.highest_read_end();
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    return NotRun{fmt::format("aborts (signal {})", signal),
                  fmt::format("libevent-select: with a read end ≥ FD_SETSIZE ({}), a forked child "
                              "that registered them was killed by signal {} ({}); it said: {}",
                              FD_SETSIZE, signal, strsignal(signal), said)};
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return NotRun{fmt::format("child exited {}", code),
                fmt::format("libevent-select: fd {} ≥ FD_SETSIZE did not abort the forked child, "
                            "which exited with status {}{}",
                            fd, code, said.empty() ? "" : ": " + said)};
}

Setup set_up_libevent(const char* method, const SocketPairs& pairs, Chain& chain) {
  if (std::strcmp(method, "select") == 0 && pairs.highest_read_end() >= FD_SETSIZE)
    return run_libevent_select_in_child(pairs, chain);
  return std::make_unique<LibeventDispatcher>(method, pairs, chain);
}

#endif  // MUXLAB_BENCH_HAVE_LIBEVENT

#if defined(MUXLAB_BENCH_HAVE_LIBUV)

// libuv has no choice of backend; on Linux it is epoll. uv_run(UV_RUN_ONCE) is one wait.
class LibuvDispatcher final : public Dispatcher {
 public:
  LibuvDispatcher(const SocketPairs& pairs, Chain& chain)
      : chain_(chain), watchdog_(chain), callbacks_(pairs.count()), polls_(pairs.count()) {
    check(uv_loop_init(&loop_), "uv_loop_init");
    loop_initialized_ = true;
    try {
      check(uv_timer_init(&loop_, &watchdog_timer_), "uv_timer_init");
      watchdog_timer_.data = &watchdog_;
      timer_initialized_ = true;
      for (std::size_t pair = 0; pair < pairs.count(); ++pair) {
        callbacks_[pair] = {&chain, pair};
        check(uv_poll_init(&loop_, &polls_[pair], pairs.read_end(pair)), "uv_poll_init");
        ++polls_initialized_;
        polls_[pair].data = &callbacks_[pair];
        check(uv_poll_start(&polls_[pair], UV_READABLE, on_poll), "uv_poll_start");
      }
    } catch (...) {
      close_loop();
      throw;
    }
  }
  ~LibuvDispatcher() override { close_loop(); }

  void dispatch() override {
    watchdog_.arm();
    const auto tick_ms = static_cast<std::uint64_t>(kStallTimeoutMs);
    uv_timer_start(&watchdog_timer_, on_watchdog_tick, tick_ms, tick_ms);
    while (chain_.has_unconsumed_bytes() && !watchdog_.stalled())
      uv_run(&loop_, UV_RUN_ONCE);
    uv_timer_stop(&watchdog_timer_);
    if (watchdog_.stalled()) throw_stall(chain_);
  }

 private:
  static void check(int result, std::string_view call) {
    if (result != 0) throw Failure(fmt::format("libuv: {}: {}", call, uv_strerror(result)));
  }

  // libuv frees nothing by itself: every handle is closed, and the loop runs until the closes
  // are done, before the loop itself can close.
  void close_loop() {
    if (!loop_initialized_) return;
    for (std::size_t i = 0; i < polls_initialized_; ++i)
      uv_close(reinterpret_cast<uv_handle_t*>(&polls_[i]), nullptr);
    if (timer_initialized_) uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_timer_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    loop_initialized_ = false;
  }

  // A poll error (status < 0) needs no case of its own: the recv that follows fails and counts.
  static void on_poll(uv_poll_t* handle, int, int) {
    const auto* callback = static_cast<const PairCallback*>(handle->data);
    callback->chain->on_readable(callback->pair);
  }

  static void on_watchdog_tick(uv_timer_t* timer) {
    static_cast<StallWatchdog*>(timer->data)->tick();
  }

  Chain& chain_;
  StallWatchdog watchdog_;
  // Sized once: libuv keeps pointers to the handles, and the handles to the callbacks.
  std::vector<PairCallback> callbacks_;
  std::vector<uv_poll_t> polls_;
  uv_loop_t loop_{};
  uv_timer_t watchdog_timer_{};
  bool loop_initialized_ = false;
  bool timer_initialized_ = false;
  std::size_t polls_initialized_ = 0;
};

#endif  // MUXLAB_BENCH_HAVE_LIBUV

template <class SomeDispatcher>
Setup construct(const SocketPairs& pairs, Chain& chain) {
  return std::make_unique<SomeDispatcher>(pairs, chain);
}

// The report's rows, in this order: each mechanism's raw loop first, as its baseline.
std::vector<Contender> all_contenders() {
  auto muxlab = [](std::string environment) {
    return [environment](const SocketPairs& pairs, Chain& chain) {
      return set_up_muxlab(environment, pairs, chain);
    };
  };
  std::vector<Contender> contenders = {
      {"raw-epoll", construct<RawEpollDispatcher>},
      {"muxlab-epoll", muxlab("epoll")},
  };
#if defined(MUXLAB_BENCH_HAVE_LIBEVENT)
  auto libevent = [](const char* method) {
    return [method](const SocketPairs& pairs, Chain& chain) {
      return set_up_libevent(method, pairs, chain);
    };
  };
  contenders.push_back({"libevent-epoll", libevent("epoll")});
#endif
#if defined(MUXLAB_BENCH_HAVE_LIBUV)
  contenders.push_back({"libuv", construct<LibuvDispatcher>});
#endif
  contenders.push_back({"raw-poll", construct<RawPollDispatcher>});
  contenders.push_back({"muxlab-poll", muxlab("poll")});
#if defined(MUXLAB_BENCH_HAVE_LIBEVENT)
  contenders.push_back({"libevent-poll", libevent("poll")});
#endif
  contenders.push_back({"raw-select", set_up_raw_select});
  contenders.push_back({"muxlab-select", muxlab("select")});
#if defined(MUXLAB_BENCH_HAVE_LIBEVENT)
  contenders.push_back({"libevent-select", libevent("select")});
#endif
  return contenders;
}

// ---------------------------------------------------------------------------------------------
// Running the cells
// ---------------------------------------------------------------------------------------------

struct Cell {
  std::size_t pairs;   // n
  std::size_t active;  // a
};

const std::vector<Cell> kFullGrid = {{100, 1},    {100, 100}, {1000, 1},
                                     {1000, 100}, {5000, 1},  {5000, 100}};
// Small enough for ctest, and n = 1000 still takes select past FD_SETSIZE.
const std::vector<Cell> kQuickGrid = {{100, 1}, {100, 100}, {1000, 1}, {1000, 100}};

std::string cell_heading(Cell cell) {
  return fmt::format("n={} a={}", cell.pairs, cell.active);
}

std::string benchmark_name(std::string_view contender, Cell cell) {
  return fmt::format("chain/{}/n:{}/a:{}", contender, cell.pairs, cell.active);
}

// What is known about one (contender, cell) after the runs.
struct CellRecord {
  bool selected = false;            // --benchmark_filter let it run
  std::optional<NotRun> not_run;    // found by the first run; later repetitions skip at once
  std::string failure;              // the first failure, which makes the exit code 1
  std::optional<double> median_us;  // Google Benchmark's median over the repetitions
};

// The flags both programs take, and --clock=.
struct Options : muxlab_bench::Options {
  TimingClock clock = TimingClock::thread_cpu;
};

// n socket pairs and the chain of bytes over them: what contenders are set up on. Usually each
// contender has its own; two can share one, taking turns (see "Paired runs").
struct Ring {
  Ring(std::size_t pair_count, bool lose_a_byte) : pairs(pair_count), chain(pairs, lose_a_byte) {}
  SocketPairs pairs;
  Chain chain;  // refers to pairs
};

// One contender set up on a ring of socket pairs, ready to run iterations; or, where it does not
// run (select past FD_SETSIZE), why not.
class ContenderOnPairs {
 public:
  ContenderOnPairs(const Contender& contender, std::shared_ptr<Ring> ring, std::size_t active)
      : ring_(std::move(ring)), chain_(ring_->chain), active_(active) {
    Setup setup = contender.set_up(ring_->pairs, chain_);
    if (auto* not_run = std::get_if<NotRun>(&setup))
      not_run_ = std::move(*not_run);
    else
      dispatcher_ = std::move(std::get<std::unique_ptr<Dispatcher>>(setup));
  }

  std::optional<NotRun>& not_run() { return not_run_; }

  // Untimed: warms the caches and proves every byte arrives before timing starts.
  void warm_up() {
    chain_.start_iteration(active_);
    dispatcher_->dispatch();
    chain_.check_every_byte_consumed();
  }

  // One iteration whose dispatch phase is timed, in seconds; every byte is checked after it.
  double timed_iteration(TimingClock clock) {
    chain_.start_iteration(active_);
    const long sleeps_before = muxlab_bench::voluntary_context_switches();
    const double start = muxlab_bench::clock_seconds(clock);
    dispatcher_->dispatch();
    const double elapsed = muxlab_bench::clock_seconds(clock) - start;
    const long sleeps = muxlab_bench::voluntary_context_switches() - sleeps_before;
    chain_.check_every_byte_consumed();
    if (clock == TimingClock::thread_cpu && sleeps > 0)
      throw Failure(
          fmt::format("the dispatch slept {} times, and its CPU time leaves the sleep out; "
                      "time it with --clock=wall",
                      sleeps));
    return elapsed;
  }

 private:
  std::shared_ptr<Ring> ring_;
  Chain& chain_;
  std::size_t active_;
  std::optional<NotRun> not_run_;
  std::unique_ptr<Dispatcher> dispatcher_;  // after what it points into, so destroyed first
};

// One Google Benchmark run of a cell: set up, one untimed iteration, then the timed ones.
void run_cell(benchmark::State& state, const Contender& contender, Cell cell,
              const Options& options, CellRecord& record) {
  record.selected = true;
  if (record.not_run) {
    state.SkipWithError(record.not_run->cell_text.c_str());
    return;
  }
  muxlab_bench::guarded(state, record.failure, [&] {
    ContenderOnPairs side(contender, std::make_shared<Ring>(cell.pairs, options.lose_a_byte),
                          cell.active);
    if (side.not_run()) {
      record.not_run = std::move(side.not_run());
      state.SkipWithError(record.not_run->cell_text.c_str());
      return;
    }
    side.warm_up();
    for (auto _ : state)
      state.SetIterationTime(side.timed_iteration(options.clock));
  });
}

// ---------------------------------------------------------------------------------------------
// Paired runs: what the targets are judged by
// ---------------------------------------------------------------------------------------------

// Medians of separate repetitions carry the machine's drift from one repetition to the next: on
// this project's shared VM the same binary's muxlab-epoll ÷ raw-epoll swung from 0.93 to 1.12
// between runs. A paired run sets the two contenders up side by side, each on its own socket
// pairs, and alternates single iterations: A then B, then B then A, so that neither always runs
// second, in caches the other warmed. A burst of noise lands on both halves of a round, and the
// median of the rounds' ratios leaves out what they share.
//
// Where two rings do not fit in the open-file limit (n = 5000 here: 4n descriptors against 20 000),
// the two sides share one ring. They take turns and each consumes every byte before the other
// starts, so neither sees the other's data. poll and select keep nothing in the kernel between
// waits, so their sides do not disturb each other. epoll does: each instance's ready list fills
// while the other side runs, and the raw-epoll control on a shared ring came out at 1.056
// (quartiles 0.915-1.095). So a shared ring pairs only the targets held at that n, which at
// n = 5000 are poll's; the others show the ratio of the medians.

// A muxlab backend against the raw loop over the same system call, or against a peer, and the
// most the ratio may be.
struct Target {
  std::string_view contender;
  std::string_view baseline;
  double max_ratio;
  std::size_t max_pairs;  // cells with more pairs are not held to it
};

constexpr Target kTargets[] = {
    // The control: raw-epoll against itself shows the method's own bias and spread.
    {"raw-epoll", "raw-epoll", 1.00, 0},
    {"muxlab-epoll", "raw-epoll", 1.03, 1000},
    {"muxlab-epoll", "libevent-epoll", 1.00, 1000},
    {"muxlab-epoll", "libuv", 1.00, 1000},
    {"muxlab-poll", "raw-poll", 1.05, std::numeric_limits<std::size_t>::max()},
    {"muxlab-select", "raw-select", 1.05, std::numeric_limits<std::size_t>::max()},
};

struct PairedRecord {
  std::size_t rounds = 0;
  double median = 0;  // of the rounds' contender ÷ baseline
  double first_quartile = 0;
  double third_quartile = 0;
};

// The value below which `fraction` of the sorted `values` lie (nearest rank).
double quantile(const std::vector<double>& sorted, double fraction) {
  const auto rank =
      static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[rank];
}

// How long a paired run goes on: rounds until both the minimum count and the time are spent, or
// the maximum count. Five rounds of poll at n=5000 a=1 take half a minute.
struct PairedBudget {
  std::size_t min_rounds;
  std::size_t max_rounds;
  double seconds;
  std::string text;  // for the report
};

PairedBudget paired_budget(const Options& options) {
  if (options.quick) return {3, 20, 0.05, "at least 3 rounds and 0.05 s, at most 20 rounds"};
  return {5, 4000, 3.0, "at least 5 rounds and 3 s of wall time, at most 4 000 rounds"};
}

// How a cell's paired runs get their socket pairs.
enum class Pairing { separate_rings, shared_ring, not_paired };

PairedRecord run_paired(const Contender& contender, const Contender& baseline, Cell cell,
                        Pairing pairing, const Options& options) {
  const PairedBudget budget = paired_budget(options);

  const auto ring = std::make_shared<Ring>(cell.pairs, options.lose_a_byte);
  ContenderOnPairs mine(contender, ring, cell.active);
  ContenderOnPairs theirs(baseline,
                          pairing == Pairing::shared_ring
                              ? ring
                              : std::make_shared<Ring>(cell.pairs, options.lose_a_byte),
                          cell.active);
  for (ContenderOnPairs* side : {&mine, &theirs}) {
    if (side->not_run())
      throw Failure(fmt::format("{} did not run: {}",
                                side == &mine ? contender.name : baseline.name,
                                side->not_run()->cell_text));
    side->timed_iteration(options.clock);  // warm-up, bytes checked, time thrown away
  }

  std::vector<double> ratios;
  const double start = muxlab_bench::clock_seconds(TimingClock::wall);
  while (ratios.size() < budget.max_rounds &&
         (ratios.size() < budget.min_rounds ||
          muxlab_bench::clock_seconds(TimingClock::wall) - start < budget.seconds)) {
    double mine_seconds = 0;
    double theirs_seconds = 0;
    if (ratios.size() % 2 == 0) {
      mine_seconds = mine.timed_iteration(options.clock);
      theirs_seconds = theirs.timed_iteration(options.clock);
    } else {
      theirs_seconds = theirs.timed_iteration(options.clock);
      mine_seconds = mine.timed_iteration(options.clock);
    }
    ratios.push_back(mine_seconds / theirs_seconds);
  }
  std::sort(ratios.begin(), ratios.end());
  return {ratios.size(), quantile(ratios, 0.5), quantile(ratios, 0.25), quantile(ratios, 0.75)};
}

// A ring holds 2n descriptors; the rest of the process, the peers' own included, a few dozen.
std::size_t descriptors_for_rings(Cell cell, std::size_t rings) {
  return rings * 2 * cell.pairs + 64;
}

std::size_t open_file_limit() {
  rlimit limit{};
  return ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? static_cast<std::size_t>(limit.rlim_cur) : 0;
}

// Separate rings where they fit; else one shared ring; where not even that fits (an open-file
// limit that could not be raised), the targets fall back on the medians.
Pairing pairing_for(Cell cell) {
  if (descriptors_for_rings(cell, 2) <= open_file_limit()) return Pairing::separate_rings;
  if (descriptors_for_rings(cell, 1) <= open_file_limit()) return Pairing::shared_ring;
  return Pairing::not_paired;
}

std::string paired_name(const Target& target, Cell cell) {
  return fmt::format("{}÷{}/{}", target.contender, target.baseline, cell_heading(cell));
}

// Every target in every cell where both of its contenders ran cleanly in the benchmarks. Progress
// goes to stderr, like Google Benchmark's.
std::map<std::string, PairedRecord> run_all_paired(const std::vector<Contender>& contenders,
                                                   const std::vector<Cell>& grid,
                                                   std::map<std::string, CellRecord>& records,
                                                   const Options& options) {
  auto find_contender = [&](std::string_view name) -> const Contender* {
    for (const Contender& c : contenders)
      if (c.name == name) return &c;
    return nullptr;
  };
  auto ran_cleanly = [&](std::string_view name, Cell cell) {
    const auto it = records.find(benchmark_name(name, cell));
    return it != records.end() && it->second.selected && !it->second.not_run &&
           it->second.failure.empty() && it->second.median_us;
  };
  std::map<std::string, PairedRecord> paired;
  for (const Target& target : kTargets) {
    const Contender* contender = find_contender(target.contender);
    const Contender* baseline = find_contender(target.baseline);
    if (!contender || !baseline) continue;
    for (const Cell& cell : grid) {
      if (!ran_cleanly(target.contender, cell) || !ran_cleanly(target.baseline, cell)) continue;
      const Pairing pairing = pairing_for(cell);
      if (pairing == Pairing::not_paired) continue;
      if (pairing == Pairing::shared_ring && cell.pairs > target.max_pairs) continue;
      const std::string name = paired_name(target, cell);
      try {
        const PairedRecord record = run_paired(*contender, *baseline, cell, pairing, options);
        fmt::print(stderr, "paired {}: {:.3f} (quartiles {:.3f}-{:.3f}, {} rounds)\n", name,
                   record.median, record.first_quartile, record.third_quartile, record.rounds);
        paired[name] = record;
      } catch (const Failure& failure) {
        // A failure here is a contender's failure, reported with the benchmarks'.
        records[benchmark_name(target.contender, cell)].failure =
            fmt::format("paired with {}: {}", target.baseline, failure.what());
      }
    }
  }
  return paired;
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

std::string peer_versions() {
  std::vector<std::string> versions;
#if defined(MUXLAB_BENCH_HAVE_LIBEVENT)
  versions.push_back(fmt::format("libevent {}", event_get_version()));
#endif
#if defined(MUXLAB_BENCH_HAVE_LIBUV)
  versions.push_back(fmt::format("libuv {}", uv_version_string()));
#endif
  return versions.empty() ? "no peers found at configure time"
                          : fmt::format("{}", fmt::join(versions, ", "));
}

std::string format_us(double us) {
  if (us >= 1000) return fmt::format("{:.0f}", us);
  if (us >= 10) return fmt::format("{:.1f}", us);
  return fmt::format("{:.2f}", us);
}

// The Markdown that goes to stdout. Rows and columns that --benchmark_filter left out are omitted.
class Report {
 public:
  Report(const std::vector<Contender>& contenders, const std::vector<Cell>& grid,
         const std::map<std::string, CellRecord>& records,
         const std::map<std::string, PairedRecord>& paired, std::string paired_budget_text)
      : records_(records), paired_(paired), paired_budget_text_(std::move(paired_budget_text)) {
    for (const Contender& contender : contenders) {
      if (std::any_of(grid.begin(), grid.end(),
                      [&](Cell cell) { return was_selected(contender.name, cell); }))
        rows_.push_back(contender.name);
    }
    for (const Cell& cell : grid) {
      if (std::any_of(contenders.begin(), contenders.end(),
                      [&](const Contender& c) { return was_selected(c.name, cell); }))
        columns_.push_back(cell);
    }
  }

  void print(const muxlab_bench::RunConditions& conditions, TimingClock clock) const {
    fmt::print("## chain: libevent's benchmark workload\n\n");
    fmt::print(
        "n AF_UNIX socket pairs, their read ends registered once (level-triggered). An iteration "
        "writes 1 byte into a evenly spaced pairs; each read forwards 1 byte to the next pair "
        "until n forwards are done. Median over {} repetitions of the dispatch phase's {}, in µs "
        "per iteration; in parentheses, the ratio to raw-epoll in the same column. libuv has no "
        "choice of backend: on Linux it is epoll.\n\n",
        conditions.repetitions, clock == TimingClock::wall ? "wall-clock time" : "thread CPU time");
    fmt::print("Measured {} on {}; load average {} before, {} after; {}.\n\n", conditions.date,
               conditions.machine, conditions.load_before, conditions.load_after, peer_versions());
    print_times();
    print_targets();
    print_notes();
  }

 private:
  const CellRecord* find(std::string_view contender, Cell cell) const {
    const auto it = records_.find(benchmark_name(contender, cell));
    return it == records_.end() ? nullptr : &it->second;
  }

  bool was_selected(std::string_view contender, Cell cell) const {
    const CellRecord* record = find(contender, cell);
    return record && record->selected;
  }

  std::optional<double> median(std::string_view contender, Cell cell) const {
    const CellRecord* record = find(contender, cell);
    return record ? record->median_us : std::nullopt;
  }

  void print_header(std::string_view first_column) const {
    std::vector<std::string> headings;
    for (const Cell& cell : columns_)
      headings.push_back(cell_heading(cell));
    muxlab_bench::print_table_header(first_column, headings);
  }

  std::string time_cell(std::string_view contender, Cell cell) const {
    const CellRecord* record = find(contender, cell);
    if (!record || !record->selected) return "—";
    if (!record->failure.empty()) return "**failed** (see below)";
    if (record->not_run) return record->not_run->cell_text;
    if (!record->median_us) return "—";
    const std::optional<double> baseline = median("raw-epoll", cell);
    if (!baseline) return format_us(*record->median_us);
    return fmt::format("{} ({:.2f}×)", format_us(*record->median_us),
                       *record->median_us / *baseline);
  }

  void print_times() const {
    print_header("contender");
    for (const std::string& contender : rows_) {
      fmt::print("| {} |", contender);
      for (const Cell& cell : columns_)
        fmt::print(" {} |", time_cell(contender, cell));
      fmt::print("\n");
    }
    fmt::print("\n");
  }

  // A target's ratio in one cell: the paired run's, or where it was not paired, the medians'.
  std::optional<std::pair<double, std::string>> target_ratio(const Target& target,
                                                             Cell cell) const {
    if (const auto it = paired_.find(paired_name(target, cell)); it != paired_.end()) {
      const PairedRecord& p = it->second;
      return std::pair{p.median, fmt::format("{:.3f} ({:.3f}-{:.3f}, {})", p.median,
                                             p.first_quartile, p.third_quartile, p.rounds)};
    }
    const auto mine = median(target.contender, cell);
    const auto theirs = median(target.baseline, cell);
    if (pairing_for(cell) == Pairing::separate_rings || !mine || !theirs ||
        target.contender == target.baseline)
      return std::nullopt;
    return std::pair{*mine / *theirs, fmt::format("{:.3f} (medians)", *mine / *theirs)};
  }

  void print_targets() const {
    fmt::print(
        "Targets, judged by paired runs: the two contenders set up side by side, alternating "
        "single iterations (A B, then B A) for {}; the median of the rounds' ratios, and in "
        "parentheses its quartiles and the number of rounds.\n\n",
        paired_budget_text_);
    print_header("target");
    for (const Target& target : kTargets) {
      if (std::none_of(columns_.begin(), columns_.end(),
                       [&](Cell cell) { return target_ratio(target, cell).has_value(); }))
        continue;
      if (target.contender == target.baseline)
        fmt::print("| {} ÷ itself (the method's error) |", target.contender);
      else
        fmt::print("| {} ÷ {} ≤ {:.2f} |", target.contender, target.baseline, target.max_ratio);
      for (const Cell& cell : columns_) {
        const auto ratio = target_ratio(target, cell);
        if (!ratio) {
          fmt::print(" — |");
          continue;
        }
        const char* verdict = target.contender == target.baseline ? "control"
                              : cell.pairs > target.max_pairs     ? "not held to it"
                              : ratio->first <= target.max_ratio  ? "met"
                                                                  : "**missed**";
        fmt::print(" {}: {} |", ratio->second, verdict);
      }
      fmt::print("\n");
    }
    fmt::print("\n");
    std::map<std::size_t, Pairing> unusual;
    for (const Cell& cell : columns_)
      if (pairing_for(cell) != Pairing::separate_rings) unusual[cell.pairs] = pairing_for(cell);
    for (const auto& [n, pairing] : unusual) {
      if (pairing == Pairing::shared_ring)
        fmt::print(
            "- n={}: both sides of a pair ran on one set of socket pairs, taking turns, since two "
            "sets need {} descriptors and this process may open {}; only the targets held there "
            "were paired, and the others show the ratio of the medians above.\n",
            n, descriptors_for_rings(Cell{n, 1}, 2), open_file_limit());
      else
        fmt::print(
            "- n={}: not paired, since even one set of socket pairs needs {} descriptors and this "
            "process may open {}; the ratio there is of the medians above.\n",
            n, descriptors_for_rings(Cell{n, 1}, 1), open_file_limit());
    }
    if (!unusual.empty()) fmt::print("\n");
  }

  // Failures, then why cells were not run, each reason once.
  void print_notes() const {
    std::vector<std::string> notes;
    for (const std::string& contender : rows_) {
      for (const Cell& cell : columns_) {
        const CellRecord* record = find(contender, cell);
        if (!record) continue;
        if (!record->failure.empty())
          notes.push_back(
              fmt::format("FAILED {} {}: {}", contender, cell_heading(cell), record->failure));
        else if (record->not_run && !record->not_run->note.empty() &&
                 std::find(notes.begin(), notes.end(), record->not_run->note) == notes.end())
          notes.push_back(record->not_run->note);
      }
    }
    for (const std::string& note : notes)
      fmt::print("- {}\n", note);
    if (!notes.empty()) fmt::print("\n");
  }

  const std::map<std::string, CellRecord>& records_;
  const std::map<std::string, PairedRecord>& paired_;
  std::string paired_budget_text_;
  std::vector<std::string> rows_;
  std::vector<Cell> columns_;
};

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

Options parse_options(int argc, char** argv) {
  Options options;
  static_cast<muxlab_bench::Options&>(options) =
      muxlab_bench::parse_options(argc, argv, [&options](std::string_view arg) {
        if (arg == "--clock=cpu")
          options.clock = TimingClock::thread_cpu;
        else if (arg == "--clock=wall")
          options.clock = TimingClock::wall;
        else
          return false;
        return true;
      });
  return options;
}

// Google Benchmark's defaults here; the user's --benchmark_* flags come after them and win.
std::vector<std::string> benchmark_defaults(const Options& options) {
  return {
      // Many short repetitions rather than a few long ones: a burst of noise then spoils a few
      // samples, which the median ignores, instead of a large part of one.
      options.quick ? "--benchmark_repetitions=2" : "--benchmark_repetitions=9",
      options.quick ? "--benchmark_min_time=0.01" : "--benchmark_min_time=0.05",
      // The console shows mean, median, stddev and cv per cell, not every repetition.
      "--benchmark_display_aggregates_only=true",
      // On a shared machine noise comes in bursts; interleaving the repetitions of all cells
      // spreads a burst over every contender instead of landing on one.
      "--benchmark_enable_random_interleaving=true",
  };
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  // n = 5000 needs 10 000 sockets, more than the usual soft limit of 1024.
  if (const int error = muxlab_bench::raise_open_file_limit(); error != 0)
    fmt::print(stderr, "chain: cannot raise the open-file limit: {}\n", std::strerror(error));

  const std::vector<Contender> contenders = all_contenders();
  const std::vector<Cell>& grid = options.quick ? kQuickGrid : kFullGrid;
  std::map<std::string, CellRecord> records;
  for (const Contender& contender : contenders) {
    for (const Cell& cell : grid) {
      const std::string name = benchmark_name(contender.name, cell);
      CellRecord& record = records[name];
      benchmark::RegisterBenchmark(name.c_str(),
                                   [&contender, cell, &options, &record](benchmark::State& state) {
                                     run_cell(state, contender, cell, options, record);
                                   })
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  if (!muxlab_bench::initialize_benchmark(argv[0], benchmark_defaults(options), options)) return 2;

  const muxlab_bench::RunConditions conditions =
      muxlab_bench::run_benchmarks([&records](const std::string& name, double median) {
        if (auto it = records.find(name); it != records.end()) it->second.median_us = median;
      });

  const std::map<std::string, PairedRecord> paired =
      run_all_paired(contenders, grid, records, options);
  Report(contenders, grid, records, paired, paired_budget(options).text)
      .print(conditions, options.clock);

  int failures = 0;
  for (const auto& [name, record] : records) {
    if (record.failure.empty()) continue;
    fmt::print(stderr, "chain: FAILED {}: {}\n", name, record.failure);
    ++failures;
  }
  return failures == 0 ? 0 : 1;
}
