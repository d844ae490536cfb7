// libmuxlab_preload.so: the preload shim of `muxlab exec` (docs/exec.md). Loaded into an unmodified
// dynamically linked program, it answers the program's TCP socket, wait and time calls from the
// fake kernel that the muxlab process serves, over the channel named by MUXLAB_EXEC_CHANNEL, and
// passes every other call to libc untouched.
//
// Each fake object (a socket, an epoll instance) is backed by a real placeholder descriptor, so its
// number is the lowest free one and close-on-exec, fstat and FD_SETSIZE checks are truthful; the
// table g_kind says which numbers are fake. The channel lives on a high descriptor that the
// program's close, dup2 and close_range cannot reach.
//
// Rules for this file: no exception crosses the C boundary (nothing here throws), and the path of
// a call allocates nothing (a signal handler may make one): the request and reply go through one
// static buffer, guarded by the channel's lock. Only getaddrinfo allocates, as libc's does.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../fake/exec_protocol.hpp"

namespace {

using namespace muxlab::exec;
namespace abi = muxlab::exec::linux_abi;

static_assert(abi::kPollIn == POLLIN && abi::kPollPri == POLLPRI && abi::kPollOut == POLLOUT &&
              abi::kPollErr == POLLERR && abi::kPollHup == POLLHUP && abi::kPollNval == POLLNVAL &&
              abi::kPollRdNorm == POLLRDNORM && abi::kPollWrNorm == POLLWRNORM &&
              abi::kPollRdHup == POLLRDHUP);
static_assert(abi::kEpollEt == EPOLLET && abi::kEpollOneShot == EPOLLONESHOT &&
              abi::kEpollCtlAdd == EPOLL_CTL_ADD && abi::kEpollCtlDel == EPOLL_CTL_DEL &&
              abi::kEpollCtlMod == EPOLL_CTL_MOD);
static_assert(abi::kShutRd == SHUT_RD && abi::kShutWr == SHUT_WR && abi::kShutRdWr == SHUT_RDWR);
static_assert(abi::kMsgPeek == MSG_PEEK && abi::kMsgDontWait == MSG_DONTWAIT &&
              abi::kMsgWaitAll == MSG_WAITALL && abi::kMsgNoSignal == MSG_NOSIGNAL);
static_assert(kSelectSetSize == FD_SETSIZE);

// The virtual clocks: CLOCK_REALTIME starts at 2026-01-01T00:00:00Z. CLOCK_MONOTONIC starts where
// the real one stood when muxlab exec began (kMonotonicStartVariable), the same for every process
// of a run: a deadline a program computes from it and hands to a wait the shim cannot see (a
// thread's sem_clockwait, as CPython's locks use) then lies in the real future, not decades in
// the past, where such a wait would time out at once. 100 s when the variable is missing.
constexpr long long kRealtimeStartNs = 1'767'225'600LL * 1'000'000'000LL;
long long g_monotonic_start_ns = 100'000'000'000LL;
constexpr int kTracked = 1 << 16;  // fake objects get descriptor numbers below this

std::atomic<unsigned char> g_kind[kTracked];  // a Kind per descriptor number
int g_channel = -1;                           // -1: not under muxlab exec; everything is real
pid_t g_pid = 0;  // the process the channel belongs to: a vfork child shares g_channel, not this
// One call at a time on the channel. Recursive, so that a call that fills one of the static
// buffers below holds it from filling to reading back (ChannelLock) around the call inside.
pthread_mutex_t g_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

struct ChannelLock {
  ChannelLock() { pthread_mutex_lock(&g_lock); }
  ~ChannelLock() { pthread_mutex_unlock(&g_lock); }
  ChannelLock(const ChannelLock&) = delete;
  ChannelLock& operator=(const ChannelLock&) = delete;
};

// The static buffers of the calls that gather or scatter, each under the channel's lock.
unsigned char g_gathered[kMaxPayload];
PollEntry g_entries[kMaxPollEntries];
EpollEvent g_events[kMaxEpollEvents];

// libc's own function `name`, found once.
#define REAL(name) \
  static const auto real_##name = reinterpret_cast<decltype(&::name)>(real_symbol(#name))

void* real_symbol(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    static const char message[] = "muxlab preload: a libc function is missing\n";
    (void)!::write(2, message, sizeof message - 1);
    _exit(70);
  }
  return f;
}

Kind kind_of(int fd) {
  if (g_channel < 0 || fd < 0 || fd >= kTracked) return Kind::real;
  return static_cast<Kind>(g_kind[fd].load(std::memory_order_relaxed));
}
bool is_fake(int fd) {
  return kind_of(fd) != Kind::real;
}
bool is_socket(int fd) {
  const Kind k = kind_of(fd);
  return k == Kind::inet_socket || k == Kind::unix_socket;
}
// What read(2) and write(2) reach on the fake kernel: a socket, a pipe end or an eventfd.
bool is_stream(int fd) {
  const Kind k = kind_of(fd);
  return k != Kind::real && k != Kind::epoll;
}
void set_kind(int fd, Kind k) {
  if (fd >= 0 && fd < kTracked) g_kind[fd].store(static_cast<unsigned char>(k));
}

[[noreturn]] void lost_server() {
  static const char message[] = "muxlab preload: the kernel server is gone\n";
  (void)!::write(2, message, sizeof message - 1);
  _exit(70);
}

struct Answer {
  long long result;
  int error;
  std::size_t payload;  // bytes of reply payload copied into the caller's buffer
};

// One call on the fake kernel: the request and `payload` out (with descriptor `passed`, when not
// -1), the reply back, its payload into `into`. Blocks until the server answers, which is when
// this process has the baton again.
Answer call_passing(int passed, Op op, int fd, long long a0 = 0, long long a1 = 0, long long a2 = 0,
                    long long a3 = 0, const void* payload = nullptr, std::size_t payload_size = 0,
                    void* into = nullptr, std::size_t into_size = 0) {
  Request request{op, fd, {a0, a1, a2, a3}, static_cast<std::uint32_t>(payload_size)};
  iovec out[2] = {{&request, sizeof request}, {const_cast<void*>(payload), payload_size}};
  msghdr message{};
  message.msg_iov = out;
  message.msg_iovlen = payload_size > 0 ? 2 : 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (passed >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof passed);
    std::memcpy(CMSG_DATA(c), &passed, sizeof passed);
  }
  const ChannelLock lock;
  while (syscall(SYS_sendmsg, g_channel, &message, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) lost_server();
  Reply reply{};
  iovec in[2] = {{&reply, sizeof reply}, {into, into_size}};
  msghdr answer{};
  answer.msg_iov = in;
  answer.msg_iovlen = into_size > 0 ? 2 : 1;
  long got;
  while ((got = syscall(SYS_recvmsg, g_channel, &answer, 0)) < 0)
    if (errno != EINTR) lost_server();
  if (got < static_cast<long>(sizeof reply)) lost_server();
  const std::size_t payload_got = static_cast<std::size_t>(got) - sizeof reply;
  // A signal in virtual time (SIGALRM) is raised before the call returns, as the kernel delivers
  // one on the way back from a system call: its handler runs, then the call says EINTR.
  if (reply.signal != 0) syscall(SYS_kill, getpid(), reply.signal);
  return Answer{reply.result, reply.error, payload_got < into_size ? payload_got : into_size};
}

Answer call(Op op, int fd, long long a0 = 0, long long a1 = 0, long long a2 = 0, long long a3 = 0,
            const void* payload = nullptr, std::size_t payload_size = 0, void* into = nullptr,
            std::size_t into_size = 0) {
  return call_passing(-1, op, fd, a0, a1, a2, a3, payload, payload_size, into, into_size);
}

// The C convention: the result, or -1 with errno set.
long long returned(const Answer& a) {
  if (a.result == -1) errno = a.error;
  return a.result;
}

// Whether `p` is null, for parameters glibc declares non-null that programs may still pass
// NULL for (a direct comparison is one GCC warns of and may drop).
[[gnu::noinline]] bool is_null(const volatile void* p) {
  return p == nullptr;
}

int fail(int e) {
  errno = e;
  return -1;
}

