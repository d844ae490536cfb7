#pragma once
// The fake kernel's controls, for tests: its configuration, seeded fault injection, handle
// pressure and call counts. A fake environment hands them out (Environment::fake_kernel(), also
// through a traced environment); a real one has none.
//
//   if (muxlab::fake::KernelControls* kernel = env().fake_kernel()) {
//     kernel->config().faults.short_send = 0.25;  // every fourth send takes less than it could
//     kernel->config().open_file_limit = 64;      // socket() and accept() fail at handle 64
//   }
//
// Changes apply from the next call on: latencies to segments sent later, buffer sizes to sockets
// made later, limits to the next allocation or add(). Every random choice comes from the seed
// (EnvironmentOptions::seed, MUXLAB_SEED in the testing toolkit), so a failure replays exactly.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "muxlab/clock.hpp"
#include "muxlab/handle.hpp"
#include "muxlab/result.hpp"

namespace muxlab::fake {

// SO_SNDBUF and SO_RCVBUF as Linux reports them before any setsockopt (tcp_wmem[1], tcp_rmem[1]).
inline constexpr std::size_t kDefaultSendBufferSize = 16 * 1024;
inline constexpr std::size_t kDefaultReceiveBufferSize = 128 * 1024;
// The soft open-file limit (RLIMIT_NOFILE) of the machines the DESIGN table was measured on.
inline constexpr std::size_t kDefaultOpenFileLimit = 20'000;
// CPython's FD_SETSIZE for Winsock select, a count of sockets; configurable like Winsock's.
inline constexpr std::size_t kDefaultWin32SelectLimit = 512;
inline constexpr Duration kDefaultSystemCallCost = std::chrono::microseconds(1);
// Virtual time stops here, about 146 years after a kernel starts, so that adding a call's cost
// or a latency to any time the clock can reach never overflows. A wait whose timeout ends later
// (any finite value up to Duration::max()) is honoured until then; with nothing scheduled before
// it, it fails like an infinite one instead of jumping to the end.
inline constexpr Time kEndOfVirtualTime = Time::max() / 2;
// A real kernel delivers over loopback within the sending call, so by default nothing waits on the
// wire; a test that wants a network sets a latency.
inline constexpr Duration kDefaultLinkLatency = Duration::zero();

// Seeded misbehaviour of one socket's outgoing side (KernelControls::set_faults), or of every
// socket that has no plan of its own (KernelConfig::faults). Chances are per opportunity, 0 to 1.
struct FaultPlan {
  Duration latency_jitter{0};  // each segment is late by up to this much more (still in order)
  double refuse_connect = 0;   // per connect() from this socket: refused though someone listens
  double short_send = 0;       // per send(): fewer bytes accepted than there was room for
  double spurious_wakeup = 0;  // per system call: reported readable, yet recv() gives would_block
  // The connection breaks (both ends see connection_reset) once this socket has sent this many
  // bytes; the bytes the peer had room for arrive before the reset.
  std::optional<std::uint64_t> reset_after_bytes;
};

struct KernelConfig {
  std::uint64_t seed = 1;
  Duration system_call_cost = kDefaultSystemCallCost;
  Duration link_latency = kDefaultLinkLatency;
  std::size_t open_file_limit = kDefaultOpenFileLimit;  // handle values stay below it (EMFILE)
  std::size_t win32_select_limit = kDefaultWin32SelectLimit;
  std::size_t send_buffer_size = kDefaultSendBufferSize;        // for new sockets
  std::size_t receive_buffer_size = kDefaultReceiveBufferSize;  // for new sockets
  FaultPlan faults;
};

struct CallCounts {
  std::uint64_t calls = 0;        // socket and backend calls, each one a system call
  std::uint64_t would_block = 0;  // calls that returned would_block: a busy poller's waste
  std::uint64_t empty_polls = 0;  // waits with timeout 0 that found nothing ready
  friend bool operator==(const CallCounts&, const CallCounts&) = default;
};

class KernelControls {
 public:
  virtual KernelConfig& config() = 0;
  // Restarts the random choices from `seed`.
  virtual void reseed(std::uint64_t seed) = 0;
  // This socket's own fault plan, instead of config().faults. bad_handle for no open socket.
  virtual Status set_faults(Handle h, const FaultPlan& plan) = 0;
  // The connection of `h` breaks at virtual time `at` (both ends see connection_reset).
  virtual Status reset_at(Handle h, Time at) = 0;
  // `h` is reported readable from now until its next recv() or accept(), which finds nothing.
  virtual Status inject_spurious_wakeup(Handle h) = 0;
  // Every call so far, by every program.
  virtual const CallCounts& counts() const = 0;
  // Moves virtual time forward, carrying out what falls due; costs no system call.
  virtual void advance(Duration d) = 0;

 protected:
  ~KernelControls() = default;
};

}  // namespace muxlab::fake
