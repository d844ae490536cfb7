// Determinism at scale (issue #3): a thousand client connections to one server, with random faults
// drawn from the seed, give a byte-identical trace on every run with that seed, and other seeds
// give other interleavings. A failure prints the seed and the command that replays it:
//   replay: MUXLAB_SEED=<seed> [MUXLAB_DETERMINISM_RUNS=<n>] <this binary> --gtest_filter=<test>
// Every test's first run uses MUXLAB_SEED, so that command repeats the failing run first.
//
// "Identical" means every field of every trace record (time, duration, program, call, handle,
// arguments, result, class), the workload's statistics and the kernel's call counts; on a mismatch
// the failure shows the first differing line of the full, unfolded trace text. "Other
// interleavings" compares Trace::normalized(), which has no times or byte counts.
//
// The workload is ordinary event-loop code over an Environment and one Backend, as a user would
// write it: non-blocking connects, a level-triggered wait, drain-until-would_block reads, sends
// that keep the unsent rest and wait for writability, a retry of the whole exchange when a connect
// is refused or a connection resets, and a stale-event check (a token names the connection and its
// attempt). Every byte of every request and response is checked.
//
// The faults: the kernel's (latency jitter, refused connects, short sends, SYNs dropped when the
// accept queue is full), and the workload's own, drawn from the same seed: resets after a random
// number of bytes (FaultPlan::reset_after_bytes on some sockets) and spurious wake-ups
// (FakeKernel::inject_spurious_wakeup on a socket being read). The per-call spurious-wakeup plan of
// the kernel (FaultPlan::spurious_wakeup) draws for every socket on every call, which costs
// O(sockets) a call; the shorter per-personality runs use it, the thousand-run one injects instead.
//
// Environment variables:
//   MUXLAB_SEED=N               the seed of the first run (the toolkit's; default 1);
//   MUXLAB_DETERMINISM_RUNS=N   how many same-seed runs the fake:epoll test compares (default 1000,
//                               about 12 s in a RelWithDebInfo build; tests/fake/CMakeLists.txt
//                               sets 100 for sanitizer, Debug and cross builds, where a run costs
//                               about 6 times as much).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "muxlab/environment.hpp"
#include "muxlab/format.hpp"
#include "muxlab/testing/environment_test.hpp"
#include "muxlab/trace.hpp"

#include "fake_environment.hpp"
#include "fake_kernel.hpp"
#include "seeded_random.hpp"