long long nanoseconds_of(const timespec& t) {
  return static_cast<long long>(t.tv_sec) * 1'000'000'000LL + t.tv_nsec;
}
timespec timespec_of(long long ns) {
  return timespec{static_cast<time_t>(ns / 1'000'000'000LL),
                  static_cast<long>(ns % 1'000'000'000LL)};
}

// A placeholder: a real descriptor of the same type (fstat tells a socket, an epoll instance and
// an eventfd apart) holding the fake object's number. Pipes take two: make_pipe_placeholders.
int make_placeholder(Kind kind, bool cloexec) {
  REAL(socket);
  REAL(epoll_create1);
  REAL(eventfd);
  REAL(close);
  const int fd = kind == Kind::epoll ? real_epoll_create1(cloexec ? EPOLL_CLOEXEC : 0)
                 : kind == Kind::eventfd
                     ? real_eventfd(0, cloexec ? EFD_CLOEXEC : 0)
                     : real_socket(AF_UNIX, SOCK_STREAM | (cloexec ? SOCK_CLOEXEC : 0), 0);
  if (fd >= kTracked) {
    real_close(fd);
    return fail(EMFILE);
  }
  return fd;
}

// A real pipe's two ends, which nothing will ever be written to, as a fake pipe's placeholders.
int make_pipe_placeholders(int ends[2], bool cloexec) {
  REAL(pipe2);
  REAL(close);
  if (real_pipe2(ends, cloexec ? O_CLOEXEC : 0) < 0) return -1;
  if (ends[0] >= kTracked || ends[1] >= kTracked) {
    real_close(ends[0]);
    real_close(ends[1]);
    return fail(EMFILE);
  }
  return 0;
}

void drop_placeholder(int fd) {
  REAL(close);
  set_kind(fd, Kind::real);
  real_close(fd);
}

bool wants_sigpipe(int flags) {
  return (flags & MSG_NOSIGNAL) == 0;
}

// Whether a call a signal interrupted starts again by itself: SA_RESTART on the handler of the
// one signal exec delivers (signal(7)); poll, select, epoll_wait and sleeps never do.
bool restarts_after(int error) {
  struct sigaction action {};
  return error == EINTR && sigaction(SIGALRM, nullptr, &action) == 0 &&
         (action.sa_flags & SA_RESTART) != 0 && action.sa_handler != SIG_DFL &&
         action.sa_handler != SIG_IGN;
}

// send on a fake socket. A blocking send goes on in kMaxPayload pieces until all is sent, as the
// real call does within one; a non-blocking one sends the first piece.
ssize_t fake_send(int fd, const void* data, std::size_t size, int flags) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (size > 0 && data == nullptr) return fail(EFAULT);
  std::size_t sent = 0;
  do {
    const std::size_t piece = size - sent < kMaxPayload ? size - sent : kMaxPayload;
    const Answer a = call(Op::send, fd, flags, 0, 0, 0, bytes + sent, piece);
    if (a.result < 0) {
      if (sent > 0) return static_cast<ssize_t>(sent);
      if (a.error == EPIPE && wants_sigpipe(flags)) raise(SIGPIPE);
      return static_cast<ssize_t>(returned(a));
    }
    sent += static_cast<std::size_t>(a.result);
    if (static_cast<std::size_t>(a.result) < piece) break;  // a partial send: non-blocking
  } while (sent < size);
  return static_cast<ssize_t>(sent);
}

// Bytes that reached a fake pipe's placeholder outside the shim: written through stdio, whose
// writes are glibc's internal ones, by a program a forked child exec'd (subprocess's children).
// They are read first, and instead of the end of the stream (docs/exec.md).
std::size_t bytes_outside(int fd) {
  int waiting = 0;
  if (kind_of(fd) != Kind::pipe_read || syscall(SYS_ioctl, fd, FIONREAD, &waiting) < 0) return 0;
  return waiting > 0 ? static_cast<std::size_t>(waiting) : 0;
}

ssize_t read_outside(int fd, void* into, std::size_t size) {
  const std::size_t waiting = bytes_outside(fd);
  if (waiting == 0 || size == 0) return 0;
  return syscall(SYS_read, fd, into, size < waiting ? size : waiting);
}

ssize_t fake_recv(int fd, void* into, std::size_t size, int flags) {
  if (size > 0 && into == nullptr) {
    // Linux faults only when it copies: with nothing waiting the call is EAGAIN (or waits), at
    // the end of the stream 0, and the bytes stay unread; an eventfd's count is taken, as
    // eventfd_read() takes it before copying. Bytes that came outside the shim are waiting too.
    if (bytes_outside(fd) > 0) return fail(EFAULT);
    unsigned char scratch[sizeof(std::uint64_t)];
    const bool count = kind_of(fd) == Kind::eventfd;
    const ssize_t got =
        fake_recv(fd, scratch, count ? (size < sizeof scratch ? size : sizeof scratch) : 1,
                  count ? flags : flags | MSG_PEEK);
    return got > 0 ? fail(EFAULT) : got;
  }
  const bool peek = (flags & MSG_PEEK) != 0;  // (only the shim peeks at a pipe: bytes stay)
  if (const ssize_t early = peek ? 0 : read_outside(fd, into, size); early > 0) return early;
  const std::size_t asked = size < kMaxPayload ? size : kMaxPayload;
  Answer a;
  do
    a = call(Op::recv, fd, flags, static_cast<long long>(asked), 0, 0, nullptr, 0, into, asked);
  while (a.result < 0 && restarts_after(a.error));
  if (a.result == 0 || (a.result < 0 && a.error == EAGAIN))
    if (const ssize_t late = peek ? 0 : read_outside(fd, into, size); late > 0) return late;
  return static_cast<ssize_t>(returned(a));
}

// The iovecs' bytes, gathered into one piece of at most kMaxPayload (under no lock: its own).
// Linux's import_iovec(): a count beyond IOV_MAX is EINVAL, an array it cannot read EFAULT.
int iovec_error(const iovec* iov, int count) {
  if (count < 0 || count > IOV_MAX) return EINVAL;
  return count > 0 && iov == nullptr ? EFAULT : 0;
}

ssize_t fake_sendv(int fd, const iovec* iov, int count, int flags) {
  if (const int e = iovec_error(iov, count)) return fail(e);
  const ChannelLock lock;
  unsigned char* gathered = g_gathered;
  std::size_t size = 0;
  for (int i = 0; i < count && size < kMaxPayload; ++i) {
    const std::size_t n = iov[i].iov_len < kMaxPayload - size ? iov[i].iov_len : kMaxPayload - size;
    if (n > 0 && iov[i].iov_base == nullptr) return fail(EFAULT);
    std::memcpy(gathered + size, iov[i].iov_base, n);
    size += n;
  }
  return fake_send(fd, gathered, size, flags);
}

ssize_t fake_recvv(int fd, const iovec* iov, int count, int flags) {
  if (const int e = iovec_error(iov, count)) return fail(e);
  const ChannelLock lock;
  unsigned char* scattered = g_gathered;
  std::size_t room = 0, usable = 0;  // usable: the room before the first iovec with no buffer
  bool faulty = false;
  for (int i = 0; i < count; ++i) {
    if (iov[i].iov_len > 0 && iov[i].iov_base == nullptr) faulty = true;
    room += iov[i].iov_len;
    if (!faulty) usable = room;
  }
  room = room < kMaxPayload ? room : kMaxPayload;
  if (faulty && kind_of(fd) != Kind::eventfd) {
    // A stream socket or pipe copies what it has at once and faults at the missing buffer
    // leaving every byte unread: EFAULT if the bytes there reach it, as far as a peek tells.
    const std::size_t outside = bytes_outside(fd);
    const ssize_t there = outside > 0 ? static_cast<ssize_t>(outside < room ? outside : room)
                                      : fake_recv(fd, scattered, room, flags | MSG_PEEK);
    if (there <= 0) return there;
    if (static_cast<std::size_t>(there) > usable) return fail(EFAULT);
  }
  const ssize_t got = fake_recv(fd, scattered, room, flags);
  if (got <= 0) return got;
  std::size_t done = 0;
  for (int i = 0; i < count && done < static_cast<std::size_t>(got); ++i) {
    const std::size_t n = iov[i].iov_len < got - done ? iov[i].iov_len : got - done;
    if (n > 0 && iov[i].iov_base == nullptr) return fail(EFAULT);
    std::memcpy(iov[i].iov_base, scattered + done, n);
    done += n;
  }
  return got;
}

// Copies an object into the program's buffer of *length bytes, truncated as the kernel does, and
// sets *length to the object's whole size.
template <typename Object>
void copy_out(const Object& object, void* into, socklen_t* length) {
  const socklen_t n = *length < sizeof object ? *length : sizeof object;
  if (n > 0) std::memcpy(into, &object, n);
  *length = sizeof object;
}

// An option's value as getsockopt(2) gives it: truncated to *length, which is set to what was
// written (not the whole size, unlike an address); EFAULT only if something is to be written.
template <typename Object>
int put_option(const Object& object, void* into, socklen_t* length) {
  const socklen_t n = *length < sizeof object ? *length : sizeof object;
  if (n > 0 && into == nullptr) return fail(EFAULT);
  if (n > 0) std::memcpy(into, &object, n);
  *length = n;
  return 0;
}

// An Address as the sockaddr the program's buffer takes (truncated to *length, as the kernel
// does, with *length set to the whole size), or an errno as move_addr_to_user() gives: EFAULT for
// no length, EINVAL for a negative one, EFAULT for no buffer unless the length is 0.
int put_address(int fd, const Address& address, sockaddr* into, socklen_t* length) {
  if (length == nullptr) return EFAULT;
  if (static_cast<int>(*length) < 0) return EINVAL;
  if (into == nullptr && *length > 0) return EFAULT;
  if (kind_of(fd) == Kind::unix_socket) {
    const sa_family_t unnamed = AF_UNIX;  // an unnamed AF_UNIX socket's address is its family
    copy_out(unnamed, into, length);
    return 0;
  }
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(address.address);
  in.sin_port = htons(address.port);
  copy_out(in, into, length);
  return 0;
}

// An IPv4 sockaddr's address and port, or an errno.
int read_address(const sockaddr* at, socklen_t length, Address& out) {
  // move_addr_to_kernel() first: a length beyond sockaddr_storage is EINVAL, and nothing is read
  // (so no EFAULT) for a length of 0, which inet's own check then refuses.
  if (length > sizeof(sockaddr_storage)) return EINVAL;
  if (length > 0 && at == nullptr) return EFAULT;
  if (length < sizeof(sockaddr_in)) return EINVAL;
  if (at->sa_family != AF_INET) return EAFNOSUPPORT;
  sockaddr_in in;
  std::memcpy(&in, at, sizeof in);
  out = Address{ntohl(in.sin_addr.s_addr), ntohs(in.sin_port)};
  return 0;
}

// The virtual clocks; nullopt for the clocks that stay real (CPU time).
bool virtual_clock(clockid_t clock, long long& start) {
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_TAI:
      start = kRealtimeStartNs;
      return true;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME:
      start = g_monotonic_start_ns;
      return true;
    default:
      return false;
  }
}

long long virtual_now() {
  return call(Op::clock_now, -1).result;
}

// A virtual sleep: 0, or -1 with EINTR when a signal came first, *left_ns then saying what
// remained.
int sleep_for(long long ns, long long* left_ns = nullptr) {
  long long left = 0;
  const Answer a =
      call(Op::sleep_until, -1, ns < 0 ? 0 : ns, 1, 0, 0, nullptr, 0, &left, sizeof left);
  if (a.result == 0) return 0;
  if (left_ns != nullptr) *left_ns = left;
  return fail(a.error);
}

long long poll_timeout_ns(int ms) {
  return ms < 0 ? -1 : static_cast<long long>(ms) * 1'000'000LL;
}

// poll over fake and real descriptors. The real ones are looked at once, without waiting: virtual
// time does not wait on the real world (docs/exec.md).
int mixed_poll(pollfd* fds, nfds_t count, long long timeout_ns) {
  REAL(poll);
  // do_sys_poll() refuses more than RLIMIT_NOFILE first (asked only past a count any limit
  // allows, to spare the common poll a system call).
  if (count > 16) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && count > limit.rlim_cur) return fail(EINVAL);
  }
  if (count > 0 && fds == nullptr) return fail(EFAULT);
  nfds_t fake = 0, real = 0;
  for (nfds_t i = 0; i < count; ++i)
    if (fds[i].fd >= 0) (is_fake(fds[i].fd) ? fake : real)++;
  // Nothing to watch at all is a sleep (libevent's poll backend with only timers), in virtual
  // time like any other.
  if (fake == 0 && real > 0) {
    const long long ms = timeout_ns < 0 ? -1 : (timeout_ns + 999'999) / 1'000'000;
    return real_poll(fds, count, ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms));
  }
  if (fake > kMaxPollEntries) return fail(EINVAL);  // more than one channel message holds
  int real_ready = 0;
  if (real > 0) {
    for (nfds_t i = 0; i < count; ++i)
      if (is_fake(fds[i].fd)) fds[i].fd = ~fds[i].fd;  // poll skips negative descriptors
    real_ready = real_poll(fds, count, 0);
    for (nfds_t i = 0; i < count; ++i)
      if (fds[i].fd < 0 && is_fake(~fds[i].fd)) fds[i].fd = ~fds[i].fd;
    if (real_ready < 0) return -1;
  }
  const ChannelLock lock;
  PollEntry* entries = g_entries;
  nfds_t n = 0;
  for (nfds_t i = 0; i < count; ++i)
    if (is_fake(fds[i].fd))
      entries[n++] = PollEntry{fds[i].fd, static_cast<std::uint16_t>(fds[i].events), 0};
  const Answer a = call(Op::poll, -1, real_ready > 0 ? 0 : timeout_ns, 0, 0, 0, entries,
                        n * sizeof(PollEntry), entries, n * sizeof(PollEntry));
  if (a.result < 0) return static_cast<int>(returned(a));
  n = 0;
  for (nfds_t i = 0; i < count; ++i)
    if (is_fake(fds[i].fd))
      fds[i].revents = static_cast<short>(entries[n++].revents);
    else if (fds[i].fd < 0)
      fds[i].revents = 0;  // poll(2): ignored, and its revents zero
  return static_cast<int>(a.result) + real_ready;
}

