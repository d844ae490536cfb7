#pragma once
// One TCP endpoint as the fake kernel keeps it. The fields use Linux's own vocabulary (the TCP
// state, the two shutdown bits, SO_ERROR, SOCK_DONE, SOCK_NOSPACE) so that readiness is computed
// the way tcp_poll() does and the calls fail the way tcp_sendmsg() and tcp_recvmsg() do.
// Internal to backends/fake.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "muxlab/error.hpp"
#include "muxlab/net.hpp"

#include "fake_kernel.hpp"
#include "fifo.hpp"
#include "stream_buffer.hpp"
#include "watcher_list.hpp"

namespace muxlab::fake {

enum class TcpState : std::uint8_t { closed, listening, connecting, established };

// What connect() has told the caller, which Linux keeps apart from the TCP state (sock->state):
// that is how a connect() after the handshake completed returns 0 once, and EISCONN after.
enum class ConnectCall : std::uint8_t { none, started, reported };

// Of the bytes a buffer is charged for, about a quarter is per-segment overhead (Linux charges each
// skb's truesize), so SO_SNDBUF 4096, stored as 8192, takes 6144 bytes of payload: the first count
// in the DESIGN table.
inline constexpr std::size_t kPayloadShareNumerator = 3;
inline constexpr std::size_t kPayloadShareDenominator = 4;
// A receiver advertises half its buffer as window (tcp_adv_win_scale = 1).
inline constexpr std::size_t kAdvertisedWindowDivisor = 2;

// What only listeners and connect attempts use. SocketStore keeps it apart from the Socket, so that
// it takes no room in the cache lines that every call reads.
struct SocketSetup {
  SocketId queued_in = kNoSocket;  // the listener whose accept queue holds this socket
  // A listener's accept queue.
  Fifo<SocketId> accept_queue;
  std::size_t accept_capacity = 0;
  Endpoint local{0, 0};
  // The connect attempt under way. `attempt` tells a live attempt's events from abandoned ones.
  Endpoint connect_to;
  std::uint64_t attempt = 0;
  int syn_retransmissions = 0;  // sent again because the accept queue was full
  int syn_resets = 0;           // answered with a reset (Windows tries again)
};

// What every call, wake-up and readiness check reads, in two cache lines (SocketStore keeps sockets
// a line-aligned 128 bytes apart): with many connections each line touched is likely a miss, and
// one request/response exchange touches both ends. The first line holds all that facts() reads,
// so a readiness check costs one line; poll and select check every registered socket per wait.
// The second holds what ties the socket to the wire and to its watchers. The widths are chosen to
// fit, with a Windows handle of 8 bytes too: SO_ERROR is an Errc in a byte, the buffer sizes are
// ints in Linux as well, and no buffer holds 4 GiB (StreamBuffer).
struct alignas(64) Socket {
  Handle handle = invalid_handle;  // invalid once closed: an orphan still finishing its work
  std::uint32_t in_flight = 0;     // how many of the unacknowledged bytes are on the wire
  std::uint8_t error = 0;          // SO_ERROR: an Errc, none when zero (set_error, take_error)
  TcpState state = TcpState::closed;
  ConnectCall connect_call = ConnectCall::none;
  bool was_connected = false;
  bool read_shut = false;      // RCV_SHUTDOWN
  bool write_shut = false;     // SEND_SHUTDOWN
  bool peer_finished = false;  // SOCK_DONE: the FIN arrived, so recv() gives 0 before errors
  bool fin_sent = false;
  bool connect_failed = false;     // refused or timed out
  bool reset = false;              // the connection was reset
  bool nospace = false;            // SOCK_NOSPACE: a writer found no room; wake it when there is
  bool spurious_readable = false;  // a fault: reported readable until the next recv() or accept()
  std::uint32_t send_buffer_size = 0;     // SO_SNDBUF as getsockopt reports it
  std::uint32_t receive_buffer_size = 0;  // SO_RCVBUF as getsockopt reports it
  StreamBuffer unacknowledged;            // accepted by send(), not yet in the peer's buffer
  StreamBuffer received;                  // arrived, not yet taken by recv()

  SocketId id = kNoSocket;
  SocketId peer = kNoSocket;
  Time last_arrival{0};  // of this socket's latest outgoing segment
  std::uint64_t bytes_sent = 0;
  std::unique_ptr<FaultPlan> faults;  // none: the kernel's default plan applies
  WatcherList watchers;
  SocketSetup* setup = nullptr;  // its own, set by SocketStore

  bool has_error() const { return error != 0; }
  void set_error(Errc why) { error = static_cast<std::uint8_t>(why); }
  // Reads SO_ERROR, which clears it.
  std::error_code take_error() {
    const auto why = static_cast<Errc>(std::exchange(error, std::uint8_t{0}));
    return why == Errc{} ? std::error_code{} : make_error_code(why);
  }

  std::size_t send_capacity() const {
    return send_buffer_size * kPayloadShareNumerator / kPayloadShareDenominator;
  }
  std::size_t send_room() const {
    const std::size_t capacity = send_capacity();
    return capacity > unacknowledged.size() ? capacity - unacknowledged.size() : 0;
  }
  // Linux wakes a writer only once the free space is at least half of what is queued
  // (sk_stream_is_writeable), so writability comes back in chunks, not byte by byte.
  bool has_send_space() const {
    return send_room() > 0 && send_room() >= unacknowledged.size() / 2;
  }
  // What the peer may still send: the advertised window less what waits unread.
  std::size_t receive_window() const {
    const std::size_t window = receive_buffer_size / kAdvertisedWindowDivisor;
    return window > received.size() ? window - received.size() : 0;
  }

  SocketFacts facts() {
    SocketFacts f;
    f.listening = state == TcpState::listening;
    f.acceptable = f.listening && !setup->accept_queue.empty();
    f.connecting = state == TcpState::connecting;
    f.closed_state = state == TcpState::closed;
    f.has_data = !received.empty() || spurious_readable;
    f.read_shut = read_shut;
    f.write_shut = write_shut;
    f.has_space = has_send_space();
    f.error_pending = has_error();
    f.was_connected = was_connected;
    f.connect_failed = connect_failed;
    if (f.listening && spurious_readable) f.acceptable = true;
    f.bytes_to_read = received.size();
    f.accept_queue_length = f.listening ? setup->accept_queue.size() : 0;
    f.send_room = state == TcpState::established && !write_shut ? send_room() : 0;
    // Like tcp_poll(), looking notes that a writer may be waiting when there is no room, so the
    // room coming back wakes it.
    if (!f.has_space && state == TcpState::established) nospace = true;
    return f;
  }

  void wake(Wakeup why) {
    // The usual case, one registration, needs no copy to walk: a watcher added meanwhile would
    // not be in the copy either.
    if (watchers.size() == 1) {
      watchers.front()->on_wakeup(why);
      return;
    }
    // A watcher may go away while hearing of it (a one-shot that is removed): walk a copy.
    for (Watcher* w : watchers.copy()) {
      if (watchers.contains(w)) w->on_wakeup(why);
    }
  }
};
static_assert(sizeof(Socket) == 128, "a Socket is two cache lines; see the comment above it");
static_assert(static_cast<int>(Errc::no_resources) <= 255, "Socket::error keeps an Errc in a byte");

}  // namespace muxlab::fake