namespace muxlab::fake {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// --- The scenario ------------------------------------------------------------------------------

struct Scenario {
  std::string environment = "fake:epoll";
  std::size_t connections = 1000;
  std::size_t connects_per_turn = 256;  // a load generator's ramp: new connects per loop turn
  int backlog = 128;                    // smaller than the crowd: some SYNs are dropped and resent
  std::size_t send_buffer_size = 8192;  // SO_SNDBUF of every socket: large responses fill it
  // The kernel's faults.
  Duration link_latency = microseconds(20);
  Duration latency_jitter = microseconds(200);
  double refuse_connect = 0.03;
  double short_send = 0.25;
  double kernel_spurious_wakeup = 0;  // per call and socket; O(sockets) a call, see the top
  // The workload's own faults, drawn from the seed too.
  double client_reset = 0.03;             // a client socket resets part-way through its request
  double server_reset = 0.03;             // a server socket resets part-way through its response
  double injected_spurious_wakeup = 0.3;  // 3 draws a loop turn: readable, and nothing to read
  std::uint32_t max_attempts = 12;        // per client; more means something is wrong
};

// The scenario on `environment`. Windows answers a reset to its SYN by sending the SYN twice more,
// and each arrival draws the refusal again: a connect is refused only when all three are, so the
// chance per arrival is raised to keep refusals about as common as elsewhere.
Scenario scenario_on(std::string environment) {
  Scenario sc;
  sc.environment = std::move(environment);
  const std::string_view mechanism =
      std::string_view(sc.environment).substr(kEnvironmentPrefix.size());
  if (const Personality* p = find_personality(mechanism); p != nullptr)
    sc.refuse_connect = std::pow(sc.refuse_connect, 1.0 / (1 + p->syn_resends_after_reset));
  return sc;
}

// What a run did, beyond its trace. Two runs on one seed must agree on all of it.
struct Stats {
  std::uint64_t connects = 0;
  std::uint64_t refused = 0;
  std::uint64_t timed_out = 0;
  std::uint64_t client_resets = 0;  // attempts that a reset ended on the client's side
  std::uint64_t server_aborts = 0;  // server connections that ended in a reset
  std::uint64_t partial_sends = 0;
  std::uint64_t full_buffers = 0;    // sends that found no room (would_block)
  std::uint64_t spurious_reads = 0;  // readable reported, and recv or accept found nothing
  std::uint64_t stale_events = 0;    // events for a connection no longer open (a guard: 0)
  std::uint64_t bytes_checked = 0;   // request and response bytes compared with what was sent
  std::uint64_t completed = 0;       // exchanges the client finished (one per connection)
  std::uint64_t loop_turns = 0;
  std::uint64_t peak_open_clients = 0;  // connecting, sending or receiving at one time
  std::int64_t end_time_ns = 0;
  friend bool operator==(const Stats&, const Stats&) = default;
};

std::string to_string(const Stats& s) {
  return fmt::format(
      "{} completed, {} connects, {} refused, {} timed out, {} client resets, {} server aborts, "
      "{} partial sends, {} full buffers, {} spurious reads, {} stale events, {} bytes checked, "
      "{} loop turns, at most {} clients open, ended at {} ns",
      s.completed, s.connects, s.refused, s.timed_out, s.client_resets, s.server_aborts,
      s.partial_sends, s.full_buffers, s.spurious_reads, s.stale_events, s.bytes_checked,
      s.loop_turns, s.peak_open_clients, s.end_time_ns);
}

// --- The protocol ------------------------------------------------------------------------------
// A request is a 12-byte header (client id, request length, response length; little-endian) and a
// body; the response is a body; the server then closes. A body is a window into a fixed table of
// pseudo-random bytes, starting where the connection and the direction say, so a lost, repeated,
// reordered or misdelivered byte shows, and sending or checking one costs a memcpy or a memcmp.

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kChunk = 16 * 1024;  // the most one send or recv call moves
inline constexpr std::size_t kMaxBody = 32 * 1024;
inline constexpr std::size_t kBodyPeriod = 65'521;  // a prime: ids start at distinct places

const std::vector<std::byte>& body_table() {
  static const std::vector<std::byte> table = [] {
    std::vector<std::byte> t(kBodyPeriod + kMaxBody);
    SeededRandom random(0x626f6479);
    for (std::byte& b : t)
      b = static_cast<std::byte>(random.next() & 0xff);
    return t;
  }();
  return table;
}

// `n` bytes of the body of client `id`'s request (direction 0) or response (1), from `offset`.
std::span<const std::byte> body(std::uint32_t id, int direction, std::uint64_t offset,
                                std::size_t n) {
  const std::uint64_t start =
      (std::uint64_t{id} * 4099 + static_cast<std::uint64_t>(direction) * 32'749) % kBodyPeriod;
  return std::span(body_table()).subspan(static_cast<std::size_t>(start + offset), n);
}

// Where `got` first differs from `expected`, or nothing.
std::optional<std::size_t> first_mismatch(std::span<const std::byte> got,
                                          std::span<const std::byte> expected) {
  if (std::memcmp(got.data(), expected.data(), got.size()) == 0) return std::nullopt;
  return static_cast<std::size_t>(std::mismatch(got.begin(), got.end(), expected.begin()).first -
                                  got.begin());
}

void put_u32(std::byte* at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    at[i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}

std::uint32_t get_u32(const std::byte* at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(at[i]) << (8 * i);
  return v;
}

// --- The workload: one event loop, one server, many clients -----------------------------------

enum class Kind : std::uint64_t { listener = 1, client = 2, server = 3 };

std::uint64_t make_token(Kind kind, std::uint32_t index, std::uint32_t attempt) {
  return (static_cast<std::uint64_t>(kind) << 56) |
         (static_cast<std::uint64_t>(attempt & 0xffffff) << 32) | index;
}

class Workload {
 public:
  // `kernel` may be null (an environment whose kernel is out of reach): then the workload injects
  // no faults of its own.
  Workload(const Scenario& scenario, std::uint64_t seed, Environment& env, FakeKernel* kernel,
           std::unique_ptr<Backend> backend)
      : sc_(scenario),
        env_(env),
        net_(env.net()),
        kernel_(kernel),
        backend_(std::move(backend)),
        // Another stream than the kernel's: the workload's draws do not shift the kernel's.
        random_(seed ^ 0x6d75786c61622d77),
        buffer_(kChunk) {
    SeededRandom sizes(seed ^ 0x73697a6573000000);
    clients_.resize(sc_.connections);
    for (Client& c : clients_) {
      // Mostly small exchanges; some larger than the send buffer, which must then wait for room.
      c.request_len = static_cast<std::uint32_t>(sizes.chance(0.9) ? 1 + sizes.below(512)
                                                                   : 4096 + sizes.below(8192));
      c.response_len = static_cast<std::uint32_t>(sizes.chance(0.85) ? 1 + sizes.below(1024)
                                                                     : 6000 + sizes.below(16000));
    }
    static_assert(4096 + 8192 <= kMaxBody && 6000 + 16000 <= kMaxBody);
    for (std::uint32_t id = 0; id < clients_.size(); ++id)
      waiting_.push_back(id);
    server_completions_.assign(clients_.size(), 0);
    max_open_clients_ = open_client_limit(backend_->capabilities(), clients_.size());
  }

  // Runs every exchange to its end. The failure, or nothing.
  std::optional<std::string> run() {
    if (!start_server()) return failure_;
    std::vector<Event> events(256);
    Time last_progress = now();
    std::uint64_t progress_seen = progress_;
    while (failure_.empty() && stats_.completed < clients_.size()) {
      ++stats_.loop_turns;
      start_clients();
      inject_spurious_wakeups();
      if (!failure_.empty()) break;
      const Result<std::size_t> n = backend_->wait(events, milliseconds(50));
      if (!n) {
        fail(fmt::format("wait: {}", n.error().message()));
        break;
      }
      for (std::size_t i = 0; i < *n && failure_.empty(); ++i)
        dispatch(events[i]);
      if (progress_ != progress_seen) {
        progress_seen = progress_;
        last_progress = now();
      } else if (now() - last_progress > seconds(200)) {
        fail("no progress for 200 s of virtual time");
      }
    }
    if (failure_.empty()) finish();
    stats_.end_time_ns = now().count();
    if (!failure_.empty()) return failure_ + "\n  state: " + state_summary();
    return std::nullopt;
  }

  const Stats& stats() const { return stats_; }

 private:
  struct Client {
    enum class State : std::uint8_t { waiting, connecting, sending, receiving, done };
    State state = State::waiting;
    Handle h = invalid_handle;
    std::uint32_t attempt = 0;
    std::uint32_t request_len = 0;
    std::uint32_t response_len = 0;
    std::uint64_t sent = 0;      // of header and body
    std::uint64_t received = 0;  // of the response
    Interest registered = Interest::none;
  };
  struct ServerConnection {
    enum class State : std::uint8_t { reading, sending, closed };
    State state = State::reading;
    Handle h = invalid_handle;
    std::array<std::byte, kHeaderSize> header{};
    std::uint32_t id = 0;
    std::uint32_t request_len = 0;
    std::uint32_t response_len = 0;
    std::uint64_t got = 0;  // of header and body
    std::uint64_t sent = 0;
    Interest registered = Interest::none;
  };

  // Both ends of every open connection share one backend: keep the handles within its limit.
  static std::size_t open_client_limit(const Capabilities& caps, std::size_t wanted) {
    constexpr std::size_t kSpare = 64;  // the listener, and server ends still closing
    if (caps.limit == Capabilities::Limit::none || caps.handle_limit <= 2 * kSpare) return wanted;
    return std::min(wanted, (caps.handle_limit - kSpare) / 2);
  }

  Time now() const { return env_.clock().now(); }

  void fail(std::string what) {
    if (failure_.empty())
      failure_ = fmt::format("at {} ns of virtual time: {}", now().count(), std::move(what));
  }

  std::string state_summary() const {
    std::array<std::size_t, 5> count{};
    for (const Client& c : clients_)
      ++count[static_cast<std::size_t>(c.state)];
    return fmt::format("clients: {} waiting, {} connecting, {} sending, {} receiving, {} done; {}",
                       count[0], count[1], count[2], count[3], count[4], to_string(stats_));
  }

  bool start_server() {
    Result<Handle> l = net_.listen(Endpoint{}, sc_.backlog);
    if (!l) {
      fail(fmt::format("listen: {}", l.error().message()));
      return false;
    }
    listener_ = *l;
    Result<Endpoint> at = net_.local_endpoint(listener_);
    if (!at) {
      fail(fmt::format("local_endpoint: {}", at.error().message()));
      return false;
    }
    endpoint_ = *at;
    Status added = backend_->add(listener_, Interest::read, make_token(Kind::listener, 0, 0));
    if (!added) fail(fmt::format("add listener: {}", added.error().message()));
    return added.ok();
  }

  void finish() {
    if (Status s = backend_->remove(listener_); !s) fail("remove listener: " + s.error().message());
    if (Status s = net_.close(listener_); !s) fail("close listener: " + s.error().message());
    for (std::uint32_t id = 0; id < clients_.size(); ++id) {
      if (clients_[id].state != Client::State::done)
        return fail(fmt::format("client {} never finished", id));
      if (server_completions_[id] != 1)
        return fail(
            fmt::format("the server answered client {} {} times", id, server_completions_[id]));
    }
    for (const ServerConnection& s : servers_)
      if (s.state != ServerConnection::State::closed)
        return fail(fmt::format("server connection h{} was left open", s.h));
  }

  // A socket's plan is its own, instead of the kernel's: start from the kernel's.
  void plan_reset(Handle h, std::uint64_t after_bytes) {
    FaultPlan plan = kernel_->config().faults;
    plan.reset_after_bytes = after_bytes;
    if (Status s = kernel_->set_faults(h, plan); !s) fail("set_faults: " + s.error().message());
  }

  void set_interest(Handle h, Interest& registered, Interest wanted, std::uint64_t token) {
    if (registered == wanted) return;
    Status s = registered == Interest::none ? backend_->add(h, wanted, token)
                                            : backend_->modify(h, wanted, token);
    if (!s) fail(fmt::format("registering h{} for {}: {}", h, wanted, s.error().message()));
    registered = wanted;
  }

  void unregister_and_close(Handle h, Interest& registered) {
    if (registered != Interest::none) {
      if (Status s = backend_->remove(h); !s)
        fail(fmt::format("remove h{}: {}", h, s.error().message()));
      registered = Interest::none;
    }
    if (Status s = net_.close(h); !s) fail(fmt::format("close h{}: {}", h, s.error().message()));
  }

  // --- clients ---

  void start_clients() {
    for (std::size_t started = 0; started < sc_.connects_per_turn && !waiting_.empty() &&
                                  open_clients_ < max_open_clients_ && failure_.empty();
         ++started) {
      const std::uint32_t id = waiting_.front();
      waiting_.pop_front();
      start_client(id);
    }
  }

  void start_client(std::uint32_t id) {
    Client& c = clients_[id];
    if (++c.attempt > sc_.max_attempts)
      return fail(fmt::format("client {} failed {} attempts", id, sc_.max_attempts));
    Result<Handle> h = net_.socket();
    if (!h) return fail(fmt::format("socket: {}", h.error().message()));
    c.h = *h;
    c.sent = c.received = 0;
    ++open_clients_;
    stats_.peak_open_clients = std::max<std::uint64_t>(stats_.peak_open_clients, open_clients_);
    if (kernel_ != nullptr && random_.chance(sc_.client_reset))
      plan_reset(c.h, random_.below(kHeaderSize + c.request_len));
    ++stats_.connects;
    Status connecting = net_.connect(c.h, endpoint_);
    if (!connecting && connecting.code() != Errc::in_progress)
      return fail(fmt::format("connect h{}: {}", c.h, connecting.error().message()));
    c.state = Client::State::connecting;
    set_interest(c.h, c.registered, Interest::read_write, make_token(Kind::client, id, c.attempt));
  }

  void on_client(std::uint32_t id, Readiness r) {
    Client& c = clients_[id];
    switch (c.state) {
      case Client::State::connecting: {
        const Result<std::error_code> error = net_.pending_error(c.h);
        if (!error) return fail(fmt::format("pending_error h{}: {}", c.h, error.error().message()));
        if (*error) return client_failed(id, *error);
        if (!has(r, Readiness::writable)) return;  // not connected yet
        ++progress_;
        c.state = Client::State::sending;
        set_interest(c.h, c.registered, Interest::write, make_token(Kind::client, id, c.attempt));
        return send_request(id);
      }
      case Client::State::sending:
        return send_request(id);
      case Client::State::receiving:
        return receive_response(id);
      case Client::State::waiting:
      case Client::State::done:
        ++stats_.stale_events;
        return;
    }
  }

  void send_request(std::uint32_t id) {
    Client& c = clients_[id];
    const std::uint64_t total = kHeaderSize + c.request_len;
    std::array<std::byte, kHeaderSize> header{};
    put_u32(header.data(), id);
    put_u32(header.data() + 4, c.request_len);
    put_u32(header.data() + 8, c.response_len);
    while (c.sent < total) {
      // The header, then the body: two writes, as many programs do them.
      const std::span<const std::byte> data =
          c.sent < kHeaderSize
              ? std::span<const std::byte>(header).subspan(static_cast<std::size_t>(c.sent))
              : body(id, 0, c.sent - kHeaderSize,
                     static_cast<std::size_t>(std::min<std::uint64_t>(total - c.sent, kChunk)));
      const Result<std::size_t> sent = net_.send(c.h, data);
      if (sent) {
        if (*sent < data.size()) ++stats_.partial_sends;
        c.sent += *sent;
        ++progress_;
        continue;
      }
      if (sent.error() == Errc::would_block) {
        ++stats_.full_buffers;  // still registered for write: the loop comes back when there's room
        return;
      }
      return client_failed(id, sent.code());
    }
    c.state = Client::State::receiving;
    set_interest(c.h, c.registered, Interest::read, make_token(Kind::client, id, c.attempt));
  }

  void receive_response(std::uint32_t id) {
    Client& c = clients_[id];
    bool got_any = false;
    for (;;) {
      const Result<std::size_t> got = net_.recv(c.h, std::span(buffer_.data(), buffer_.size()));
      if (got && *got > 0) {
        got_any = true;
        ++progress_;
        if (c.received + *got > c.response_len)
          return fail(fmt::format("client {} got {} bytes of a {}-byte response", id,
                                  c.received + *got, c.response_len));
        const std::span<const std::byte> data(buffer_.data(), *got);
        if (const auto wrong = first_mismatch(data, body(id, 1, c.received, *got)))
          return fail(fmt::format("client {}: response byte {} is wrong", id, c.received + *wrong));
        c.received += *got;
        stats_.bytes_checked += *got;
        continue;
      }
      if (got) {  // the end of the stream
        if (c.received != c.response_len)
          return fail(fmt::format("client {}: the response ended after {} of {} bytes", id,
                                  c.received, c.response_len));
        unregister_and_close(c.h, c.registered);
        --open_clients_;
        c.state = Client::State::done;
        ++stats_.completed;
        ++progress_;
        return;
      }
      if (got.error() == Errc::would_block) {
        if (!got_any) ++stats_.spurious_reads;
        return;
      }
      return client_failed(id, got.code());
    }
  }

  // The attempt ended in an error a network may give: count it, close, and try again.
  void client_failed(std::uint32_t id, std::error_code why) {
    Client& c = clients_[id];
    if (why == Errc::connection_refused) {
      ++stats_.refused;
    } else if (why == Errc::timed_out) {
      ++stats_.timed_out;
    } else if (why == Errc::connection_reset || why == Errc::broken_pipe) {
      ++stats_.client_resets;
    } else {
      return fail(fmt::format("client {} on h{}: unexpected {}", id, c.h, error_name(why)));
    }
    unregister_and_close(c.h, c.registered);
    --open_clients_;
    c.state = Client::State::waiting;
    waiting_.push_back(id);
  }

  // --- the server ---

  void accept_all() {
    bool any = false;
    for (;;) {
      const Result<Handle> h = net_.accept(listener_);
      if (!h) {
        if (h.error() == Errc::would_block) {
          if (!any) ++stats_.spurious_reads;
          return;
        }
        return fail(fmt::format("accept: {}", h.error().message()));
      }
      any = true;
      ++progress_;
      const auto index = static_cast<std::uint32_t>(servers_.size());
      servers_.push_back(ServerConnection{});
      ServerConnection& s = servers_.back();
      s.h = *h;
      set_interest(s.h, s.registered, Interest::read, make_token(Kind::server, index, 0));
      if (!failure_.empty()) return;
    }
  }

  void on_server(std::uint32_t index) {
    switch (servers_[index].state) {
      case ServerConnection::State::reading:
        return receive_request(index);
      case ServerConnection::State::sending:
        return send_response(index);
      case ServerConnection::State::closed:
        ++stats_.stale_events;
        return;
    }
  }

  void receive_request(std::uint32_t index) {
    ServerConnection& s = servers_[index];
    bool got_any = false;
    for (;;) {
      const Result<std::size_t> got = net_.recv(s.h, std::span(buffer_.data(), buffer_.size()));
      if (got && *got > 0) {
        got_any = true;
        ++progress_;
        std::size_t i = 0;
        for (; i < *got && s.got < kHeaderSize; ++i) {
          s.header[s.got++] = buffer_[i];
          if (s.got == kHeaderSize && !header_complete(s)) return;
        }
        const std::size_t rest = *got - i;
        if (rest > 0) {
          if (s.got + rest > kHeaderSize + s.request_len)
            return fail(fmt::format("server h{}: client {} sent more than its request", s.h, s.id));
          const std::span<const std::byte> data(buffer_.data() + i, rest);
          if (const auto wrong = first_mismatch(data, body(s.id, 0, s.got - kHeaderSize, rest)))
            return fail(fmt::format("server h{}: request byte {} of client {} is wrong", s.h,
                                    s.got - kHeaderSize + *wrong, s.id));
          s.got += rest;
        }
        stats_.bytes_checked += *got;
        continue;
      }
      if (got) {
        return fail(fmt::format("server h{}: the request ended after {} bytes", s.h, s.got));
      }
      if (got.error() == Errc::would_block) {
        if (!got_any) ++stats_.spurious_reads;
        if (s.got == kHeaderSize + s.request_len && s.got >= kHeaderSize) start_response(index);
        return;
      }
      return server_aborted(index, got.code());
    }
  }

  bool header_complete(ServerConnection& s) {
    s.id = get_u32(s.header.data());
    s.request_len = get_u32(s.header.data() + 4);
    s.response_len = get_u32(s.header.data() + 8);
    if (s.id >= clients_.size() || s.request_len != clients_[s.id].request_len ||
        s.response_len != clients_[s.id].response_len) {
      fail(fmt::format("server h{}: a header that no client sent (id {}, lengths {} and {})", s.h,
                       s.id, s.request_len, s.response_len));
      return false;
    }
    return true;
  }

  void start_response(std::uint32_t index) {
    ServerConnection& s = servers_[index];
    s.state = ServerConnection::State::sending;
    if (kernel_ != nullptr && random_.chance(sc_.server_reset))
      plan_reset(s.h, random_.below(s.response_len));  // before the last byte: it never arrives
    set_interest(s.h, s.registered, Interest::write, make_token(Kind::server, index, 0));
    send_response(index);
  }

  void send_response(std::uint32_t index) {
    ServerConnection& s = servers_[index];
    while (s.sent < s.response_len) {
      const std::span<const std::byte> data =
          body(s.id, 1, s.sent,
               static_cast<std::size_t>(std::min<std::uint64_t>(s.response_len - s.sent, kChunk)));
      const Result<std::size_t> sent = net_.send(s.h, data);
      if (sent) {
        if (*sent < data.size()) ++stats_.partial_sends;
        s.sent += *sent;
        ++progress_;
        continue;
      }
      if (sent.error() == Errc::would_block) {
        ++stats_.full_buffers;
        return;
      }
      return server_aborted(index, sent.code());
    }
    // All of it is with the kernel: close, and the FIN follows the data.
    ++server_completions_[s.id];
    s.state = ServerConnection::State::closed;
    unregister_and_close(s.h, s.registered);
  }

  void server_aborted(std::uint32_t index, std::error_code why) {
    ServerConnection& s = servers_[index];
    if (why != Errc::connection_reset && why != Errc::broken_pipe)
      return fail(fmt::format("server h{}: unexpected {}", s.h, error_name(why)));
    ++stats_.server_aborts;
    s.state = ServerConnection::State::closed;
    unregister_and_close(s.h, s.registered);
  }

  // --- the loop ---

  void dispatch(const Event& e) {
    const auto kind = static_cast<Kind>(e.token >> 56);
    const auto index = static_cast<std::uint32_t>(e.token & 0xffffffff);
    const auto attempt = static_cast<std::uint32_t>((e.token >> 32) & 0xffffff);
    switch (kind) {
      case Kind::listener:
        return accept_all();
      case Kind::client:
        if (index >= clients_.size()) break;
        // An event of an earlier attempt, whose handle was closed in this batch.
        if ((clients_[index].attempt & 0xffffff) != attempt) {
          ++stats_.stale_events;
          return;
        }
        return on_client(index, e.readiness);
      case Kind::server:
        if (index >= servers_.size()) break;
        return on_server(index);
    }
    fail(fmt::format("an event with a token nobody gave: {}", e.token));
  }

  // Now and then a socket being read is reported readable with nothing to read: the loop must
  // take would_block and wait again.
  void inject_spurious_wakeups() {
    for (int draw = 0; draw < 3 && failure_.empty(); ++draw)
      inject_spurious_wakeup();
  }

  void inject_spurious_wakeup() {
    if (kernel_ == nullptr || !random_.chance(sc_.injected_spurious_wakeup)) return;
    Handle h = listener_;
    switch (random_.below(3)) {
      case 0:
        break;
      case 1: {
        const Client& c = clients_[random_.below(clients_.size())];
        if (c.state != Client::State::receiving) return;
        h = c.h;
        break;
      }
      default: {
        if (servers_.empty()) return;
        const ServerConnection& s = servers_[random_.below(servers_.size())];
        if (s.state != ServerConnection::State::reading) return;
        h = s.h;
        break;
      }
    }
    if (Status s = kernel_->inject_spurious_wakeup(h); !s)
      fail("inject_spurious_wakeup: " + s.error().message());
  }

  const Scenario& sc_;
  Environment& env_;
  Net& net_;
  FakeKernel* kernel_;
  std::unique_ptr<Backend> backend_;
  SeededRandom random_;
  std::vector<std::byte> buffer_;
  Handle listener_ = invalid_handle;
  Endpoint endpoint_;
  std::vector<Client> clients_;
  std::deque<std::uint32_t> waiting_;  // clients to connect (again)
  std::size_t open_clients_ = 0;
  std::size_t max_open_clients_ = 0;
  std::vector<ServerConnection> servers_;
  std::vector<std::uint32_t> server_completions_;
  std::uint64_t progress_ = 0;
  Stats stats_;
  std::string failure_;
};

// --- One run, and comparing runs -----------------------------------------------------------------

struct Outcome {
  std::uint64_t seed = 0;
  std::shared_ptr<Trace> trace;
  Stats stats;
  CallCounts counts;
  std::optional<std::string> failure;
};

Outcome run_once(const Scenario& sc, std::uint64_t seed) {
  Outcome run;
  run.seed = seed;
  run.trace = std::make_shared<Trace>();
  KernelConfig config;
  config.seed = seed;
  config.link_latency = sc.link_latency;
  config.send_buffer_size = sc.send_buffer_size;
  config.faults.latency_jitter = sc.latency_jitter;
  config.faults.refuse_connect = sc.refuse_connect;
  config.faults.short_send = sc.short_send;
  config.faults.spurious_wakeup = sc.kernel_spurious_wakeup;
  std::unique_ptr<Environment> fake = make_environment(sc.environment, config);
  if (fake == nullptr) {
    run.failure = "no fake environment named " + sc.environment;
    return run;
  }
  FakeKernel* kernel = kernel_of(*fake);
  std::unique_ptr<Environment> env = make_traced_environment(std::move(fake), run.trace);
  Result<std::unique_ptr<Backend>> backend = env->make_backend();
  if (!backend) {
    run.failure = "make_backend: " + backend.error().message();
    return run;
  }
  Workload workload(sc, seed, *env, kernel, std::move(backend).value());
  run.failure = workload.run();
  run.stats = workload.stats();
  run.counts = kernel->counts();
  return run;
}

// Nothing when the two runs are identical; otherwise where they part.
std::optional<std::string> compare_runs(const Outcome& reference, const Outcome& run) {
  const std::string difference =
      first_difference(*reference.trace, *run.trace, "run 1", "this run");
  if (difference.empty() && reference.stats == run.stats && reference.counts == run.counts)
    return std::nullopt;
  if (!difference.empty()) return "the traces differ; " + difference;
  return fmt::format("the traces agree, but the outcome differs:\n  run 1:    {}\n  this run: {}",
                     to_string(reference.stats), to_string(run.stats));
}

// --- Seeds and the replay command ---------------------------------------------------------------

std::uint64_t base_seed() {
  const muxlab::testing::SeedSetting setting = muxlab::testing::seed_setting();
  EXPECT_TRUE(setting.problem.empty()) << setting.problem;
  return setting.value;
}

std::optional<std::uint64_t> whole_number(const char* variable) {
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') return std::nullopt;
  const std::string_view digits(text);
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size()) {
    ADD_FAILURE() << variable << "=" << digits << " is not a whole number";
    return std::nullopt;
  }
  return value;
}

using ::muxlab::testing::replay_command;

std::string runs_variable() {
  const char* runs = std::getenv("MUXLAB_DETERMINISM_RUNS");
  return runs != nullptr && *runs != '\0' ? fmt::format("MUXLAB_DETERMINISM_RUNS={}", runs) : "";
}

// The workload did what it should, and every fault it was promised struck at least once.
void expect_sound(const Outcome& run, const Scenario& sc, std::string_view replay) {
  if (run.failure)
    FAIL() << "the workload failed on " << sc.environment << " with seed " << run.seed << ": "
           << *run.failure << "\nreplay: " << replay;
  const Stats& s = run.stats;
  const std::string context = fmt::format("on {} with seed {}: {}\nreplay: {}", sc.environment,
                                          run.seed, to_string(s), replay);
  EXPECT_EQ(s.completed, sc.connections) << context;
  EXPECT_GT(s.refused, 0u) << "no connect was refused " << context;
  EXPECT_GT(s.client_resets, 0u) << "no client saw a reset " << context;
  EXPECT_GT(s.server_aborts, 0u) << "no server connection saw a reset " << context;
  EXPECT_GT(s.partial_sends, 0u) << "no send was partial " << context;
  EXPECT_GT(s.full_buffers, 0u) << "no send found the buffer full " << context;
  EXPECT_GT(s.spurious_reads, 0u) << "no wake-up was spurious " << context;
  EXPECT_EQ(run.trace->open_handles(), std::vector<Handle>{})
      << "the trace shows handles left open " << context;
  std::cout << "[ workload ] " << sc.environment << ", seed " << run.seed << ": " << to_string(s)
            << ", " << run.trace->records().size() << " trace records\n";
}

// --- The tests ----------------------------------------------------------------------------------

constexpr std::size_t kDefaultRuns = 1000;

// Runs the scenario `runs` times on `seed`: the first must be sound, every other identical to it.
// The first run, or nothing after a failure.
std::optional<Outcome> expect_identical_runs(const Scenario& sc, std::uint64_t seed,
                                             std::size_t runs, const std::string& replay) {
  Outcome reference = run_once(sc, seed);
  expect_sound(reference, sc, replay);
  if (::testing::Test::HasFailure()) return std::nullopt;
  for (std::size_t i = 2; i <= runs; ++i) {
    const Outcome run = run_once(sc, seed);
    if (const std::optional<std::string> difference = compare_runs(reference, run)) {
      ADD_FAILURE() << "not deterministic: run " << i << " of " << runs << " on " << sc.environment
                    << " with seed " << seed << " differs from run 1: " << *difference
                    << "\nreplay: " << replay;
      return std::nullopt;
    }
  }
  return reference;
}

// Other seeds give other runs: not only other timestamps, another order of calls and results.
void expect_other_seeds_differ(const Scenario& sc, const Outcome& reference, int others) {
  const std::string replay = replay_command(reference.seed);
  // normalized(): no times, no byte counts, handles renamed in order of appearance.
  std::vector<std::string> interleavings = {reference.trace->normalized()};
  for (int k = 1; k <= others; ++k) {
    const std::uint64_t other = reference.seed + static_cast<std::uint64_t>(k) * 0x9e3779b97f4a7c15;
    const Outcome run = run_once(sc, other);
    expect_sound(run, sc, replay_command(other));
    if (::testing::Test::HasFailure()) return;
    EXPECT_TRUE(compare_runs(reference, run).has_value())
        << "seeds " << reference.seed << " and " << other << " gave identical runs on "
        << sc.environment << "\nreplay: " << replay;
    std::string normalized = run.trace->normalized();
    for (std::size_t j = 0; j < interleavings.size(); ++j) {
      EXPECT_NE(normalized, interleavings[j])
          << "seed " << other << " gave the same interleaving (normalized trace) as seed "
          << (j == 0 ? reference.seed : reference.seed + j * 0x9e3779b97f4a7c15) << " on "
          << sc.environment << "\nreplay: " << replay;
    }
    interleavings.push_back(std::move(normalized));
  }
}

// The claim: 1 000 runs of a 1 000-connection scenario with random faults and one seed
// give byte-identical traces.
TEST(DeterminismAtScale, OneSeedGivesByteIdenticalTracesRunAfterRun) {
  const Scenario sc;  // fake:epoll, 1 000 connections
  const std::uint64_t seed = base_seed();
  const std::size_t runs = whole_number("MUXLAB_DETERMINISM_RUNS").value_or(kDefaultRuns);
  const std::optional<Outcome> reference =
      expect_identical_runs(sc, seed, runs, replay_command(seed, runs_variable()));
  RecordProperty("runs", static_cast<int>(runs));
  if (reference)
    RecordProperty("records_per_run", static_cast<int>(reference->trace->records().size()));
}

// The same seed twice agrees (so the comparison compares something real), and other seeds give
// other interleavings.
TEST(DeterminismAtScale, OtherSeedsGiveOtherInterleavings) {
  const Scenario sc;
  const std::uint64_t seed = base_seed();
  const std::optional<Outcome> reference = expect_identical_runs(sc, seed, 2, replay_command(seed));
  if (reference) expect_other_seeds_differ(sc, *reference, 5);
}

// Every personality, shorter: a few runs on one seed, and other seeds. The kernel's own per-call
// spurious wake-ups are on here as well.
class DeterminismOnEachPersonality : public ::testing::TestWithParam<std::string> {};

constexpr std::size_t kRunsPerPersonality = 10;

TEST_P(DeterminismOnEachPersonality, OneSeedOneTraceOtherSeedsOtherInterleavings) {
  Scenario sc = scenario_on(GetParam());
  sc.kernel_spurious_wakeup = 0.00002;
  const std::uint64_t seed = base_seed();
  const std::optional<Outcome> reference =
      expect_identical_runs(sc, seed, kRunsPerPersonality, replay_command(seed));
  if (reference) expect_other_seeds_differ(sc, *reference, 2);
}

// The toolkit's determinism check over the same workload, through the EnvironmentTest fixture:
// check_determinism runs the body a second time on a fresh environment of the same name and seed
// (MUXLAB_SEED) and compares the normalized traces. MUXLAB_CHECK_DETERMINISM=1 turns that on for
// every test that wraps its body; this one turns it on itself. The fixture makes its environments
// without a fault plan and keeps their kernel out of reach, so the only faults here are the
// accept queue's.
class WorkloadThroughTheFixture : public muxlab::testing::EnvironmentTest {};

TEST_P(WorkloadThroughTheFixture, AHundredConnectionsPassTheToolkitsCheck) {
  Scenario sc = scenario_on(environment_name());
  sc.connections = 100;
  set_determinism_check(true);
  SCOPED_TRACE("replay: " + replay_command(seed()));  // on every failure, the check's too
  check_determinism([&] {
    Result<std::unique_ptr<Backend>> backend = env().make_backend();
    ASSERT_TRUE(backend.ok()) << backend.error().message();
    Workload workload(sc, seed(), env(), nullptr, std::move(backend).value());
    if (const std::optional<std::string> failure = workload.run())
      FAIL() << "the workload failed with seed " << seed() << ": " << *failure;
    EXPECT_EQ(workload.stats().completed, sc.connections);
  });
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(WorkloadThroughTheFixture, muxlab::testing::fake_environments());

INSTANTIATE_TEST_SUITE_P(On, DeterminismOnEachPersonality, ::testing::ValuesIn(environment_names()),
                         muxlab::testing::environment_test_name);

}  // namespace
}  // namespace muxlab::fake