// A select over fake and real descriptors; *took_ns (when given) is what the call took, in
// virtual time, or in real time when every descriptor was real.
int mixed_select(int nfds, fd_set* r, fd_set* w, fd_set* x, long long timeout_ns,
                 long long* took_ns = nullptr) {
  REAL(pselect);
  if (nfds < 0 || nfds > FD_SETSIZE) return fail(EINVAL);
  SelectSets fake{};
  fd_set real_r, real_w, real_x;
  FD_ZERO(&real_r);
  FD_ZERO(&real_w);
  FD_ZERO(&real_x);
  bool any_real = false, any_fake = false;
  for (int fd = 0; fd < nfds; ++fd) {
    fd_set* sets[3] = {r, w, x};
    fd_set* reals[3] = {&real_r, &real_w, &real_x};
    std::uint64_t* fakes[3] = {fake.read, fake.write, fake.except};
    for (int s = 0; s < 3; ++s) {
      if (sets[s] == nullptr || !FD_ISSET(fd, sets[s])) continue;
      if (is_fake(fd)) {
        fakes[s][fd / 64] |= std::uint64_t{1} << (fd % 64);
        any_fake = true;
      } else {
        FD_SET(fd, reals[s]);
        any_real = true;
      }
    }
  }
  if (any_real && !any_fake) {
    timespec t = timespec_of(timeout_ns < 0 ? 0 : timeout_ns);
    timespec before{}, after{};
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &before);
    const int n = real_pselect(nfds, r, w, x, timeout_ns < 0 ? nullptr : &t, nullptr);
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &after);
    if (took_ns != nullptr) *took_ns = nanoseconds_of(after) - nanoseconds_of(before);
    return n;
  }
  int real_ready = 0;
  if (any_real) {
    const timespec zero{0, 0};
    real_ready = real_pselect(nfds, &real_r, &real_w, &real_x, &zero, nullptr);
    if (real_ready < 0) return -1;
  }
  struct {
    SelectSets sets;
    std::int64_t took_ns;
  } answer{};
  const Answer a = call(Op::select, -1, real_ready > 0 ? 0 : timeout_ns, nfds, 0, 0, &fake,
                        sizeof fake, &answer, sizeof answer);
  if (a.result < 0) return static_cast<int>(returned(a));
  fake = answer.sets;
  if (took_ns != nullptr) *took_ns = answer.took_ns;
  fd_set* sets[3] = {r, w, x};
  fd_set* reals[3] = {&real_r, &real_w, &real_x};
  const std::uint64_t* fakes[3] = {fake.read, fake.write, fake.except};
  for (int s = 0; s < 3; ++s) {
    if (sets[s] == nullptr) continue;
    for (int fd = 0; fd < nfds; ++fd) {
      const bool on = is_fake(fd) ? ((fakes[s][fd / 64] >> (fd % 64)) & 1) != 0
                                  : any_real && FD_ISSET(fd, reals[s]);
      if (on)
        FD_SET(fd, sets[s]);
      else
        FD_CLR(fd, sets[s]);
    }
  }
  return static_cast<int>(a.result) + real_ready;
}

int fake_epoll_wait(int epfd, epoll_event* events, int most, long long timeout_ns) {
  constexpr int kMostEvents = INT_MAX / sizeof(epoll_event);  // Linux's EP_MAX_EVENTS
  if (most <= 0 || most > kMostEvents) return fail(EINVAL);
  const ChannelLock lock;
  EpollEvent* got = g_events;
  const int asked =
      most < static_cast<int>(kMaxEpollEvents) ? most : static_cast<int>(kMaxEpollEvents);
  const Answer a = call(Op::epoll_wait, epfd, timeout_ns, asked, 0, 0, nullptr, 0, got,
                        static_cast<std::size_t>(asked) * sizeof(EpollEvent));
  if (a.result < 0) return static_cast<int>(returned(a));
  // Linux faults only when it has an event to copy. (It puts that event back on the ready list;
  // here an edge-triggered or one-shot event is spent.)
  if (events == nullptr) return a.result > 0 ? fail(EFAULT) : 0;
  for (long long i = 0; i < a.result; ++i) {
    events[i].events = got[i].events;
    events[i].data.u64 = got[i].data;
  }
  return static_cast<int>(a.result);
}

// After an exec the new image learns from the server which inherited descriptors are fake; those
// that close-on-exec closed are closed in the kernel too.
void adopt_descriptors(const FakeDescriptor* fds, std::size_t count) {
  REAL(fcntl);
  for (std::size_t i = 0; i < count; ++i) {
    if (real_fcntl(fds[i].fd, F_GETFD) == -1)
      call(Op::close, fds[i].fd);
    else
      set_kind(fds[i].fd, fds[i].kind);
  }
}

// The channel moves to the highest descriptor the process may have, out of the program's way.
// It is close-on-exec, except across this process's own exec calls (ExecWindow): a child started
// by a path the shim does not follow (posix_spawn, system, popen, vfork) never has it, and runs on
// the real kernel.
__attribute__((constructor)) void connect_to_server() {
  const char* channel = getenv(kChannelVariable);
  if (channel == nullptr) return;
  const int fd = atoi(channel);
  if (syscall(SYS_fcntl, fd, F_GETFD) < 0) {
    static const char message[] =
        "muxlab preload: a process started by posix_spawn, system or popen runs on the real "
        "kernel (docs/exec.md)\n";
    (void)!::write(2, message, sizeof message - 1);
    unsetenv(kChannelVariable);
    return;
  }
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  const long high = limit.rlim_cur > 1 && limit.rlim_cur != RLIM_INFINITY
                        ? static_cast<long>(limit.rlim_cur) - 1
                        : 4095;
  int moved = fd;
  if (fd < high) {
    moved = static_cast<int>(syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, high));
    if (moved < 0)
      moved = fd;
    else
      syscall(SYS_close, fd);
  }
  syscall(SYS_fcntl, moved, F_SETFD, FD_CLOEXEC);
  g_channel = moved;
  g_pid = getpid();
  if (const char* start = getenv(kMonotonicStartVariable); start != nullptr && atoll(start) > 0)
    g_monotonic_start_ns = atoll(start);
  char number[16];
  std::snprintf(number, sizeof number, "%d", moved);
  setenv(kChannelVariable, number, 1);
  static FakeDescriptor inherited[kMaxPayload / sizeof(FakeDescriptor)];
  const Answer a = call(Op::hello, -1, getpid(), 0, 0, 0, nullptr, 0, inherited, sizeof inherited);
  adopt_descriptors(inherited, a.payload / sizeof(FakeDescriptor));
}

