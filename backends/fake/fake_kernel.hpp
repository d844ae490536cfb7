#pragma once
// The fake kernel: one host's TCP sockets over loopback as a deterministic, single-threaded
// discrete-event model with a virtual clock and a seed. It is the Net and the Clock of the fake:*
// environments; their backends (ready_list_backend.cpp, scanning_backend.cpp) read readiness from
// it through a Personality. Same configuration, same seed, same calls: same results, every time.
//
// Time moves only when a program makes a call: each call costs `system_call_cost` and first carries
// out whatever fell due (a segment arriving, a connect completing), and a Backend::wait with
// nothing ready jumps to the next scheduled event or its timeout. A busy-polling program therefore
// advances time instead of hanging, and its wasted calls show in counts().
//
// Not modelled: segment sizes, Nagle, delayed acknowledgements and the receiver's window-update
// thresholds (so after the first partial send, counts differ from a real kernel's, which differ
// between kernel versions too), TIME_WAIT, urgent data, and any other OS's accept-queue rule
// than Linux's (backlog + 1, SYN dropped when full).
//
// What a test tunes (KernelConfig, FaultPlan, the controls) is declared in muxlab/fake.hpp, the
// public face; this header is the model's, and the part marked "for the backends" is theirs.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "muxlab/clock.hpp"
#include "muxlab/fake.hpp"
#include "muxlab/net.hpp"

#include "event_queue.hpp"
#include "handle_table.hpp"
#include "personality.hpp"
#include "seeded_random.hpp"

namespace muxlab::fake {

// The public face (muxlab/fake.hpp) has the defaults, FaultPlan, KernelConfig, CallCounts and
// KernelControls. What follows is the model's own.

// setsockopt(SO_SNDBUF or SO_RCVBUF, n) stores and reports 2n: Linux reserves half for its own
// bookkeeping. Requests are capped at net.core.wmem_max/rmem_max, results floored at SOCK_MIN_*BUF.
inline constexpr std::size_t kBufferSizeDoubling = 2;
inline constexpr std::size_t kMaxBufferRequest = 212'992;
inline constexpr std::size_t kMinSendBufferSize = 4'608;
inline constexpr std::size_t kMinReceiveBufferSize = 2'304;
// POSIX select's FD_SETSIZE: fd values at or above it cannot be watched at all.
inline constexpr std::size_t kSelectSetSize = 1024;

// Who is calling: a program's id, set by whoever switches between programs. 0 is nobody in
// particular, where calls count when no owner was set.
using Owner = std::uint64_t;

// Linux's wake-up callbacks (sk_data_ready, sk_write_space, sk_error_report, sk_state_change).
// epoll ignores a wake-up that concerns nothing a registration asked for, which is what makes
// edge-triggered reports exact: no event after a partial read, one on every arrival of data.
// receive_shut and send_shut are state changes that Linux reports through sk_state_change like
// any other, so epoll treats them as state_changed; they are told apart for kqueue, where BSD
// wakes only the buffer whose side shut (socantrcvmore: the read filter; socantsendmore: the
// write filter).
enum class Wakeup : std::uint8_t {
  readable,
  writable,
  error,
  state_changed,
  receive_shut,  // nothing more will arrive: the peer's FIN, or a local shutdown(read)
  send_shut,     // nothing more can be sent: a local shutdown(write)
};

// A registration listening to a socket: fake epoll and kqueue keep their ready lists this way.
class Watcher {
 public:
  virtual void on_wakeup(Wakeup why) = 0;
  // The handle was closed: for this watcher the socket is gone.
  virtual void on_closed() = 0;

 protected:
  ~Watcher() = default;
};

struct Socket;
class Loopback;

class FakeKernel final : public Net, public Clock, public KernelControls {
 public:
  explicit FakeKernel(const Personality& personality, KernelConfig config = {});
  ~FakeKernel() override;
  FakeKernel(const FakeKernel&) = delete;
  FakeKernel& operator=(const FakeKernel&) = delete;

  // --- Net: every call is a system call (see the top of this file) ---
  Result<Handle> listen(Endpoint at, int backlog) override;
  Result<Handle> socket() override;
  Status connect(Handle h, Endpoint to) override;
  Result<Handle> accept(Handle listener) override;
  Result<std::size_t> send(Handle h, std::span<const std::byte> data) override;
  Result<std::size_t> recv(Handle h, std::span<std::byte> into) override;
  Status shutdown(Handle h, Direction d) override;
  Status close(Handle h) override;
  Status abort(Handle h) override;
  Result<std::error_code> pending_error(Handle h) override;
  Status set_send_buffer(Handle h, std::size_t bytes) override;
  Status set_receive_buffer(Handle h, std::size_t bytes) override;
  Result<std::size_t> send_buffer(Handle h) override;
  Result<Endpoint> local_endpoint(Handle h) override;
  // recv(MSG_PEEK): the bytes recv would take, left where they are. Errors as recv's.
  Result<std::size_t> peek(Handle h, std::span<std::byte> into);
  // getpeername: where a connected socket (or one connecting) leads; not_connected otherwise.
  Result<Endpoint> peer_endpoint(Handle h);

  // --- Clock ---
  Time now() const override { return queue_.now(); }

