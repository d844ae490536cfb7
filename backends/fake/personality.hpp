#pragma once
// A personality is one real system as a program sees it through one readiness mechanism: which
// Readiness a socket's state shows as (the DESIGN table, column by column), what happens to a
// handle closed while registered, the mechanism's limits and trigger modes, which socket API's
// errors the calls return, and the one TCP habit that differs (Windows retrying a refused SYN).
// The kernel keeps one model of TCP; personalities only read it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "muxlab/backend.hpp"
#include "muxlab/clock.hpp"
#include "muxlab/readiness.hpp"

namespace muxlab::fake {

// A socket's state in the terms the mechanisms' rules are written in. The first group is what
// Linux's tcp_poll() looks at; the rest is what Winsock and kqueue look at besides.
struct SocketFacts {
  bool listening = false;
  bool acceptable = false;     // a connection waits in the accept queue
  bool connecting = false;     // SYN sent, no answer yet
  bool closed_state = false;   // TCP_CLOSE: never connected, refused, reset, timed out
  bool has_data = false;       // bytes to read (or a spurious-wakeup fault pretends so)
  bool read_shut = false;      // RCV_SHUTDOWN: FIN received, reset, or a local shutdown(read)
  bool write_shut = false;     // SEND_SHUTDOWN: a local shutdown(write), or reset
  bool has_space = false;      // the send buffer has room enough to wake a writer
  bool error_pending = false;  // SO_ERROR is set (refused, reset, timed out)

  bool was_connected = false;   // established at some point (Winsock shows nothing before)
  bool connect_failed = false;  // the last connect was refused or timed out

  // The amounts kqueue reports as `data`.
  std::size_t bytes_to_read = 0;        // received and not yet taken by recv()
  std::size_t accept_queue_length = 0;  // connections waiting for accept()
  std::size_t send_room = 0;            // bytes send() would take now
};

// Which socket API's answers the calls give where they differ. Linux reports a completed connect
// to one more connect() with success (BSD and Winsock say EISCONN at once); Winsock says
// WSAESHUTDOWN on a shut direction, WSAENOTCONN for data calls on a socket that never connected,
// and keeps failing every call on a reset connection with WSAECONNRESET.
enum class SocketApi : std::uint8_t { linux_sockets, bsd_sockets, winsock };

enum class ClosedWhileRegistered : std::uint8_t {
  dropped,            // epoll: silently, and a later remove() fails on the closed fd (EBADF)
  removed,            // kqueue: with the socket's knotes, so a later remove() finds nothing
  reported_as_error,  // poll: POLLNVAL on every wait until the caller removes it
  fails_wait,         // select: the whole wait fails (EBADF, WSAENOTSOCK)
};

// Which of the DESIGN table's rules turns a socket's facts into Readiness.
enum class ReadinessRule : std::uint8_t { linux_epoll_or_poll, linux_select, win32_select, kqueue };

struct Personality {
  std::string_view mechanism;  // "epoll"; the environment is "fake:epoll"
  Capabilities capabilities;
  bool keeps_ready_list;  // epoll and kqueue: a wait costs O(ready); the others scan
  ClosedWhileRegistered closed_while_registered;
  SocketApi api;
  // Windows answers a reset to its SYN by sending the SYN again, twice, a second apart, so a
  // refused connect takes about two seconds even on loopback. Zero elsewhere: refused at once.
  int syn_resends_after_reset;
  ReadinessRule rule;  // how a socket's facts show as Readiness (readiness_rules.hpp)
  // BSD wakes a socket's writers on every acknowledgment of data (tcp_input's sowwakeup() after
  // sbcut), so kqueue's write filter is checked whenever send space frees up. Linux wakes a writer
  // only once one found no room (SOCK_NOSPACE) and enough has freed, which EPOLLET's reports show.
  bool acks_wake_writers;
};

inline constexpr Duration kSynResendAfterResetInterval = std::chrono::seconds(1);

// In the registry's order: epoll, poll, select, win32-select, kqueue.
std::span<const Personality> personalities();
// nullptr for an unknown mechanism.
const Personality* find_personality(std::string_view mechanism);

}  // namespace muxlab::fake