// A real copy of fake descriptor fd's placeholder made by dup or F_DUPFD becomes a fake
// descriptor on the same kernel object.
int adopt_copy(int fd, int copy) {
  if (copy < 0) return -1;
  if (copy >= kTracked) {
    drop_placeholder(copy);
    return fail(EMFILE);
  }
  call(Op::dup, fd, copy);
  set_kind(copy, kind_of(fd));
  return copy;
}

}  // namespace

// --- The intercepted calls ----------------------------------------------------------------------

extern "C" {

int socket(int domain, int type, int protocol) {
  REAL(socket);
  if (g_channel < 0 || domain != AF_INET) {
    if (g_channel >= 0 && domain == AF_INET6) return fail(EAFNOSUPPORT);  // docs/exec.md
    return real_socket(domain, type, protocol);
  }
  if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM ||
      (protocol != 0 && protocol != IPPROTO_TCP)) {
    // Not a TCP socket: the real call says what is wrong with it (a bad type, flag or protocol);
    // one it would make (UDP) is not modelled: docs/exec.md.
    const int probe = real_socket(domain, type, protocol);
    if (probe < 0) return -1;
    syscall(SYS_close, probe);
    return fail(EPROTONOSUPPORT);
  }
  const int fd = make_placeholder(Kind::inet_socket, (type & SOCK_CLOEXEC) != 0);
  if (fd < 0) return -1;
  const Answer a = call(Op::socket, fd, (type & SOCK_NONBLOCK) != 0);
  if (a.result < 0) {
    drop_placeholder(fd);
    return static_cast<int>(returned(a));
  }
  set_kind(fd, Kind::inet_socket);
  return fd;
}

int socketpair(int domain, int type, int protocol, int sv[2]) {
  REAL(socketpair);
  REAL(close);
  // Anything but a stream pair (bad flags and protocols too) is the real call's, errors included.
  if (g_channel < 0 || domain != AF_UNIX ||
      (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM ||
      (protocol != 0 && protocol != AF_UNIX))
    return real_socketpair(domain, type, protocol, sv);
  if (sv == nullptr) return fail(EFAULT);
  const bool cloexec = (type & SOCK_CLOEXEC) != 0;
  const int a = make_placeholder(Kind::unix_socket, cloexec);
  if (a < 0) return -1;
  const int b = make_placeholder(Kind::unix_socket, cloexec);
  if (b < 0) {
    real_close(a);
    return -1;
  }
  const Answer r = call(Op::socketpair, a, b, (type & SOCK_NONBLOCK) != 0);
  if (r.result < 0) {
    drop_placeholder(a);
    drop_placeholder(b);
    return static_cast<int>(returned(r));
  }
  set_kind(a, Kind::unix_socket);
  set_kind(b, Kind::unix_socket);
  sv[0] = a;
  sv[1] = b;
  return 0;
}

int pipe2(int ends[2], int flags) {
  REAL(pipe2);
  if (g_channel < 0) return real_pipe2(ends, flags);
  // O_DIRECT (packet mode) is not modelled: docs/exec.md. Linux checks the flags first, and
  // faults only when it copies the two numbers out.
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK)) != 0) return fail(EINVAL);
  if (ends == nullptr) return fail(EFAULT);
  int placeholders[2];
  if (make_pipe_placeholders(placeholders, (flags & O_CLOEXEC) != 0) < 0) return -1;
  const Answer a = call(Op::pipe, placeholders[0], placeholders[1], (flags & O_NONBLOCK) != 0);
  if (a.result < 0) {
    drop_placeholder(placeholders[0]);
    drop_placeholder(placeholders[1]);
    return static_cast<int>(returned(a));
  }
  set_kind(placeholders[0], Kind::pipe_read);
  set_kind(placeholders[1], Kind::pipe_write);
  ends[0] = placeholders[0];
  ends[1] = placeholders[1];
  return 0;
}

int pipe(int ends[2]) {
  return pipe2(ends, 0);
}

int eventfd(unsigned int count, int flags) {
  REAL(eventfd);
  if (g_channel < 0) return real_eventfd(count, flags);
  if ((flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) != 0) return fail(EINVAL);
  const int fd = make_placeholder(Kind::eventfd, (flags & EFD_CLOEXEC) != 0);
  if (fd < 0) return -1;
  const Answer a =
      call(Op::eventfd, fd, count, (flags & EFD_NONBLOCK) != 0, (flags & EFD_SEMAPHORE) != 0);
  if (a.result < 0) {
    drop_placeholder(fd);
    return static_cast<int>(returned(a));
  }
  set_kind(fd, Kind::eventfd);
  return fd;
}

// glibc's own, which call its internal read and write, out of this library's reach.
int eventfd_read(int fd, eventfd_t* value) {
  return read(fd, value, sizeof *value) == sizeof *value ? 0 : -1;
}

int eventfd_write(int fd, eventfd_t value) {
  return write(fd, &value, sizeof value) == sizeof value ? 0 : -1;
}

int bind(int fd, const sockaddr* at, socklen_t length) {
  REAL(bind);
  if (!is_socket(fd)) return real_bind(fd, at, length);
  if (kind_of(fd) == Kind::unix_socket) return fail(EINVAL);
  Address address{};
  if (const int e = read_address(at, length, address)) return fail(e);
  return static_cast<int>(returned(call(Op::bind, fd, address.address, address.port)));
}

int listen(int fd, int backlog) {
  REAL(listen);
  if (!is_socket(fd)) return real_listen(fd, backlog);
  return static_cast<int>(returned(call(Op::listen, fd, backlog)));
}

int accept4(int fd, sockaddr* peer, socklen_t* length, int flags) {
  REAL(accept4);
  if (!is_socket(fd)) return real_accept4(fd, peer, length, flags);
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return fail(EINVAL);
  const int placeholder = make_placeholder(Kind::inet_socket, (flags & SOCK_CLOEXEC) != 0);
  if (placeholder < 0) return -1;
  Address address{};
  const Answer a = call(Op::accept, fd, placeholder, (flags & SOCK_NONBLOCK) != 0, 0, 0, nullptr, 0,
                        &address, sizeof address);
  if (a.result < 0) {
    drop_placeholder(placeholder);
    return static_cast<int>(returned(a));
  }
  set_kind(placeholder, Kind::inet_socket);
  if (peer != nullptr) put_address(placeholder, address, peer, length);
  return placeholder;
}

int accept(int fd, sockaddr* peer, socklen_t* length) {
  REAL(accept);
  if (!is_socket(fd)) return real_accept(fd, peer, length);
  return accept4(fd, peer, length, 0);
}

int connect(int fd, const sockaddr* to, socklen_t length) {
  REAL(connect);
  if (!is_socket(fd)) return real_connect(fd, to, length);
  if (kind_of(fd) == Kind::unix_socket) {
    // A socketpair's end is connected, which unix_stream_connect() says only of an address it
    // takes: an AF_UNIX one with a path (whether the path is there is not modelled).
    if (length > sizeof(sockaddr_storage)) return fail(EINVAL);
    if (length > 0 && to == nullptr) return fail(EFAULT);
    if (length <= offsetof(sockaddr_un, sun_path) || length > sizeof(sockaddr_un) ||
        to->sa_family != AF_UNIX)
      return fail(EINVAL);
    return fail(EISCONN);
  }
  Address address{};
  if (const int e = read_address(to, length, address)) return fail(e);
  return static_cast<int>(returned(call(Op::connect, fd, address.address, address.port)));
}

ssize_t send(int fd, const void* data, size_t size, int flags) {
  REAL(send);
  if (!is_socket(fd)) return real_send(fd, data, size, flags);
  return fake_send(fd, data, size, flags);
}

ssize_t sendto(int fd, const void* data, size_t size, int flags, const sockaddr* to,
               socklen_t len) {
  REAL(sendto);
  if (!is_socket(fd)) return real_sendto(fd, data, size, flags, to, len);
  if (to != nullptr) {
    if (len > sizeof(sockaddr_storage)) return fail(EINVAL);  // move_addr_to_kernel()
    // unix_stream_sendmsg() refuses an address, the pair being connected; TCP ignores it.
    if (kind_of(fd) == Kind::unix_socket && len > 0) return fail(EISCONN);
  }
  return fake_send(fd, data, size, flags);
}

ssize_t sendmsg(int fd, const msghdr* message, int flags) {
  REAL(sendmsg);
  if (!is_socket(fd)) return real_sendmsg(fd, message, flags);
  if (message == nullptr) return fail(EFAULT);
  if (message->msg_iovlen > IOV_MAX) return fail(EMSGSIZE);  // copy_msghdr_from_user()'s limit
  if (message->msg_iovlen > 0 && message->msg_iov == nullptr) return fail(EFAULT);
  if (message->msg_controllen > 0) return fail(EOPNOTSUPP);  // no SCM_RIGHTS: docs/exec.md
  if (kind_of(fd) == Kind::unix_socket && message->msg_name != nullptr && message->msg_namelen > 0)
    return fail(EISCONN);  // as sendto's
  return fake_sendv(fd, message->msg_iov, static_cast<int>(message->msg_iovlen), flags);
}

ssize_t write(int fd, const void* data, size_t size) {
  REAL(write);
  if (!is_stream(fd)) return real_write(fd, data, size);
  return fake_send(fd, data, size, 0);
}