  // --- KernelControls (muxlab/fake.hpp) ---
  KernelConfig& config() override { return config_; }
  void reseed(std::uint64_t seed) override;
  Status set_faults(Handle h, const FaultPlan& plan) override;
  Status reset_at(Handle h, Time at) override;
  Status inject_spurious_wakeup(Handle h) override;
  const CallCounts& counts() const override { return counts_; }
  void advance(Duration d) override {
    run_until(d >= kEndOfVirtualTime - now() ? kEndOfVirtualTime : now() + d);
  }

  // --- Knobs ---
  const Personality& personality() const { return personality_; }

  void set_owner(Owner owner) {
    owner_ = owner;
    owner_counts_now_ = &owner_counts_[owner];
  }
  CallCounts counts(Owner owner) const;

  void run_until(Time t) { queue_.run_until(t); }
  std::optional<Time> next_event_time() const { return queue_.next_time(); }

  // --- For the backends ---
  // A system call begins: charge its cost, carry out what is due, count it.
  void begin_call();
  // Runs `fn` as bookkeeping, not as a program's calls: nothing it does costs time or counts.
  // The exec kernel server checks a parked call this way each time something changed; the call
  // was charged once, when the program made it.
  template <class Fn>
  auto uncharged(Fn fn) -> decltype(fn());
  void count_would_block();
  void count_empty_poll();
  // A whole system call: begin_call(), then `call`, whose would_block result is counted for the
  // current owner. The Result is returned as `call` made it: each move of one (a variant holding
  // an Error and its string) costs.
  template <class Call>
  auto system_call(Call call) -> decltype(call());
  // The socket h names, nullptr when h is not open. A socket outlives its handle, so a watcher
  // removed when the handle closes (Watcher::on_closed) may keep the pointer until then.
  Socket* socket_at(Handle h) const;
  bool is_open(Handle h) const { return socket_at(h) != nullptr; }
  void watch(Socket& s, Watcher* watcher);
  void unwatch(Socket& s, Watcher* watcher);
  // Runs `collect` (which fills the caller's events and returns how many) until it finds
  // something or the timeout passes in virtual time, jumping from one scheduled event to the next.
  template <class Collect>
  Result<std::size_t> wait_for(Duration timeout, Collect collect);

 private:
  static Error wait_past_the_end_of_time(Duration timeout);
  template <class T>
  void tally(const Result<T>& result);
  // `fn` on the socket h names, or bad_handle naming `call` when h is not open.
  template <class Fn>
  auto with_socket(Handle h, const char* call, Fn fn) -> decltype(fn(*socket_at(h)));
  // with_socket() as a whole system call.
  template <class Fn>
  auto socket_call(Handle h, const char* call, Fn fn) -> decltype(fn(*socket_at(h)));
  Result<Handle> open_socket(const char* call);
  void close_handle(Handle h, Socket& s, bool abortive);
  std::optional<Error> send_refusal(Socket& s, Handle h);
  Result<std::size_t> recv_without_data(Socket& s, Handle h);
  void inject_spurious_wakeups();

  const Personality& personality_;
  KernelConfig config_;
  EventQueue queue_;
  SeededRandom random_;
  HandleTable<Socket> handles_;
  std::unique_ptr<Loopback> loopback_;
  Owner owner_ = 0;
  CallCounts counts_;
  std::map<Owner, CallCounts> owner_counts_;
  // owner_'s entry, so that counting a call needs no search (map entries never move).
  CallCounts* owner_counts_now_ = &owner_counts_[owner_];
  bool spurious_wakeups_planned_ = false;  // some plan asks for them: only then draw per call
  bool uncharged_ = false;                 // within uncharged(): calls cost and count nothing
};

template <class Fn>
auto FakeKernel::uncharged(Fn fn) -> decltype(fn()) {
  const bool outer = std::exchange(uncharged_, true);
  struct Restore {
    bool& flag;
    bool value;
    ~Restore() { flag = value; }
  } restore{uncharged_, outer};
  return fn();
}

template <class Call>
auto FakeKernel::system_call(Call call) -> decltype(call()) {
  begin_call();
  auto result = call();
  tally(result);
  return result;
}

template <class T>
void FakeKernel::tally(const Result<T>& result) {
  if (!result.ok() && result.error() == Errc::would_block) count_would_block();
}

template <class Collect>
Result<std::size_t> FakeKernel::wait_for(Duration timeout, Collect collect) {
  const bool forever = timeout == infinite;
  // A deadline past the end of virtual time is cut to it; nothing scheduled before it means
  // the wait cannot end in any time the clock can still count.
  const bool past_the_end = forever || timeout >= kEndOfVirtualTime - now();
  const Time deadline = past_the_end ? kEndOfVirtualTime : now() + timeout;
  for (;;) {
    Result<std::size_t> found = collect();
    if (!found.ok() || *found > 0) return found;
    if (timeout <= Duration::zero()) {
      count_empty_poll();
      return found;
    }
    const std::optional<Time> next = queue_.next_time();
    if (!next || *next > deadline) {
      // A real kernel would block here until another thread or process acted. In this
      // single-threaded simulation nobody else can act, so blocking is a certain hang: say so.
      if (forever)
        return Error(Errc::invalid_argument,
                     "would wait forever: nothing is scheduled and nothing registered is ready");
      if (past_the_end) return wait_past_the_end_of_time(timeout);
      queue_.run_until(deadline);
      return std::size_t{0};
    }
    queue_.run_until(*next);
  }
}

}  // namespace muxlab::fake
