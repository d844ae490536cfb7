// fake_kernel: how fast the fake kernel is, and how little it keeps per connection (issue #3).
//
// Three workloads, each through muxlab's Environment and Backend as a user reaches them:
//
//   chain      libevent's chain (bench/chain.cpp) over n TCP connections made with listen, connect
//              and accept, on fake:epoll and on the real epoll (loopback TCP) in the same run, and
//              on fake:epoll wrapped in a TracedEnvironment, to show what tracing costs. The
//              server end of each connection is registered (level-triggered, read); a read takes
//              one byte and forwards one byte into the next connection's client end.
//   exchanges  fake:epoll, 100 000 connections (and 1 000, for comparison) with both ends
//              registered, 1 000 000 request/response exchanges, 100 in flight at a time:
//              readiness events per second, and the memory each idle connection costs.
//   idle       time per wait that reports the same 100 ready (level-triggered) handles while idle
//              registered connections grow from 400 to 100 000, on every fake personality and on
//              the real epoll and poll as far as this process's open-file limit lets them go.
//
//   fake_kernel            the full runs, 5 repetitions each (about a minute)
//   fake_kernel --quick    seconds: small sizes, 2 repetitions (ctest bench_fake_kernel_smoke)
//   fake_kernel --lose-a-byte   the chain counts one byte as sent without sending it, to prove
//                               that a lost byte fails the run (ctest
//                               bench_fake_kernel_catches_loss)
//   plus any --benchmark_* flag, e.g. --benchmark_filter=idle
//
// Tracing is off (no TracedEnvironment) everywhere except the rows named "+trace". Times are the
// dispatching thread's CPU time; a dispatch that slept (a real kernel waiting on something) fails
// the cell, since CPU time would leave the sleep out. Google Benchmark's progress goes to stderr,
// the Markdown report to stdout. The exit code is 1 when any byte or exchange is lost or a call
// fails; a select that refuses an fd ≥ FD_SETSIZE is a result, shown in its cell.
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "muxlab/backend.hpp"
#include "muxlab/environment.hpp"
#include "muxlab/fake.hpp"
#include "muxlab/net.hpp"
#include "muxlab/trace.hpp"

#include "harness.hpp"

// ---------------------------------------------------------------------------------------------
// Counting allocations: every operator new and delete of this program adds or subtracts the
// allocator's usable size of the block (malloc_usable_size), so the count is what the heap really
// holds for C++ objects, rounding included, but not malloc's own per-block header.
// ---------------------------------------------------------------------------------------------

namespace {
// Counted only while counting is on: the difference over that window is what the window's work
// added to the heap, and the timed runs pay nothing for it. Single-threaded: Google Benchmark
// runs every benchmark here on the main thread.
bool g_counting = false;
std::ptrdiff_t g_live_heap_bytes = 0;

// nullptr when malloc has no memory: the nothrow operators pass it on, the others throw.
void* counted_allocation(std::size_t size) noexcept {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p != nullptr && g_counting)
    g_live_heap_bytes += static_cast<std::ptrdiff_t>(malloc_usable_size(p));
  return p;
}

void* counted_allocation_or_throw(std::size_t size) {
  if (void* p = counted_allocation(size)) return p;
  throw std::bad_alloc();
}

void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  if (g_counting) g_live_heap_bytes -= static_cast<std::ptrdiff_t>(malloc_usable_size(p));
  std::free(p);
}
}  // namespace