ssize_t writev(int fd, const iovec* iov, int count) {
  REAL(writev);
  if (!is_stream(fd)) return real_writev(fd, iov, count);
  return fake_sendv(fd, iov, count, 0);
}

ssize_t recv(int fd, void* into, size_t size, int flags) {
  REAL(recv);
  if (!is_socket(fd)) return real_recv(fd, into, size, flags);
  return fake_recv(fd, into, size, flags);
}

ssize_t recvfrom(int fd, void* into, size_t size, int flags, sockaddr* from, socklen_t* length) {
  REAL(recvfrom);
  if (!is_socket(fd)) return real_recvfrom(fd, into, size, flags, from, length);
  const ssize_t got = fake_recv(fd, into, size, flags);
  // A stream gives no address: move_addr_to_user() writes a length of 0 where an address was
  // asked for, and faults on no length once the bytes are taken, as Linux's recvfrom does.
  if (got >= 0 && from != nullptr) {
    if (length == nullptr) return fail(EFAULT);
    if (static_cast<int>(*length) < 0) return fail(EINVAL);
    *length = 0;
  }
  return got;
}

ssize_t recvmsg(int fd, msghdr* message, int flags) {
  REAL(recvmsg);
  if (!is_socket(fd)) return real_recvmsg(fd, message, flags);
  if (message == nullptr) return fail(EFAULT);
  if (message->msg_iovlen > IOV_MAX) return fail(EMSGSIZE);  // copy_msghdr_from_user()'s limit
  const ssize_t got =
      fake_recvv(fd, message->msg_iov, static_cast<int>(message->msg_iovlen), flags);
  if (got >= 0) {
    message->msg_namelen = 0;
    message->msg_controllen = 0;
    message->msg_flags = 0;
  }
  return got;
}

ssize_t read(int fd, void* into, size_t size) {
  REAL(read);
  if (!is_stream(fd)) {
    if (kind_of(fd) == Kind::epoll) return fail(EINVAL);
    return real_read(fd, into, size);
  }
  return fake_recv(fd, into, size, 0);
}

ssize_t readv(int fd, const iovec* iov, int count) {
  REAL(readv);
  if (!is_stream(fd)) return real_readv(fd, iov, count);
  return fake_recvv(fd, iov, count, 0);
}

ssize_t __read_chk(int fd, void* into, size_t size, size_t buffer_size) {
  if (size > buffer_size) abort();  // what glibc's __chk_fail does, short of its message
  return read(fd, into, size);
}

ssize_t __recv_chk(int fd, void* into, size_t size, size_t buffer_size, int flags) {
  if (size > buffer_size) abort();
  return recv(fd, into, size, flags);
}

ssize_t __recvfrom_chk(int fd, void* into, size_t size, size_t buffer_size, int flags,
                       sockaddr* from, socklen_t* length) {
  if (size > buffer_size) abort();
  return recvfrom(fd, into, size, flags, from, length);
}

int shutdown(int fd, int how) {
  REAL(shutdown);
  if (!is_socket(fd)) return real_shutdown(fd, how);
  return static_cast<int>(returned(call(Op::shutdown, fd, how)));
}

int close(int fd) {
  REAL(close);
  if (g_channel >= 0 && fd == g_channel) return fail(EBADF);  // not the program's to close
  if (!is_fake(fd)) return real_close(fd);
  if (const std::size_t lost = bytes_outside(fd); lost > 0) {
    char message[160];
    const int n = std::snprintf(message, sizeof message,
                                "muxlab preload: %zu bytes written to pipe fd %d outside the shim "
                                "were never read (docs/exec.md)\n",
                                lost, fd);
    (void)!::write(2, message, static_cast<std::size_t>(n));
  }
  const Answer a = call(Op::close, fd);
  drop_placeholder(fd);
  return static_cast<int>(returned(a));
}

int close_range(unsigned first, unsigned last, int flags) {
  REAL(close_range);
  if (g_channel < 0) return real_close_range(first, last, flags);
  // Refused calls close nothing: the flags are checked before any fake descriptor is closed.
  if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) != 0 || first > last)
    return fail(EINVAL);
  if ((flags & CLOSE_RANGE_CLOEXEC) == 0) {
    const unsigned end = last < static_cast<unsigned>(kTracked) ? last : kTracked - 1;
    for (unsigned fd = first; fd <= end; ++fd)
      if (is_fake(static_cast<int>(fd))) close(static_cast<int>(fd));
  }
  // Around the channel, never over it.
  const auto channel = static_cast<unsigned>(g_channel);
  int result = 0;
  if (first < channel) result = real_close_range(first, last < channel ? last : channel - 1, flags);
  if (result == 0 && last > channel)
    result = real_close_range(first > channel ? first : channel + 1, last, flags);
  return result;
}

void closefrom(int lowest) {
  close_range(static_cast<unsigned>(lowest), ~0u, 0);
}

int dup(int fd) {
  REAL(dup);
  if (!is_fake(fd)) return real_dup(fd);
  return adopt_copy(fd, real_dup(fd));
}

int dup3(int from, int to, int flags) {
  REAL(dup3);
  if (g_channel >= 0 && to == g_channel) return fail(EBADF);
  if (g_channel < 0 || (!is_fake(from) && !is_fake(to))) return real_dup3(from, to, flags);
  // Calls that fail whatever the descriptors are (bad flags, the same one, a negative target)
  // are the real call's, which says which error comes first.
  if ((flags & ~O_CLOEXEC) != 0 || from == to || to < 0) return real_dup3(from, to, flags);
  if (to >= kTracked) return fail(EBADF);
  const Kind was = kind_of(to);
  if (real_dup3(from, to, flags) < 0) return -1;
  if (is_fake(from)) {
    call(Op::dup, from, to);
    set_kind(to, kind_of(from));
  } else if (was != Kind::real) {
    call(Op::close, to);  // the real dup3 replaced the placeholder
    set_kind(to, Kind::real);
  }
  return to;
}

int dup2(int from, int to) {
  REAL(dup2);
  if (g_channel >= 0 && to == g_channel) return fail(EBADF);
  if (from == to) return real_dup2(from, to);
  if (g_channel < 0 || (!is_fake(from) && !is_fake(to))) return real_dup2(from, to);
  return dup3(from, to, 0);
}

int fcntl(int fd, int command, ...) {
  REAL(fcntl);
  va_list list;
  va_start(list, command);
  const long argument = va_arg(list, long);  // what glibc reads too: one word, whatever it is
  va_end(list);
  if (!is_fake(fd)) return real_fcntl(fd, command, argument);
  switch (command) {
    case F_GETFL: {
      const int flags = real_fcntl(fd, F_GETFL);
      if (flags < 0) return -1;
      const bool nonblocking = call(Op::get_nonblocking, fd).result == 1;
      return (flags & ~O_NONBLOCK) | (nonblocking ? O_NONBLOCK : 0);
    }
    case F_SETFL:
      call(Op::set_nonblocking, fd, (argument & O_NONBLOCK) != 0);
      return real_fcntl(fd, F_SETFL, argument & ~O_NONBLOCK);
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      return adopt_copy(fd, real_fcntl(fd, command, argument));
    }
    default:
      return real_fcntl(fd, command, argument);
  }
}

int fcntl64(int fd, int command, ...) {
  va_list list;
  va_start(list, command);
  const long argument = va_arg(list, long);
  va_end(list);
  return fcntl(fd, command, argument);
}

int ioctl(int fd, unsigned long request, ...) {
  REAL(ioctl);
  va_list list;
  va_start(list, request);
  void* argument = va_arg(list, void*);
  va_end(list);
  if (!is_stream(fd)) return real_ioctl(fd, request, argument);
  if (request == FIONBIO) {
    if (argument == nullptr) return fail(EFAULT);
    return static_cast<int>(
        returned(call(Op::set_nonblocking, fd, *static_cast<int*>(argument) != 0)));
  }
  if (request == FIONREAD) {
    const Answer a = call(Op::bytes_readable, fd);  // ENOTTY (an eventfd) comes before EFAULT
    if (a.result < 0) return static_cast<int>(returned(a));
    if (argument == nullptr) return fail(EFAULT);
    *static_cast<int*>(argument) = static_cast<int>(a.result);
    return 0;
  }
  return fail(ENOTTY);
}

namespace {

// Whether Linux refuses an option beyond SOL_SOCKET that the fake kernel would only store: the
// same call on a real socket of the kind says (a socketpair end's placeholder is one; for TCP a
// throwaway AF_INET socket). Only refusals that do not depend on the socket's state count: an
// unknown level or option, and a value setsockopt refuses.
int option_refusal(int fd, int level, int name, const void* value, socklen_t length, bool set) {
  REAL(socket);
  REAL(close);
  REAL(getsockopt);
  REAL(setsockopt);
  const bool own = kind_of(fd) == Kind::unix_socket;
  const int probe = own ? fd : real_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return 0;  // no telling: the option is taken
  unsigned char scratch[256];
  socklen_t scratch_length = sizeof scratch;
  const int result = set ? real_setsockopt(probe, level, name, value, length)
                         : real_getsockopt(probe, level, name, scratch, &scratch_length);
  const int e = result < 0 ? errno : 0;
  if (!own) real_close(probe);
  return e == ENOPROTOOPT || e == EOPNOTSUPP || (set && e == EINVAL) ? e : 0;
}

}  // namespace

