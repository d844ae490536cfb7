#pragma once
// What the preload shim (backends/preload/) and the kernel server (kernel_server.hpp) say to each
// other over a process's channel, a SOCK_SEQPACKET socketpair: one Request, then its payload, in
// one message; one Reply and its payload back. A process sends a request only while it holds the
// baton and then waits for the reply, so a process is always running or waiting for its reply,
// and the server decides which reply goes out next.
//
// Flags, options and error numbers are Linux's values: exec runs Linux programs, and the shim
// passes what the program gave without translating bits it need not understand. They are spelled
// out here, not taken from <poll.h> or <sys/epoll.h>, so that the server needs no platform header;
// the shim checks them against the system's with static_assert.
#include <cstddef>
#include <cstdint>

namespace muxlab::exec {

// The channel's descriptor number in a new process, in the environment.
inline constexpr const char* kChannelVariable = "MUXLAB_EXEC_CHANNEL";
// Where virtual CLOCK_MONOTONIC starts, in nanoseconds: the real one's reading when the run began.
inline constexpr const char* kMonotonicStartVariable = "MUXLAB_EXEC_MONOTONIC_START";

// The most payload one message carries. A larger send or recv moves this much and reports the
// count, which is what a partial send or a short read says anyway; a blocking send goes on with
// the rest in the next message, as the real call would within one.
inline constexpr std::size_t kMaxPayload = 64 * 1024;
// The largest message on a channel: a poll's descriptors or an epoll_wait's events, both ways.
// Linux's default socket buffer (net.core.wmem_default, 212 992 bytes) holds it, and the
// channel's ends ask for more (kChannelBuffer).
inline constexpr std::size_t kMaxMessage = 192 * 1024;
inline constexpr int kChannelBuffer = 1 << 20;
// The most descriptors one poll, or events one epoll_wait, carries: 24 576 and 12 288, more than
// a process has under the usual RLIMIT_NOFILE of 1024 to 10 000 or so.
inline constexpr std::size_t kMaxPollEntries = (kMaxMessage - 64) / 8;
inline constexpr std::size_t kMaxEpollEvents = (kMaxMessage - 64) / 16;
// POSIX select's fd_set holds descriptors below this.
inline constexpr int kSelectSetSize = 1024;

enum class Op : std::uint32_t {
  hello,          // arg0: the real pid. The reply is the baton; payload: FakeDescriptor[]
  socket,         // fd: the placeholder; arg0: non-blocking
  socketpair,     // fd, arg0: the two placeholders; arg1: non-blocking
  bind,           // fd; arg0: IPv4 address, arg1: port (host order)
  listen,         // fd; arg0: backlog
  accept,         // fd: the listener; arg0: the placeholder for the new socket, arg1: non-blocking.
                  // Reply payload: Address (the peer)
  connect,        // fd; arg0: address, arg1: port
  send,           // fd; arg0: MSG_ flags; payload: the bytes. Reply: the count
  recv,           // fd; arg0: MSG_ flags; arg1: the most to read. Reply payload: the bytes
  shutdown,       // fd; arg0: SHUT_RD, SHUT_WR or SHUT_RDWR
  close,          // fd
  dup,            // fd: the original; arg0: the new placeholder (its number is the new fd)
  set_option,     // fd; arg0: Option; arg1, arg2: the value (linger: on, seconds)
  get_option,     // fd; arg0: Option. Reply: the value (SO_ERROR: an errno)
  local_address,  // fd. Reply payload: Address
  peer_address,   // fd. Reply payload: Address
  set_nonblocking,  // fd; arg0: 1 or 0 (O_NONBLOCK, FIONBIO)
  get_nonblocking,  // fd. Reply: 1 or 0
  bytes_readable,   // fd (FIONREAD). Reply: the count
  poll,          // arg0: timeout in ns (-1: none); payload: PollEntry[]. Reply payload: PollEntry[]
  select,        // arg0: timeout in ns (-1: none); arg1: nfds; payload: SelectSets.
                 // Reply: the count; payload: SelectSets, then the ns the call took (int64)
  epoll_create,  // fd: the placeholder
  epoll_ctl,     // fd: the epoll instance; arg0: EPOLL_CTL_*; arg1: the target fd; arg2: events;
                 // arg3: the data
  epoll_wait,    // fd; arg0: timeout in ns (-1: none); arg1: max events.
                 // Reply payload: EpollEvent[]
  clock_now,     // Reply: virtual nanoseconds since the kernel started
  sleep_until,   // arg0: virtual nanoseconds to wake at, since the kernel started (arg1 0) or
                 // from now (arg1 1). Interrupted by a signal: -1 EINTR, payload the ns left
  pipe,          // fd: the read end's placeholder; arg0: the write end's; arg1: non-blocking
  eventfd,       // fd: the placeholder; arg0: the initial count; arg1: non-blocking;
                 // arg2: EFD_SEMAPHORE
  fork,          // sent with the child's channel (SCM_RIGHTS): the host gives it to
                 // KernelServer::fork. Reply: the child's logical process id. The child's first
                 // message on its channel is hello
  alarm,         // ITIMER_REAL in virtual time: arg0: ns until it fires (0: disarm); arg1: the
                 // interval after; arg2: 1 to only read it. Reply payload: AlarmTimer, the timer
                 // as it was
  wait_child,    // arg0: waitpid's pid (-1: any child); arg1: WNOHANG. Reply: the real pid of
                 // a forked child that has ended (the shim then reaps it for real), 0 with WNOHANG
                 // when none has yet, or -1 ECHILD when no forked child matches (the real call)
};

// What a descriptor names, in the hello reply: an exec'd image learns which of the descriptors it
// inherited are fake (the reply's payload is FakeDescriptor[]).
enum class Kind : std::uint32_t {
  real = 0,
  inet_socket,
  unix_socket,
  epoll,
  pipe_read,
  pipe_write,
  eventfd
};
struct FakeDescriptor {
  std::int32_t fd;
  Kind kind;
};

// Socket options the fake kernel models; anything else is stored and read back as an int.
enum class Option : std::uint32_t {
  error,            // SO_ERROR (get only; reading clears it)
  send_buffer,      // SO_SNDBUF
  receive_buffer,   // SO_RCVBUF
  linger,           // SO_LINGER: arg1 on, arg2 seconds (on with 0 seconds: close resets)
  receive_timeout,  // SO_RCVTIMEO, in ns (0: none)
  send_timeout,     // SO_SNDTIMEO, in ns
  type,             // SO_TYPE (get only)
  other,            // arg1 (level << 32 | name), arg2 the int value
};

struct Request {
  Op op;
  std::int32_t fd;
  std::int64_t arg[4];
  std::uint32_t payload;  // bytes after this header
};

struct Reply {
  std::int64_t result;    // the call's return value
  std::int32_t error;     // errno when result is -1
  std::uint32_t payload;  // bytes after this header
  std::int32_t signal;    // a signal to raise before the call returns (SIGALRM), or 0
  std::uint32_t pad = 0;  // named, so that no byte of a reply is left unset
};

struct AlarmTimer {
  std::int64_t left_ns;      // until it fires; 0: disarmed
  std::int64_t interval_ns;  // after it fires
};

struct Address {
  std::uint32_t address;  // host order
  std::uint16_t port;
  std::uint16_t pad = 0;  // named, so that no byte of a reply is left unset
};

struct PollEntry {
  std::int32_t fd;
  std::uint16_t events;
  std::uint16_t revents;
};

struct SelectSets {
  std::uint64_t read[kSelectSetSize / 64];
  std::uint64_t write[kSelectSetSize / 64];
  std::uint64_t except[kSelectSetSize / 64];
};

struct EpollEvent {
  std::uint32_t events;
  std::uint32_t pad;
  std::uint64_t data;
};

// Linux's poll(2) and epoll(7) bits; epoll's are poll's, plus its modes.
namespace linux_abi {
inline constexpr std::uint32_t kPollIn = 0x001;
inline constexpr std::uint32_t kPollPri = 0x002;
inline constexpr std::uint32_t kPollOut = 0x004;
inline constexpr std::uint32_t kPollErr = 0x008;
inline constexpr std::uint32_t kPollHup = 0x010;
inline constexpr std::uint32_t kPollNval = 0x020;
inline constexpr std::uint32_t kPollRdNorm = 0x040;
inline constexpr std::uint32_t kPollWrNorm = 0x100;
inline constexpr std::uint32_t kPollRdHup = 0x2000;
inline constexpr std::uint32_t kEpollExclusive = 1u << 28;
inline constexpr std::uint32_t kEpollWakeUp = 1u << 29;
inline constexpr std::uint32_t kEpollOneShot = 1u << 30;
inline constexpr std::uint32_t kEpollEt = 1u << 31;
inline constexpr int kEpollCtlAdd = 1;
inline constexpr int kEpollCtlDel = 2;
inline constexpr int kEpollCtlMod = 3;
inline constexpr int kShutRd = 0;
inline constexpr int kShutWr = 1;
inline constexpr int kShutRdWr = 2;
inline constexpr int kMsgPeek = 0x02;
inline constexpr int kMsgDontWait = 0x40;
inline constexpr int kMsgWaitAll = 0x100;
inline constexpr int kMsgNoSignal = 0x4000;
inline constexpr int kSigAlrm = 14;
}  // namespace linux_abi

}  // namespace muxlab::exec