void* operator new(std::size_t size) {
  return counted_allocation_or_throw(size);
}
void* operator new[](std::size_t size) {
  return counted_allocation_or_throw(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_allocation(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_allocation(size);
}
void operator delete(void* p) noexcept {
  counted_free(p);
}
void operator delete[](void* p) noexcept {
  counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  counted_free(p);
}

namespace {

using muxlab::Backend;
using muxlab::Environment;
using muxlab::Event;
using muxlab::Handle;
using muxlab::Interest;
using muxlab::Net;

// How long a wait may find nothing before the bytes still expected are declared lost. The fake
// kernel never waits in real time (virtual time jumps); a real loopback delivers within the send.
constexpr std::chrono::milliseconds kStallTimeout{1000};
constexpr std::size_t kEventCapacity = 256;

using muxlab_bench::Failure;

template <class T>
T check(muxlab::Result<T> result, std::string_view what) {
  if (!result.ok()) throw Failure(fmt::format("{}: {}", what, result.error().message()));
  return std::move(result).value();
}

void check(const muxlab::Status& status, std::string_view what) {
  if (!status.ok()) throw Failure(fmt::format("{}: {}", what, status.error().message()));
}

// One wait of at most kStallTimeout: how many events it put into `events`. The caller judges
// the count, since what a short one means differs by workload.
std::size_t wait_for_events(Backend& backend, std::array<Event, kEventCapacity>& events) {
  const muxlab::Result<std::size_t> ready = backend.wait(events, kStallTimeout);
  if (!ready.ok()) throw Failure(ready.error().message());
  return *ready;
}

// Times `dispatch` by this thread's CPU time; a dispatch that slept fails, see the top.
template <class Dispatch>
double timed(Dispatch dispatch) {
  using muxlab_bench::clock_seconds, muxlab_bench::voluntary_context_switches;
  const long sleeps_before = voluntary_context_switches();
  const double start = clock_seconds(muxlab_bench::TimingClock::thread_cpu);
  dispatch();
  const double elapsed = clock_seconds(muxlab_bench::TimingClock::thread_cpu) - start;
  if (const long sleeps = voluntary_context_switches() - sleeps_before; sleeps > 0)
    throw Failure(
        fmt::format("the dispatch slept {} times: its CPU time would leave that out", sleeps));
  return elapsed;
}

// ---------------------------------------------------------------------------------------------
// Environments and connections
// ---------------------------------------------------------------------------------------------

// The open-file limit the fake kernel gets: room for 100 000 connections (200 000 sockets) and
// the listener. The default (20 000) is the real machines' RLIMIT_NOFILE.
constexpr std::size_t kFakeOpenFileLimit = 250'000;

// A fake environment with room for the big runs: the open-file limit raised, and Win32 select's
// count limit (configurable there, as FD_SETSIZE is in Winsock) raised to match. POSIX select's
// FD_SETSIZE is no knob on Linux, so fake:select keeps it.
std::unique_ptr<Environment> make_any_environment(std::string_view name, bool traced = false) {
  std::unique_ptr<Environment> environment =
      check(muxlab::make_environment(name), "make_environment");
  if (muxlab::fake::KernelControls* kernel = environment->fake_kernel()) {
    kernel->config().open_file_limit = kFakeOpenFileLimit;
    kernel->config().win32_select_limit = kFakeOpenFileLimit;
  }
  if (traced)
    environment =
        muxlab::make_traced_environment(std::move(environment), std::make_shared<muxlab::Trace>());
  return environment;
}

struct Connection {
  Handle client;  // made with socket() and connect()
  Handle server;  // what accept() gave
};

// A listener and n connections to it, made one at a time: connect, then accept (waiting for the
// listener to become readable if a real kernel has not finished the handshake yet).
class Connections {
 public:
  Connections(Environment& environment, std::size_t count) : net_(environment.net()) {
    listener_ = check(net_.listen(muxlab::Endpoint{0x7f000001, 0}, 1024), "listen");
    const muxlab::Endpoint at = check(net_.local_endpoint(listener_), "local_endpoint");
    std::unique_ptr<Backend> accepting = check(environment.make_backend(), "make_backend");
    check(accepting->add(listener_, Interest::read, 0), "add listener");
    connections_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const Handle client = check(net_.socket(), fmt::format("socket #{}", i + 1));
      if (muxlab::Status started = net_.connect(client, at);
          !started.ok() && started.error() != muxlab::Errc::in_progress)
        check(started, fmt::format("connect #{}", i + 1));
      connections_.push_back({client, accept_one(*accepting, i)});
    }
    check(accepting->remove(listener_), "remove listener");
  }
  ~Connections() {
    for (const Connection& c : connections_) {
      (void)net_.close(c.client);
      (void)net_.close(c.server);
    }
    (void)net_.close(listener_);
  }
  Connections(const Connections&) = delete;
  Connections& operator=(const Connections&) = delete;

  std::size_t size() const { return connections_.size(); }
  const Connection& operator[](std::size_t i) const { return connections_[i]; }

 private:
  Handle accept_one(Backend& accepting, std::size_t i) {
    std::array<Event, 1> event{};
    for (int tries = 0; tries < 100; ++tries) {
      muxlab::Result<Handle> accepted = net_.accept(listener_);
      if (accepted.ok()) return *accepted;
      if (accepted.error() != muxlab::Errc::would_block)
        check(accepted, fmt::format("accept #{}", i + 1));
      (void)check(accepting.wait(event, kStallTimeout), "wait for the listener");
    }
    throw Failure(fmt::format("accept #{}: nothing to accept after 100 waits", i + 1));
  }

  Net& net_;
  Handle listener_ = muxlab::invalid_handle;
  std::vector<Connection> connections_;
};

const std::byte kByte{'e'};

// ---------------------------------------------------------------------------------------------
// chain
// ---------------------------------------------------------------------------------------------

// bench/chain.cpp's workload over TCP connections: one byte into `active` evenly spaced
// connections, each read forwards a byte to the next connection until n forwards are done.
class TcpChain {
 public:
  TcpChain(std::string_view environment_name, bool traced, std::size_t count, bool lose_a_byte)
      : environment_(make_any_environment(environment_name, traced)),
        connections_(*environment_, count),
        backend_(check(environment_->make_backend(), "make_backend")),
        net_(environment_->net()),
        lose_a_byte_(lose_a_byte) {
    for (std::size_t i = 0; i < count; ++i) {
      const muxlab::Status added = backend_->add(connections_[i].server, Interest::read, i);
      check(added, fmt::format("add #{}", i + 1));
    }
  }

  // Untimed: the first bytes, and a fresh budget of n forwards.
  void start_iteration(std::size_t active) {
    bytes_written_ = bytes_read_ = failed_calls_ = events_ = 0;
    forwards_left_ = connections_.size();
    expected_bytes_ = active + connections_.size();
    const std::size_t spacing = connections_.size() / active;
    for (std::size_t k = 0; k < active; ++k) {
      if (lose_a_byte_ && k == 0) {
        ++bytes_written_;
        continue;
      }
      send_byte(k * spacing);
    }
  }

  void dispatch() {
    while (bytes_read_ < bytes_written_) {
      const std::size_t ready = wait_for_events(*backend_, events_buffer_);
      if (ready == 0)
        throw Failure(fmt::format("stalled: nothing readable for {} ms; {} of {} bytes read",
                                  kStallTimeout.count(), bytes_read_, bytes_written_));
      events_ += ready;
      for (std::size_t i = 0; i < ready; ++i)
        on_readable(events_buffer_[i].token);
    }
  }

  void check_every_byte_consumed() const {
    if (bytes_written_ == expected_bytes_ && bytes_read_ == bytes_written_ && failed_calls_ == 0)
      return;
    throw Failure(
        fmt::format("bytes lost: {} of {} expected were written, {} read, {} recv/send "
                    "calls did not move a byte",
                    bytes_written_, expected_bytes_, bytes_read_, failed_calls_));
  }

  std::size_t events() const { return events_; }

 private:
  void on_readable(std::size_t i) {
    std::byte byte;
    const muxlab::Result<std::size_t> got = net_.recv(connections_[i].server, {&byte, 1});
    if (!got.ok() || *got != 1) {
      ++failed_calls_;
      return;
    }
    ++bytes_read_;
    if (forwards_left_ > 0) {
      --forwards_left_;
      send_byte(i + 1 == connections_.size() ? 0 : i + 1);
    }
  }

  void send_byte(std::size_t i) {
    const muxlab::Result<std::size_t> sent = net_.send(connections_[i].client, {&kByte, 1});
    if (sent.ok() && *sent == 1)
      ++bytes_written_;
    else
      ++failed_calls_;
  }

  std::unique_ptr<Environment> environment_;
  Connections connections_;
  std::unique_ptr<Backend> backend_;
  Net& net_;
  const bool lose_a_byte_;
  std::array<Event, kEventCapacity> events_buffer_{};
  std::size_t expected_bytes_ = 0, bytes_written_ = 0, bytes_read_ = 0;
  std::size_t forwards_left_ = 0, failed_calls_ = 0, events_ = 0;
};

// ---------------------------------------------------------------------------------------------
// exchanges
// ---------------------------------------------------------------------------------------------

constexpr std::size_t kRequestSize = 32;
constexpr std::size_t kResponseSize = 64;
constexpr std::size_t kExchangesInFlight = 100;

// Many request/response exchanges over many connections on one backend: a client end sends a
// request, the server end is reported readable, reads it and answers, the client end is reported
// readable and reads the answer; then the next connection in line starts one.
class Exchanges {
 public:
  Exchanges(std::string_view environment_name, std::size_t count) {
    // Everything measured is made between the two counts: the environment, the connections (both
    // ends), the backend and its registrations of both ends. The bookkeeping of this benchmark is
    // made before, so it is not counted.
    g_counting = true;
    const std::ptrdiff_t heap_before = g_live_heap_bytes;
    const std::size_t malloc_before = mallinfo2().uordblks;
    environment_ = make_any_environment(environment_name);
    connections_.emplace(*environment_, count);
    backend_ = check(environment_->make_backend(), "make_backend");
    for (std::size_t i = 0; i < count; ++i) {
      check(backend_->add((*connections_)[i].server, Interest::read, 2 * i), "add server end");
      check(backend_->add((*connections_)[i].client, Interest::read, 2 * i + 1), "add client end");
    }
    heap_bytes_ = static_cast<std::size_t>(g_live_heap_bytes - heap_before);
    malloc_bytes_ = mallinfo2().uordblks - malloc_before;
    g_counting = false;
  }

  std::size_t heap_bytes() const { return heap_bytes_; }
  std::size_t malloc_bytes() const { return malloc_bytes_; }

  // Runs `total` exchanges; returns the readiness events the waits reported.
  std::size_t run(std::size_t total) {
    Net& net = environment_->net();
    const std::size_t count = connections_->size();
    std::size_t started = 0, finished = 0, events = 0;
    auto start_one = [&] {
      const Connection& c = (*connections_)[next_connection_];
      next_connection_ = next_connection_ + 1 == count ? 0 : next_connection_ + 1;
      const muxlab::Result<std::size_t> sent = net.send(c.client, request_);
      if (!sent.ok() || *sent != kRequestSize) throw Failure("a request was not sent whole");
      ++started;
    };
    while (started < std::min(total, kExchangesInFlight))
      start_one();
    while (finished < total) {
      const std::size_t ready = wait_for_events(*backend_, events_buffer_);
      if (ready == 0)
        throw Failure(fmt::format("stalled after {} of {} exchanges", finished, total));
      events += ready;
      for (std::size_t k = 0; k < ready; ++k) {
        const std::uint64_t token = events_buffer_[k].token;
        const Connection& c = (*connections_)[token / 2];
        if (token % 2 == 0) {
          // The server end: the whole request, then the whole response.
          const muxlab::Result<std::size_t> got = net.recv(c.server, buffer_);
          if (!got.ok() || *got != kRequestSize)
            throw Failure(fmt::format("exchange lost: a server read {} bytes of a {}-byte request",
                                      got.ok() ? *got : 0, kRequestSize));
          const muxlab::Result<std::size_t> sent = net.send(c.server, response_);
          if (!sent.ok() || *sent != kResponseSize) throw Failure("a response was not sent whole");
        } else {
          const muxlab::Result<std::size_t> got = net.recv(c.client, buffer_);
          if (!got.ok() || *got != kResponseSize)
            throw Failure(fmt::format("exchange lost: a client read {} bytes of a {}-byte response",
                                      got.ok() ? *got : 0, kResponseSize));
          ++finished;
          if (started < total) start_one();
        }
      }
    }
    if (events != 2 * total)
      throw Failure(
          fmt::format("{} exchanges took {} readiness events, not 2 each", total, events));
    return events;
  }

 private:
  std::unique_ptr<Environment> environment_;
  std::optional<Connections> connections_;
  std::unique_ptr<Backend> backend_;
  std::size_t heap_bytes_ = 0, malloc_bytes_ = 0;
  std::size_t next_connection_ = 0;
  std::array<Event, kEventCapacity> events_buffer_{};
  std::vector<std::byte> request_ = std::vector<std::byte>(kRequestSize, kByte);
  std::vector<std::byte> response_ = std::vector<std::byte>(kResponseSize, kByte);
  std::vector<std::byte> buffer_ = std::vector<std::byte>(4096);
};

// ---------------------------------------------------------------------------------------------
// idle
// ---------------------------------------------------------------------------------------------

constexpr std::size_t kReadyHandles = 100;

// 100 connections with a byte waiting at the server end, and `idle` connections with nothing,
// every server end registered (level-triggered, read). Every wait reports the same 100. Only
// server ends are registered, so a select sees fd values up to about 2 × (100 + idle).
class IdleGrowth {
 public:
  IdleGrowth(std::string_view environment_name, std::size_t idle)
      : environment_(make_any_environment(environment_name)),
        connections_(*environment_, kReadyHandles + idle),
        backend_(check(environment_->make_backend(), "make_backend")) {
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      const muxlab::Status added = backend_->add(connections_[i].server, Interest::read, i);
      if (!added.ok() && added.error() == muxlab::Errc::too_many_handles) {
        refusal_ = added.error().message();
        return;
      }
      check(added, fmt::format("add #{}", i + 1));
    }
    // Spread the ready ones over the registrations, as a real load would.
    const std::size_t spacing = connections_.size() / kReadyHandles;
    for (std::size_t k = 0; k < kReadyHandles; ++k) {
      const muxlab::Result<std::size_t> sent =
          environment_->net().send(connections_[k * spacing].client, {&kByte, 1});
      if (!sent.ok() || *sent != 1) throw Failure("a byte was not sent");
    }
  }

  const std::optional<std::string>& refusal() const { return refusal_; }

  void wait_once() {
    if (const std::size_t ready = wait_for_events(*backend_, events_buffer_);
        ready != kReadyHandles)
      throw Failure(
          fmt::format("a wait reported {} handles, not the {} ready", ready, kReadyHandles));
  }

 private:
  std::unique_ptr<Environment> environment_;
  Connections connections_;
  std::unique_ptr<Backend> backend_;
  std::optional<std::string> refusal_;
  std::array<Event, kEventCapacity> events_buffer_{};
};

// ---------------------------------------------------------------------------------------------
// Benchmarks and their results
// ---------------------------------------------------------------------------------------------

using muxlab_bench::Options;

// What one benchmark left for the report.
struct Record {
  bool selected = false;               // --benchmark_filter let it run
  std::string failure;                 // it lost something or a call failed
  std::optional<std::string> not_run;  // a limit refused it: the cell's text
  std::string refusal;                 // the refusal's message, printed under the table
  std::optional<double> median;        // Google Benchmark's median of the manual time, in its unit
  // Per-run facts that do not change between repetitions.
  double events_per_iteration = 0;
  std::size_t heap_bytes = 0, malloc_bytes = 0, connections = 0;
};

std::map<std::string, Record> g_records;

// Registers the benchmark `name`, timed by hand, and its record; `body` runs it, and a Failure it
// throws fails the cell.
auto* register_cell(const std::string& name, std::function<void(benchmark::State&, Record&)> body) {
  Record& record = g_records[name];
  return benchmark::RegisterBenchmark(name.c_str(),
                                      [&record, body = std::move(body)](benchmark::State& state) {
                                        record.selected = true;
                                        muxlab_bench::guarded(state, record.failure,
                                                              [&] { body(state, record); });
                                      })
      ->UseManualTime();
}

// A big world is built once and kept for the repetitions of its benchmark (they run one after
// another, since these benchmarks are not interleaved), then replaced by the next one.
template <class World>
World& world_for(const std::string& name, std::function<std::unique_ptr<World>()> make) {
  static std::string built_for;
  static std::unique_ptr<World> world;
  if (built_for != name || !world) {
    world.reset();
    built_for.clear();
    world = make();
    built_for = name;
  }
  return *world;
}

// The chain's environments: rows of the report.
struct ChainRow {
  std::string name;  // "fake:epoll+trace"
  std::string environment;
  bool traced;
};

const std::vector<ChainRow> kChainRows = {
    {"epoll", "epoll", false},
    {"fake:epoll", "fake:epoll", false},
    {"fake:epoll+trace", "fake:epoll", true},
};

struct ChainCell {
  std::size_t connections;
  std::size_t active;
};

std::string chain_name(const ChainRow& row, ChainCell cell) {
  return fmt::format("chain/{}/n:{}/a:{}", row.name, cell.connections, cell.active);
}

void register_chain(const Options& options) {
  static const std::vector<ChainCell> full = {{100, 1},    {100, 100}, {1000, 1},
                                              {1000, 100}, {5000, 1},  {5000, 100}};
  static const std::vector<ChainCell> quick = {{100, 1}, {100, 100}, {1000, 100}};
  for (const ChainRow& row : kChainRows) {
    for (const ChainCell cell : options.quick ? quick : full) {
      const std::string name = chain_name(row, cell);
      register_cell(name, [&row, cell, &options, name](benchmark::State& state, Record& record) {
        TcpChain& chain = world_for<TcpChain>(name, [&] {
          return std::make_unique<TcpChain>(row.environment, row.traced, cell.connections,
                                            options.lose_a_byte);
        });
        // The untimed iteration warms the caches and proves every byte arrives.
        chain.start_iteration(cell.active);
        chain.dispatch();
        chain.check_every_byte_consumed();
        for (auto _ : state) {
          chain.start_iteration(cell.active);
          state.SetIterationTime(timed([&] { chain.dispatch(); }));
          chain.check_every_byte_consumed();
          record.events_per_iteration = static_cast<double>(chain.events());
        }
      })->Unit(benchmark::kMicrosecond);
    }
  }
}

std::string exchanges_name(std::size_t connections, std::size_t exchanges) {
  return fmt::format("exchanges/fake:epoll/connections:{}/exchanges:{}", connections, exchanges);
}

// The target's size, and 1 000 connections beside it: that small a world stays in the caches,
// which shows how much of the big one's time is the memory its connections take.
std::vector<std::size_t> exchanges_columns(const Options& options) {
  return {1000, options.quick ? std::size_t{10'000} : std::size_t{100'000}};
}

std::size_t exchanges_total(const Options& options) {
  return options.quick ? 100'000 : 1'000'000;
}

void register_exchanges(const Options& options) {
  const std::size_t exchanges = exchanges_total(options);
  for (const std::size_t connections : exchanges_columns(options)) {
    const std::string name = exchanges_name(connections, exchanges);
    register_cell(name,
                  [connections, exchanges, name](benchmark::State& state, Record& record) {
                    Exchanges& world = world_for<Exchanges>(name, [&] {
                      return std::make_unique<Exchanges>("fake:epoll", connections);
                    });
                    record.heap_bytes = world.heap_bytes();
                    record.malloc_bytes = world.malloc_bytes();
                    record.connections = connections;
                    for (auto _ : state) {
                      std::size_t events = 0;
                      state.SetIterationTime(timed([&] { events = world.run(exchanges); }));
                      record.events_per_iteration = static_cast<double>(events);
                    }
                  })
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
}

const std::vector<std::string> kIdleRows = {
    "fake:epoll", "fake:kqueue", "fake:poll", "fake:select", "fake:win32-select", "epoll", "poll"};

std::string idle_name(std::string_view environment, std::size_t idle) {
  return fmt::format("idle/{}/idle:{}", environment, idle);
}

std::vector<std::size_t> idle_columns(const Options& options) {
  if (options.quick) return {400, 1000, 10'000};
  return {400, 1000, 3000, 10'000, 30'000, 100'000};
}

// What this process may open: real sockets are file descriptors.
std::size_t open_file_limit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<std::size_t>(limit.rlim_cur);
}

void register_idle(const Options& options) {
  for (const std::string& environment : kIdleRows) {
    for (const std::size_t idle : idle_columns(options)) {
      const std::string name = idle_name(environment, idle);
      register_cell(name, [environment, idle, name](benchmark::State& state, Record& record) {
        const bool real = !environment.starts_with("fake:");
        // Two sockets per connection, and some room for the process's own descriptors.
        if (real && 2 * (kReadyHandles + idle) + 64 > open_file_limit()) {
          record.not_run = fmt::format("skipped: open-file limit {}", open_file_limit());
          state.SkipWithError(record.not_run->c_str());
          return;
        }
        IdleGrowth& world = world_for<IdleGrowth>(
            name, [&] { return std::make_unique<IdleGrowth>(environment, idle); });
        if (world.refusal()) {
          record.not_run = "refused";
          record.refusal = *world.refusal();
          state.SkipWithError(record.not_run->c_str());
          return;
        }
        for (auto _ : state)
          state.SetIterationTime(timed([&] { world.wait_once(); }));
      })->Unit(benchmark::kMicrosecond);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------------

const Record* find(const std::string& name) {
  const auto it = g_records.find(name);
  return it == g_records.end() || !it->second.selected ? nullptr : &it->second;
}

// The median of a benchmark that ran and succeeded.
std::optional<double> median_of(const std::string& name) {
  const Record* record = find(name);
  if (!record || !record->failure.empty()) return std::nullopt;
  return record->median;
}

std::string format_number(double value) {
  if (value >= 1000) return fmt::format("{:.0f}", value);
  if (value >= 10) return fmt::format("{:.1f}", value);
  if (value >= 1) return fmt::format("{:.2f}", value);
  return fmt::format("{:.3f}", value);
}

// A cell's text when it has no number.
std::optional<std::string> cell_without_number(const std::string& name) {
  const Record* record = find(name);
  if (!record) return "—";
  if (!record->failure.empty()) return "**failed** (see below)";
  if (record->not_run) return *record->not_run;
  if (!record->median) return "—";
  return std::nullopt;
}

// A row but its end: the label, then per benchmark its number as `text` makes it from the name,
// or the cell's text when it has none. The caller ends the row (a target column may follow).
template <class Text>
void print_cells(std::string_view label, const std::vector<std::string>& names, Text text) {
  fmt::print("| {} |", label);
  for (const std::string& name : names) {
    if (auto missing = cell_without_number(name))
      fmt::print(" {} |", *missing);
    else
      fmt::print(" {} |", text(name));
  }
}

constexpr double kChainTargetSpeedUp = 50;
constexpr double kEventsPerSecondTarget = 10e6;
constexpr double kBytesPerIdleConnectionTarget = 2048;

void print_chain(const Options& options) {
  const auto& cells = options.quick ? std::vector<ChainCell>{{100, 1}, {100, 100}, {1000, 100}}
                                    : std::vector<ChainCell>{{100, 1},    {100, 100}, {1000, 1},
                                                             {1000, 100}, {5000, 1},  {5000, 100}};
  fmt::print("### chain: fake:epoll beside the real epoll\n\n");
  fmt::print(
      "n loopback TCP connections (listen, connect, accept through the environment's Net), their "
      "server ends registered once, level-triggered. An iteration writes 1 byte into a evenly "
      "spaced connections; each read forwards 1 byte to the next connection until n forwards are "
      "done, so an iteration reports n + a ready events. Median of the dispatch phase's thread CPU "
      "time, in ns per ready event; the same run measures both kernels.\n\n");
  std::vector<std::string> headings;
  for (const ChainCell cell : cells)
    headings.push_back(fmt::format("n={} a={}", cell.connections, cell.active));
  muxlab_bench::print_table_header("environment", headings);
  auto per_event_ns = [](const std::string& name) -> std::optional<double> {
    const std::optional<double> us = median_of(name);
    const Record* record = find(name);
    if (!us || !record || record->events_per_iteration == 0) return std::nullopt;
    return *us * 1000 / record->events_per_iteration;
  };
  for (const ChainRow& row : kChainRows) {
    std::vector<std::string> names;
    for (const ChainCell cell : cells)
      names.push_back(chain_name(row, cell));
    print_cells(row.name, names, [&](const std::string& name) {
      return fmt::format("{} ns", format_number(per_event_ns(name).value_or(0)));
    });
    fmt::print("\n");
  }
  auto ratio_row = [&](std::string_view label, const ChainRow& numerator,
                       const ChainRow& denominator, auto verdict) {
    fmt::print("| {} |", label);
    for (const ChainCell cell : cells) {
      const auto top = per_event_ns(chain_name(numerator, cell));
      const auto bottom = per_event_ns(chain_name(denominator, cell));
      if (!top || !bottom) {
        fmt::print(" — |");
        continue;
      }
      fmt::print(" {:.1f}×{} |", *top / *bottom, verdict(*top / *bottom));
    }
    fmt::print("\n");
  };
  ratio_row(fmt::format("epoll ÷ fake:epoll (target ≥ {:.0f}×)", kChainTargetSpeedUp),
            kChainRows[0], kChainRows[1], [](double ratio) -> std::string {
              return ratio >= kChainTargetSpeedUp ? " met" : " **missed**";
            });
  ratio_row("tracing: fake:epoll+trace ÷ fake:epoll", kChainRows[2], kChainRows[1],
            [](double) { return std::string(); });
  fmt::print("\n");
}

void print_exchanges(const Options& options) {
  const std::size_t exchanges = exchanges_total(options);
  const std::vector<std::size_t> columns = exchanges_columns(options);
  fmt::print("### exchanges: fake:epoll, {} request/response exchanges\n\n", exchanges);
  fmt::print(
      "Both ends of every connection registered (level-triggered, read); {} exchanges in flight, "
      "each on the next connection in turn; a {}-byte request, a {}-byte response, so 2 "
      "readiness events per exchange. Events per second: events reported ÷ median thread CPU "
      "time of the whole run (waits, recv and send included). Memory per idle connection: the "
      "heap that opening the connections (both ends), making the backend and registering both "
      "ends added, ÷ connections. \"operator new\" counts the usable size of every block C++ "
      "allocated (malloc_usable_size); \"mallinfo2\" is malloc's uordblks difference, which adds "
      "malloc's own 8-byte header per block. The targets are for the last column.\n\n",
      kExchangesInFlight, kRequestSize, kResponseSize);
  std::vector<std::string> headings, names;
  for (const std::size_t connections : columns) {
    headings.push_back(fmt::format("{} connections", connections));
    names.push_back(exchanges_name(connections, exchanges));
  }
  muxlab_bench::print_table_header("measure", headings, "target");
  // One row: a value per column, and the verdict on the last one when there is a target.
  auto row = [&](std::string_view label, auto value, auto text, std::string_view target,
                 auto meets) {
    print_cells(label, names, [&](const std::string& name) { return text(value(*find(name))); });
    std::optional<double> last;
    if (!cell_without_number(names.back())) last = value(*find(names.back()));
    if (target.empty())
      fmt::print(" |\n");
    else
      fmt::print(" {}: {} |\n", target, !last ? "—" : meets(*last) ? "met" : "**missed**");
  };
  auto events_per_second = [](const Record& r) {
    return r.events_per_iteration / (*r.median / 1000);  // the unit is ms
  };
  auto no_target = [](double) { return true; };
  row(
      "run time (median)", [](const Record& r) { return *r.median; },
      [](double ms) { return fmt::format("{:.0f} ms", ms); }, "", no_target);
  row(
      "readiness events per second", events_per_second,
      [](double v) { return fmt::format("{:.1f} million", v / 1e6); }, "≥ 10 million",
      [](double v) { return v >= kEventsPerSecondTarget; });
  row(
      "exchanges per second", [&](const Record& r) { return events_per_second(r) / 2; },
      [](double v) { return fmt::format("{:.2f} million", v / 1e6); }, "", no_target);
  auto bytes_text = [](double v) { return fmt::format("{:.0f} bytes", v); };
  auto within_target = [](double v) { return v <= kBytesPerIdleConnectionTarget; };
  // Per connection, from one of the two counts of the heap the connections took.
  auto per_connection = [](std::size_t Record::*bytes) {
    return [bytes](const Record& r) {
      return static_cast<double>(r.*bytes) / static_cast<double>(r.connections);
    };
  };
  row("memory per idle connection (operator new)", per_connection(&Record::heap_bytes), bytes_text,
      "≤ 2 KiB", within_target);
  row("memory per idle connection (mallinfo2)", per_connection(&Record::malloc_bytes), bytes_text,
      "≤ 2 KiB", within_target);
  fmt::print("\n");
}

void print_idle(const Options& options) {
  const std::vector<std::size_t> columns = idle_columns(options);
  fmt::print("### idle: time per wait with {} ready handles as idle connections grow\n\n",
             kReadyHandles);
  fmt::print(
      "{} connections with a byte waiting and `idle` connections with none, every server end "
      "registered (level-triggered, read); each wait reports the same {}. Median thread CPU time "
      "per wait in µs; in parentheses, the ratio to the same row's first column. The fake kernel's "
      "open-file limit is raised to {} and Win32 select's set size to match (both KernelConfig); "
      "POSIX select's FD_SETSIZE (1024) is fixed, so fake:select refuses once a server end's fd "
      "reaches it. The real rows stop where this process's open-file limit ({}) does.\n\n",
      kReadyHandles, kReadyHandles, kFakeOpenFileLimit, open_file_limit());
  std::vector<std::string> headings;
  for (const std::size_t idle : columns)
    headings.push_back(fmt::format("idle {}", idle));
  muxlab_bench::print_table_header("environment", headings);
  for (const std::string& environment : kIdleRows) {
    std::vector<std::string> names;
    for (const std::size_t idle : columns)
      names.push_back(idle_name(environment, idle));
    std::optional<double> first;
    print_cells(environment, names, [&](const std::string& name) {
      const double us = *median_of(name);
      if (!first) first = us;
      return fmt::format("{} ({:.1f}×)", format_number(us), us / *first);
    });
    fmt::print("\n");
  }
  fmt::print("\n");
  // Each row's refusal once, from the first cell refused.
  for (const std::string& environment : kIdleRows) {
    for (const std::size_t idle : columns) {
      const Record* record = find(idle_name(environment, idle));
      if (record && !record->refusal.empty()) {
        fmt::print("- {}, idle {} and more: {}\n", environment, idle, record->refusal);
        break;
      }
    }
  }
  fmt::print("\n");
}

void print_failures() {
  bool any = false;
  for (const auto& [name, record] : g_records) {
    if (record.failure.empty()) continue;
    fmt::print("- FAILED {}: {}\n", name, record.failure);
    any = true;
  }
  if (any) fmt::print("\n");
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

// Google Benchmark's defaults here; the user's --benchmark_* flags come after them and win.
std::vector<std::string> benchmark_defaults(const Options& options) {
  return {
      options.quick ? "--benchmark_repetitions=2" : "--benchmark_repetitions=5",
      options.quick ? "--benchmark_min_time=0.01" : "--benchmark_min_time=0.1",
      "--benchmark_display_aggregates_only=true",
  };
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = muxlab_bench::parse_options(argc, argv);
  // The real chain needs 2n + 1 sockets; the real idle rows as many as the hard limit allows.
  if (muxlab_bench::raise_open_file_limit() != 0)
    fmt::print(stderr, "fake_kernel: cannot raise the open-file limit\n");
  register_chain(options);
  register_exchanges(options);
  register_idle(options);
  if (!muxlab_bench::initialize_benchmark(argv[0], benchmark_defaults(options), options)) return 2;

  const muxlab_bench::RunConditions conditions =
      muxlab_bench::run_benchmarks([](const std::string& name, double median) {
        if (auto it = g_records.find(name); it != g_records.end()) it->second.median = median;
      });

  fmt::print("## fake_kernel: the fake kernel's speed and size\n\n");
  fmt::print(
      "Measured {} on {}; load average {} before, {} after. Medians of {} repetitions; "
      "tracing off except in the +trace row.\n\n",
      conditions.date, conditions.machine, conditions.load_before, conditions.load_after,
      conditions.repetitions);
  print_chain(options);
  print_exchanges(options);
  print_idle(options);
  print_failures();

  for (const auto& [name, record] : g_records) {
    if (record.failure.empty()) continue;
    fmt::print(stderr, "fake_kernel: FAILED {}: {}\n", name, record.failure);
    return 1;
  }
  return 0;
}