// Socket options: the ones the fake kernel models by name, the rest stored as ints.
int getsockopt(int fd, int level, int name, void* value, socklen_t* length) {
  REAL(getsockopt);
  if (!is_socket(fd)) return real_getsockopt(fd, level, name, value, length);
  // sk_getsockopt()'s order: the length is read (EFAULT), must not be negative at SOL_SOCKET
  // (EINVAL), and the value is written only as far as the length says (put_option).
  if (length == nullptr) return fail(EFAULT);
  if (level == SOL_SOCKET && static_cast<int>(*length) < 0) return fail(EINVAL);
  Option option = Option::other;
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_ERROR:
        option = Option::error;
        break;
      case SO_SNDBUF:
        option = Option::send_buffer;
        break;
      case SO_RCVBUF:
        option = Option::receive_buffer;
        break;
      case SO_LINGER:
        option = Option::linger;
        break;
      case SO_RCVTIMEO:
        option = Option::receive_timeout;
        break;
      case SO_SNDTIMEO:
        option = Option::send_timeout;
        break;
      case SO_TYPE:
        option = Option::type;
        break;
      case SO_DOMAIN: {
        const int domain = kind_of(fd) == Kind::unix_socket ? AF_UNIX : AF_INET;
        return put_option(domain, value, length);
      }
      default: {
        // An option Linux does not know is ENOPROTOOPT; the placeholder, a real socket, knows
        // the same SOL_SOCKET options.
        int probe = 0;
        socklen_t probe_length = sizeof probe;
        if (real_getsockopt(fd, level, name, &probe, &probe_length) < 0 && errno == ENOPROTOOPT)
          return -1;
        break;
      }
    }
  }
  if (level != SOL_SOCKET)
    if (const int e = option_refusal(fd, level, name, nullptr, 0, false)) return fail(e);
  const Answer a = call(Op::get_option, fd, static_cast<long long>(option),
                        (static_cast<long long>(level) << 32) | static_cast<unsigned>(name));
  if (a.result < 0 && a.error != 0) return static_cast<int>(returned(a));
  if (option == Option::linger) {
    const linger l{static_cast<int>(a.result & 1), static_cast<int>(a.result >> 1)};
    return put_option(l, value, length);
  }
  if (option == Option::receive_timeout || option == Option::send_timeout) {
    const timeval t{static_cast<time_t>(a.result / 1'000'000'000LL),
                    static_cast<suseconds_t>(a.result % 1'000'000'000LL / 1000)};
    return put_option(t, value, length);
  }
  const int v = static_cast<int>(a.result);
  return put_option(v, value, length);
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t length) {
  REAL(setsockopt);
  if (!is_socket(fd)) return real_setsockopt(fd, level, name, value, length);
  // Linux's order: a length short of an int is EINVAL before the value is read (EFAULT).
  if (length < sizeof(int)) return fail(EINVAL);
  if (value == nullptr) return fail(EFAULT);
  const auto as_int = [&](long long& out) {
    if (length < sizeof(int)) return false;
    int v;
    std::memcpy(&v, value, sizeof v);
    out = v;
    return true;
  };
  long long a1 = 0, a2 = 0;
  int e = 0;
  Option option = Option::other;
  if (level == SOL_SOCKET && (name == SO_LINGER)) {
    if (length < sizeof(linger)) return fail(EINVAL);
    linger l;
    std::memcpy(&l, value, sizeof l);
    option = Option::linger;
    a1 = l.l_onoff;
    a2 = l.l_linger;
  } else if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
    if (length < sizeof(timeval)) return fail(EINVAL);
    timeval t;
    std::memcpy(&t, value, sizeof t);
    if (t.tv_usec < 0 || t.tv_usec >= 1'000'000) return fail(EDOM);  // sock_set_timeout()
    option = name == SO_RCVTIMEO ? Option::receive_timeout : Option::send_timeout;
    a1 = static_cast<long long>(t.tv_sec) * 1'000'000'000LL + t.tv_usec * 1000LL;
  } else {
    if (!as_int(a2)) return fail(EINVAL);
    if (level == SOL_SOCKET && name == SO_SNDBUF)
      option = Option::send_buffer, a1 = a2;
    else if (level == SOL_SOCKET && name == SO_RCVBUF)
      option = Option::receive_buffer, a1 = a2;
    else if (level == SOL_SOCKET && (name == SO_ERROR || name == SO_TYPE))
      return fail(ENOPROTOOPT);
    else if (level == SOL_SOCKET && real_setsockopt(fd, level, name, value, length) < 0 &&
             errno == ENOPROTOOPT)
      return -1;  // an option Linux does not know, as the placeholder (a real socket) tells
    else if (level != SOL_SOCKET && (e = option_refusal(fd, level, name, value, length, true)) != 0)
      return fail(e);
    else
      a1 = (static_cast<long long>(level) << 32) | static_cast<unsigned>(name);
  }
  return static_cast<int>(
      returned(call(Op::set_option, fd, static_cast<long long>(option), a1, a2)));
}

int getsockname(int fd, sockaddr* at, socklen_t* length) {
  REAL(getsockname);
  if (!is_socket(fd)) return real_getsockname(fd, at, length);
  Address address{};  // the socket's errors (ENOTCONN) come before the buffer's
  const Answer a = call(Op::local_address, fd, 0, 0, 0, 0, nullptr, 0, &address, sizeof address);
  if (a.result < 0) return static_cast<int>(returned(a));
  if (const int e = put_address(fd, address, at, length)) return fail(e);
  return 0;
}

int getpeername(int fd, sockaddr* at, socklen_t* length) {
  REAL(getpeername);
  if (!is_socket(fd)) return real_getpeername(fd, at, length);
  Address address{};  // the socket's errors (ENOTCONN) come before the buffer's
  const Answer a = call(Op::peer_address, fd, 0, 0, 0, 0, nullptr, 0, &address, sizeof address);
  if (a.result < 0) return static_cast<int>(returned(a));
  if (const int e = put_address(fd, address, at, length)) return fail(e);
  return 0;
}

// --- Waiting ----------------------------------------------------------------------------------

int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  REAL(poll);
  if (g_channel < 0) return real_poll(fds, count, timeout_ms);
  return mixed_poll(fds, count, poll_timeout_ns(timeout_ms));
}

int __poll_chk(pollfd* fds, nfds_t count, int timeout_ms, size_t fds_length) {
  if (fds_length / sizeof(pollfd) < count) abort();
  return poll(fds, count, timeout_ms);
}

int ppoll(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask) {
  REAL(ppoll);
  if (g_channel < 0) return real_ppoll(fds, count, timeout, mask);
  if (timeout != nullptr &&
      (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1'000'000'000))
    return fail(EINVAL);
  return mixed_poll(fds, count, timeout == nullptr ? -1 : nanoseconds_of(*timeout));
}

int __ppoll_chk(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask,
                size_t fds_length) {
  if (fds_length / sizeof(pollfd) < count) abort();
  return ppoll(fds, count, timeout, mask);
}

int select(int nfds, fd_set* r, fd_set* w, fd_set* x, timeval* timeout) {
  REAL(select);
  if (g_channel < 0) return real_select(nfds, r, w, x, timeout);
  long long ns = -1;
  if (timeout != nullptr) {
    if (timeout->tv_sec < 0 || timeout->tv_usec < 0) return fail(EINVAL);
    ns = static_cast<long long>(timeout->tv_sec) * 1'000'000'000LL + timeout->tv_usec * 1000LL;
  }
  long long took = 0;
  const int n = mixed_select(nfds, r, w, x, ns, &took);
  if (n >= 0 && timeout != nullptr) {  // Linux's select writes back what remains of the timeout
    const long long left = n == 0 || took >= ns ? 0 : ns - took;
    *timeout = timeval{static_cast<time_t>(left / 1'000'000'000LL),
                       static_cast<suseconds_t>(left % 1'000'000'000LL / 1000)};
  }
  return n;
}

int pselect(int nfds, fd_set* r, fd_set* w, fd_set* x, const timespec* timeout,
            const sigset_t* mask) {
  REAL(pselect);
  if (g_channel < 0) return real_pselect(nfds, r, w, x, timeout, mask);
  if (timeout != nullptr &&
      (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1'000'000'000))
    return fail(EINVAL);
  return mixed_select(nfds, r, w, x, timeout == nullptr ? -1 : nanoseconds_of(*timeout));
}

int epoll_create1(int flags) {
  REAL(epoll_create1);
  if (g_channel < 0) return real_epoll_create1(flags);
  if ((flags & ~EPOLL_CLOEXEC) != 0) return fail(EINVAL);
  const int fd = make_placeholder(Kind::epoll, (flags & EPOLL_CLOEXEC) != 0);
  if (fd < 0) return -1;
  const Answer a = call(Op::epoll_create, fd);
  if (a.result < 0) {
    drop_placeholder(fd);
    return static_cast<int>(returned(a));
  }
  set_kind(fd, Kind::epoll);
  return fd;
}

int epoll_create(int size) {
  REAL(epoll_create);
  if (g_channel < 0) return real_epoll_create(size);
  if (size <= 0) return fail(EINVAL);
  return epoll_create1(0);
}

int epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  REAL(epoll_ctl);
  REAL(fcntl);
  if (kind_of(epfd) != Kind::epoll) return real_epoll_ctl(epfd, op, fd, event);
  // Linux reads the event (any op but DEL, bad ones too) before it looks at the descriptors.
  if (op != EPOLL_CTL_DEL && event == nullptr) return fail(EFAULT);
  if (!is_fake(fd)) {
    // A real descriptor in a fake epoll is not modelled: epoll's "does not support epoll".
    return fail(real_fcntl(fd, F_GETFD) == -1 ? EBADF : EPERM);
  }
  // EPOLLEXCLUSIVE: only at ADD, only with these bits, never for an epoll (do_epoll_ctl()).
  constexpr unsigned kExclusiveOk =
      EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
  if (op != EPOLL_CTL_DEL && (event->events & EPOLLEXCLUSIVE) != 0 &&
      (op == EPOLL_CTL_MOD || (op == EPOLL_CTL_ADD && ((event->events & ~kExclusiveOk) != 0 ||
                                                       kind_of(fd) == Kind::epoll))))
    return fail(EINVAL);
  const long long events = event == nullptr ? 0 : event->events;
  const long long data = event == nullptr ? 0 : static_cast<long long>(event->data.u64);
  return static_cast<int>(returned(call(Op::epoll_ctl, epfd, op, fd, events, data)));
}

int epoll_wait(int epfd, epoll_event* events, int most, int timeout_ms) {
  REAL(epoll_wait);
  if (kind_of(epfd) != Kind::epoll) return real_epoll_wait(epfd, events, most, timeout_ms);
  return fake_epoll_wait(epfd, events, most, poll_timeout_ns(timeout_ms));
}

int epoll_pwait(int epfd, epoll_event* events, int most, int timeout_ms, const sigset_t* mask) {
  REAL(epoll_pwait);
  if (kind_of(epfd) != Kind::epoll) return real_epoll_pwait(epfd, events, most, timeout_ms, mask);
  return fake_epoll_wait(epfd, events, most, poll_timeout_ns(timeout_ms));
}

int epoll_pwait2(int epfd, epoll_event* events, int most, const timespec* timeout,
                 const sigset_t* mask) {
  REAL(epoll_pwait2);
  if (kind_of(epfd) != Kind::epoll) return real_epoll_pwait2(epfd, events, most, timeout, mask);
  if (timeout != nullptr &&
      (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1'000'000'000))
    return fail(EINVAL);
  return fake_epoll_wait(epfd, events, most, timeout == nullptr ? -1 : nanoseconds_of(*timeout));
}

// --- Time -------------------------------------------------------------------------------------

int clock_gettime(clockid_t clock, timespec* now) {
  REAL(clock_gettime);
  long long start = 0;
  if (g_channel < 0 || !virtual_clock(clock, start)) return real_clock_gettime(clock, now);
  *now = timespec_of(start + virtual_now());
  return 0;
}

int gettimeofday(timeval* now, void* zone) {
  REAL(gettimeofday);
  if (g_channel < 0) return real_gettimeofday(now, zone);
  // glibc declares `now` non-null, but the vDSO takes NULL (and says 0): so does this.
  if (is_null(now)) return 0;
  const long long ns = kRealtimeStartNs + virtual_now();
  *now = timeval{static_cast<time_t>(ns / 1'000'000'000LL),
                 static_cast<suseconds_t>(ns % 1'000'000'000LL / 1000)};
  return 0;
}

time_t time(time_t* out) {
  REAL(time);
  if (g_channel < 0) return real_time(out);
  const auto seconds = static_cast<time_t>((kRealtimeStartNs + virtual_now()) / 1'000'000'000LL);
  if (out != nullptr) *out = seconds;
  return seconds;
}

int nanosleep(const timespec* request, timespec* remaining) {
  REAL(nanosleep);
  if (g_channel < 0) return real_nanosleep(request, remaining);
  if (request == nullptr) return fail(EFAULT);
  if (request->tv_sec < 0 || request->tv_nsec < 0 || request->tv_nsec >= 1'000'000'000)
    return fail(EINVAL);
  long long left = 0;
  if (sleep_for(nanoseconds_of(*request), &left) == 0) return 0;
  if (remaining != nullptr) *remaining = timespec_of(left);
  return -1;
}

int clock_nanosleep(clockid_t clock, int flags, const timespec* request, timespec* remaining) {
  REAL(clock_nanosleep);
  long long start = 0;
  if (g_channel < 0 || !virtual_clock(clock, start))
    return real_clock_nanosleep(clock, flags, request, remaining);
  if (request == nullptr) return EFAULT;
  if (request->tv_sec < 0 || request->tv_nsec < 0 || request->tv_nsec >= 1'000'000'000)
    return EINVAL;
  if ((flags & TIMER_ABSTIME) != 0) {
    const long long wake = nanoseconds_of(*request) - start;
    return call(Op::sleep_until, -1, wake < 0 ? 0 : wake, 0).result == 0 ? 0 : EINTR;
  }
  long long left = 0;
  if (sleep_for(nanoseconds_of(*request), &left) == 0) return 0;
  if (remaining != nullptr) *remaining = timespec_of(left);
  return EINTR;  // clock_nanosleep returns the error, and leaves errno
}

int usleep(useconds_t microseconds) {
  REAL(usleep);
  if (g_channel < 0) return real_usleep(microseconds);
  return sleep_for(static_cast<long long>(microseconds) * 1000LL);
}

unsigned sleep(unsigned seconds) {
  REAL(sleep);
  if (g_channel < 0) return real_sleep(seconds);
  long long left = 0;
  if (sleep_for(static_cast<long long>(seconds) * 1'000'000'000LL, &left) == 0) return 0;
  return static_cast<unsigned>((left + 999'999'999LL) / 1'000'000'000LL);  // seconds unslept
}

// ITIMER_REAL in virtual time: SIGALRM comes when virtual time reaches it (the kernel server
// interrupts a parked call with EINTR, or raises it with the next reply). ITIMER_VIRTUAL and
// ITIMER_PROF count CPU time, which stays real.
int setitimer(__itimer_which_t which, const itimerval* value, itimerval* old) {
  REAL(setitimer);
  if (g_channel < 0 || which != ITIMER_REAL) return real_setitimer(which, value, old);
  if (value == nullptr) return fail(EFAULT);
  for (const timeval& t : {value->it_value, value->it_interval})
    if (t.tv_sec < 0 || t.tv_usec < 0 || t.tv_usec >= 1'000'000) return fail(EINVAL);
  const auto ns = [](const timeval& t) {
    return static_cast<long long>(t.tv_sec) * 1'000'000'000LL + t.tv_usec * 1000LL;
  };
  AlarmTimer was{};
  call(Op::alarm, -1, ns(value->it_value), ns(value->it_interval), 0, 0, nullptr, 0, &was,
       sizeof was);
  if (old != nullptr) {
    old->it_value = timeval{static_cast<time_t>(was.left_ns / 1'000'000'000LL),
                            static_cast<suseconds_t>(was.left_ns % 1'000'000'000LL / 1000)};
    old->it_interval = timeval{static_cast<time_t>(was.interval_ns / 1'000'000'000LL),
                               static_cast<suseconds_t>(was.interval_ns % 1'000'000'000LL / 1000)};
  }
  return 0;
}

int getitimer(__itimer_which_t which, itimerval* value) {
  REAL(getitimer);
  if (g_channel < 0 || which != ITIMER_REAL) return real_getitimer(which, value);
  if (value == nullptr) return fail(EFAULT);
  AlarmTimer now{};
  call(Op::alarm, -1, 0, 0, 1, 0, nullptr, 0, &now, sizeof now);
  value->it_value = timeval{static_cast<time_t>(now.left_ns / 1'000'000'000LL),
                            static_cast<suseconds_t>(now.left_ns % 1'000'000'000LL / 1000)};
  value->it_interval = timeval{static_cast<time_t>(now.interval_ns / 1'000'000'000LL),
                               static_cast<suseconds_t>(now.interval_ns % 1'000'000'000LL / 1000)};
  return 0;
}

unsigned alarm(unsigned seconds) {
  REAL(alarm);
  if (g_channel < 0) return real_alarm(seconds);
  itimerval value{}, old{};
  value.it_value.tv_sec = static_cast<time_t>(seconds);
  setitimer(ITIMER_REAL, &value, &old);
  // glibc's rounding: to the nearest second, and at least 1 while one was pending.
  unsigned left = static_cast<unsigned>(old.it_value.tv_sec) + (old.it_value.tv_usec >= 500'000);
  return left == 0 && old.it_value.tv_usec > 0 ? 1 : left;
}

// --- Processes --------------------------------------------------------------------------------

// fork is followed: the child gets a channel of its own, handed to the server before the real
// fork, and becomes a process of the kernel's, sharing its parent's open descriptors. The lock
// is held across the fork so that no other thread is mid-call on the line the child inherits;
// the child's copy of it is made anew, since a mutex's owner is a thread of the parent.
pid_t fork() {
  REAL(fork);
  if (g_channel < 0) return real_fork();
  int line[2];
  if (syscall(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, line) < 0) return -1;
  const int buffer = kChannelBuffer;  // room for the largest message (kMaxMessage)
  for (const int end : line) {
    syscall(SYS_setsockopt, end, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    syscall(SYS_setsockopt, end, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  }
  pthread_mutex_lock(&g_lock);
  const Answer a = call_passing(line[0], Op::fork, -1);
  syscall(SYS_close, line[0]);
  if (a.result < 0) {
    pthread_mutex_unlock(&g_lock);
    syscall(SYS_close, line[1]);
    return static_cast<pid_t>(returned(a));
  }
  const pid_t pid = real_fork();
  if (pid != 0) {
    pthread_mutex_unlock(&g_lock);
    syscall(SYS_close, line[1]);  // if the fork failed, the server sees the child's line close
    return pid;
  }
  g_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
  // The child: its own line takes the parent's number, which the program cannot touch.
  syscall(SYS_dup3, line[1], g_channel, O_CLOEXEC);
  syscall(SYS_close, line[1]);
  g_pid = getpid();
  call(Op::hello, -1, g_pid);
  return 0;
}

namespace {

// The process's own exec lets the channel through, close-on-exec otherwise, so that the new image
// says hello on it. Only when the new environment names the channel (else the image could not
// find it), and not in a vfork child, which shares this memory but not the channel's ownership.
class ExecWindow {
 public:
  explicit ExecWindow(char* const* environment) {
    if (g_channel < 0 || getpid() != g_pid || !names_channel(environment)) return;
    open_ = syscall(SYS_fcntl, g_channel, F_SETFD, 0) == 0;
  }
  ~ExecWindow() {  // the exec failed: this image goes on
    if (open_) syscall(SYS_fcntl, g_channel, F_SETFD, FD_CLOEXEC);
  }
  ExecWindow(const ExecWindow&) = delete;
  ExecWindow& operator=(const ExecWindow&) = delete;

 private:
  static bool names_channel(char* const* environment) {
    const std::size_t length = std::strlen(kChannelVariable);
    for (char* const* e = environment; e != nullptr && *e != nullptr; ++e)
      if (std::strncmp(*e, kChannelVariable, length) == 0 && (*e)[length] == '=') return true;
    return false;
  }
  bool open_ = false;
};

// The arguments of execl, execlp and execle up to the null one, in `argv` (at most kMost).
constexpr int kMostExecArguments = 4096;
bool gather_arguments(const char* first, va_list& list, char** argv) {
  int n = 0;
  for (const char* a = first; a != nullptr; a = va_arg(list, const char*)) {
    if (n == kMostExecArguments - 1) return false;
    argv[n++] = const_cast<char*>(a);
  }
  argv[n] = nullptr;
  return true;
}

}  // namespace

int execve(const char* path, char* const argv[], char* const envp[]) {
  REAL(execve);
  const ExecWindow window(envp);
  return real_execve(path, argv, envp);
}

int execv(const char* path, char* const argv[]) {
  REAL(execv);
  const ExecWindow window(environ);
  return real_execv(path, argv);
}

int execvp(const char* file, char* const argv[]) {
  REAL(execvp);
  const ExecWindow window(environ);
  return real_execvp(file, argv);
}

int execvpe(const char* file, char* const argv[], char* const envp[]) {
  REAL(execvpe);
  const ExecWindow window(envp);
  return real_execvpe(file, argv, envp);
}

int fexecve(int fd, char* const argv[], char* const envp[]) {
  REAL(fexecve);
  const ExecWindow window(envp);
  return real_fexecve(fd, argv, envp);
}

int execl(const char* path, const char* arg, ...) {
  char* argv[kMostExecArguments];
  va_list list;
  va_start(list, arg);
  const bool fits = gather_arguments(arg, list, argv);
  va_end(list);
  return fits ? execv(path, argv) : fail(E2BIG);
}

int execlp(const char* file, const char* arg, ...) {
  char* argv[kMostExecArguments];
  va_list list;
  va_start(list, arg);
  const bool fits = gather_arguments(arg, list, argv);
  va_end(list);
  return fits ? execvp(file, argv) : fail(E2BIG);
}

int execle(const char* path, const char* arg, ...) {
  char* argv[kMostExecArguments];
  va_list list;
  va_start(list, arg);
  const bool fits = gather_arguments(arg, list, argv);
  char* const* envp = fits ? va_arg(list, char* const*) : nullptr;
  va_end(list);
  return fits ? execve(path, argv, envp) : fail(E2BIG);
}

// vfork is fork here: POSIX allows it, and a vfork child shares its parent's channel and memory,
// so it could neither speak on the one nor have a line of its own. CPython's subprocess uses it.
pid_t vfork() {
  return fork();
}

// waitpid for a forked child waits in virtual time, until the server has seen it end; then the
// real call reaps it. Other children (posix_spawn, system) are the real call's.
pid_t wait4(pid_t pid, int* status, int options, rusage* usage) {
  REAL(wait4);
  if (g_channel < 0) return real_wait4(pid, status, options, usage);
  const Answer a = call(Op::wait_child, -1, pid, (options & WNOHANG) != 0);
  if (a.result < 0) return real_wait4(pid, status, options, usage);  // no forked child matches
  if (a.result == 0) return 0;                                       // WNOHANG: none ended yet
  return real_wait4(static_cast<pid_t>(a.result), status, options & ~WNOHANG, usage);
}

pid_t waitpid(pid_t pid, int* status, int options) {
  return wait4(pid, status, options, nullptr);
}

pid_t wait(int* status) {
  return wait4(-1, status, 0, nullptr);
}

pid_t wait3(int* status, int options, rusage* usage) {
  return wait4(-1, status, options, usage);
}

int waitid(idtype_t type, id_t id, siginfo_t* info, int options) {
  REAL(waitid);
  if (g_channel < 0 || (type != P_PID && type != P_ALL) || (options & WEXITED) == 0)
    return real_waitid(type, id, info, options);
  const Answer a = call(Op::wait_child, -1, type == P_PID ? static_cast<long long>(id) : -1,
                        (options & WNOHANG) != 0);
  if (a.result < 0) return real_waitid(type, id, info, options);
  if (a.result == 0) {  // WNOHANG: none ended yet, which waitid says with a zero si_pid
    if (info != nullptr) info->si_pid = 0;
    return 0;
  }
  return real_waitid(P_PID, static_cast<id_t>(a.result), info, options & ~WNOHANG);
}

// --- Names: numeric IPv4 and a host table (localhost) -------------------------------------------

namespace {
// Our results carry a mark so that freeaddrinfo tells them from libc's.
struct OwnResult {
  addrinfo info;
  sockaddr_in address;
  char canonical[16];
  unsigned mark;
};
constexpr unsigned kOwnMark = 0x6d75786c;  // "muxl"
}  // namespace

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result) {
  REAL(getaddrinfo);
  if (g_channel < 0) return real_getaddrinfo(node, service, hints, result);
  if (result == nullptr) return EAI_SYSTEM;
  const int family = hints != nullptr ? hints->ai_family : AF_UNSPEC;
  const int flags = hints != nullptr ? hints->ai_flags : 0;
  const int type = hints != nullptr ? hints->ai_socktype : 0;
  if (family != AF_UNSPEC && family != AF_INET)
    return family == AF_INET6 ? EAI_ADDRFAMILY : EAI_FAMILY;
  if (type != 0 && type != SOCK_STREAM) return EAI_SOCKTYPE;
  if (node == nullptr && service == nullptr) return EAI_NONAME;
  in_addr address{};
  if (node == nullptr) {
    address.s_addr = htonl((flags & AI_PASSIVE) != 0 ? INADDR_ANY : INADDR_LOOPBACK);
  } else if (inet_pton(AF_INET, node, &address) != 1) {
    if ((flags & AI_NUMERICHOST) != 0 || strcasecmp(node, "localhost") != 0) return EAI_NONAME;
    address.s_addr = htonl(INADDR_LOOPBACK);
  }
  unsigned long port = 0;
  if (service != nullptr && *service != '\0') {
    char* end = nullptr;
    port = std::strtoul(service, &end, 10);
    if (*end != '\0') {
      if ((flags & AI_NUMERICSERV) != 0) return EAI_NONAME;
      const servent* known = getservbyname(service, "tcp");
      if (known == nullptr) return EAI_SERVICE;
      port = ntohs(static_cast<uint16_t>(known->s_port));
    }
    if (port > 65535) return EAI_SERVICE;
  }
  auto* own = static_cast<OwnResult*>(calloc(1, sizeof(OwnResult)));
  if (own == nullptr) return EAI_MEMORY;
  own->mark = kOwnMark;
  own->address.sin_family = AF_INET;
  own->address.sin_addr = address;
  own->address.sin_port = htons(static_cast<uint16_t>(port));
  own->info.ai_family = AF_INET;
  own->info.ai_socktype = SOCK_STREAM;
  own->info.ai_protocol = IPPROTO_TCP;
  own->info.ai_addrlen = sizeof(sockaddr_in);
  own->info.ai_addr = reinterpret_cast<sockaddr*>(&own->address);
  if ((flags & AI_CANONNAME) != 0) {
    std::snprintf(own->canonical, sizeof own->canonical, "%s",
                  node != nullptr ? node : "localhost");
    own->info.ai_canonname = own->canonical;
  }
  *result = &own->info;
  return 0;
}

void freeaddrinfo(addrinfo* result) {
  REAL(freeaddrinfo);
  if (result == nullptr) return;
  auto* own = reinterpret_cast<OwnResult*>(result);  // info is its first member
  if (result->ai_next == nullptr && result->ai_addr == reinterpret_cast<sockaddr*>(&own->address) &&
      own->mark == kOwnMark) {
    free(own);
    return;
  }
  real_freeaddrinfo(result);
}

int getnameinfo(const sockaddr* at, socklen_t length, char* host, socklen_t host_length,
                char* service, socklen_t service_length, int flags) {
  REAL(getnameinfo);
  if (g_channel < 0)
    return real_getnameinfo(at, length, host, host_length, service, service_length, flags);
  Address address{};
  if (read_address(at, length, address) != 0) return EAI_FAMILY;
  if (host != nullptr && host_length > 0) {
    const bool loopback = address.address == INADDR_LOOPBACK && (flags & NI_NUMERICHOST) == 0;
    in_addr a{htonl(address.address)};
    char numeric[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, numeric, sizeof numeric);
    if (!loopback && (flags & NI_NAMEREQD) != 0) return EAI_NONAME;
    if (std::snprintf(host, host_length, "%s", loopback ? "localhost" : numeric) >=
        static_cast<int>(host_length))
      return EAI_OVERFLOW;
  }
  if (service != nullptr && service_length > 0 &&
      std::snprintf(service, service_length, "%u", address.port) >=
          static_cast<int>(service_length))
    return EAI_OVERFLOW;
  return 0;
}

}  // extern "C"
