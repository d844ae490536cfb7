/* Bad calls, one line each: the call, the case, what it returned and errno's name. Run on the
 * real kernel and under `muxlab exec` (tests/exec/CMakeLists.txt), the two outputs must be the
 * same: the shim and the fake kernel fail as Linux does. Nothing here waits or depends on time,
 * and nothing printed is chosen by the kernel (no ports, no addresses); descriptor numbers are
 * never printed.
 *
 *     ./bad_inputs
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int cases;

/* Bad arguments the compiler cannot see through, so that it lets them be passed. */
static void* volatile nil;
static volatile int minus_one = -1;
static volatile int iov_max_plus_one = 1025;
static volatile int int_max = 0x7fffffff;
#define NIL ((void*)nil)

static const char* name_of(int e) {
  switch (e) {
#define NAME(e) \
  case e:       \
    return #e
    NAME(EBADF);
    NAME(EFAULT);
    NAME(EINVAL);
    NAME(ENOTSOCK);
    NAME(EAFNOSUPPORT);
    NAME(EPROTONOSUPPORT);
    NAME(ESOCKTNOSUPPORT);
    NAME(EOPNOTSUPP);
    NAME(ENOTCONN);
    NAME(EISCONN);
    NAME(EAGAIN);
    NAME(EPIPE);
    NAME(EEXIST);
    NAME(ENOENT);
    NAME(EPERM);
    NAME(ENOPROTOOPT);
    NAME(ENOTTY);
    NAME(EMSGSIZE);
    NAME(EDOM);
    NAME(EDESTADDRREQ);
    NAME(EMFILE);
    NAME(ENOSYS);
    NAME(EINPROGRESS);
    NAME(EALREADY);
    NAME(ECONNREFUSED);
    NAME(EADDRINUSE);
    NAME(EADDRNOTAVAIL);
    NAME(ESPIPE);
    NAME(ELOOP);
#undef NAME
    default: {
      static char other[16];
      snprintf(other, sizeof other, "errno %d", e);
      return other;
    }
  }
}

static void report(const char* call, const char* what, long result, int error) {
  ++cases;
  if (result == -1)
    printf("%s(%s): -1 %s\n", call, what, name_of(error));
  else
    printf("%s(%s): %ld\n", call, what, result);
  fflush(stdout);
}

/* A call returning -1 and errno. */
#define CHECK(call, what, expr)         \
  do {                                  \
    errno = 0;                          \
    const long result_ = (long)(expr);  \
    report(call, what, result_, errno); \
  } while (0)

/* A call returning a new descriptor: its number is not printed, and it is closed again. */
#define CHECK_FD(call, what, expr)                     \
  do {                                                 \
    errno = 0;                                         \
    const long result_ = (long)(expr);                 \
    const int error_ = errno;                          \
    report(call, what, result_ >= 0 ? 0 : -1, error_); \
    if (result_ >= 0) close((int)result_);             \
  } while (0)

/* A call returning an error number (clock_nanosleep). */
static void report_returned(const char* call, const char* what, int e) {
  ++cases;
  printf("%s(%s): %s\n", call, what, e == 0 ? "0" : name_of(e));
}

static struct sockaddr_in loopback(void) {
  struct sockaddr_in in;
  memset(&in, 0, sizeof in);
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return in;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  /* A number that is not open: high, and checked. */
  const int closed = 500;
  if (fcntl(closed, F_GETFD) != -1) {
    fprintf(stderr, "bad_inputs: fd %d is open\n", closed);
    return 1;
  }
  char buffer[64] = "0123456789";
  int ends[2];

  /* The fixtures: an unconnected TCP socket, a listening one, a connected pair with bytes
   * waiting in one direction, a pipe, an eventfd, an epoll instance and /dev/null. */
  const int tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in any = loopback();
  int pair[2], pipe_ends[2];
  if (tcp < 0 || listener < 0 || bind(listener, (struct sockaddr*)&any, sizeof any) != 0 ||
      listen(listener, 4) != 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair) != 0 ||
      pipe2(pipe_ends, O_NONBLOCK) != 0) {
    perror("bad_inputs: fixtures");
    return 1;
  }
  const int efd = eventfd(0, EFD_NONBLOCK);
  const int ep = epoll_create1(0);
  const int devnull = open("/dev/null", O_RDWR);
  if (efd < 0 || ep < 0 || devnull < 0 || send(pair[1], "hello", 5, 0) != 5) {
    perror("bad_inputs: fixtures");
    return 1;
  }
  struct sockaddr_in in = loopback();
  socklen_t length = sizeof in;

  /* socket, socketpair */
  CHECK_FD("socket", "bad domain", socket(9999, SOCK_STREAM, 0));
  CHECK_FD("socket", "AF_INET, type 15", socket(AF_INET, 15, 0));
  CHECK_FD("socket", "AF_INET, bad type flags", socket(AF_INET, SOCK_STREAM | 0x40000000, 0));
  CHECK_FD("socket", "AF_INET stream, IPPROTO_UDP", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
  CHECK_FD("socket", "AF_INET stream, IPPROTO_TCP", socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
  CHECK("socketpair", "NULL sv", socketpair(AF_UNIX, SOCK_STREAM, 0, NULL));
  CHECK("socketpair", "AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, ends));
  CHECK("socketpair", "bad type flags", socketpair(AF_UNIX, SOCK_STREAM | 0x40000000, 0, ends));
  CHECK("socketpair", "protocol 5", socketpair(AF_UNIX, SOCK_STREAM, 5, ends));

  /* bind, connect */
  CHECK("bind", "NULL addr", bind(tcp, NULL, sizeof in));
  CHECK("bind", "NULL addr, addrlen 0", bind(tcp, NULL, 0));
  CHECK("bind", "short addrlen", bind(tcp, (struct sockaddr*)&in, 8));
  CHECK("bind", "addrlen over sockaddr_storage",
        bind(tcp, (struct sockaddr*)&in, sizeof(struct sockaddr_storage) + 1));
  in.sin_family = AF_INET6;
  CHECK("bind", "AF_INET6 address", bind(tcp, (struct sockaddr*)&in, sizeof in));
  in.sin_family = AF_INET;
  CHECK("bind", "closed fd", bind(closed, (struct sockaddr*)&in, sizeof in));
  CHECK("bind", "a pipe", bind(pipe_ends[0], (struct sockaddr*)&in, sizeof in));
  CHECK("bind", "/dev/null", bind(devnull, (struct sockaddr*)&in, sizeof in));
  CHECK("connect", "NULL addr", connect(tcp, NULL, sizeof in));
  CHECK("connect", "NULL addr, addrlen 0", connect(tcp, NULL, 0));
  CHECK("connect", "short addrlen", connect(tcp, (struct sockaddr*)&in, 8));
  CHECK("connect", "addrlen over sockaddr_storage",
        connect(tcp, (struct sockaddr*)&in, sizeof(struct sockaddr_storage) + 1));
  in.sin_family = AF_INET6;
  CHECK("connect", "AF_INET6 address", connect(tcp, (struct sockaddr*)&in, sizeof in));
  in.sin_family = AF_INET;
  CHECK("connect", "closed fd", connect(closed, (struct sockaddr*)&in, sizeof in));
  CHECK("connect", "a pipe", connect(pipe_ends[1], (struct sockaddr*)&in, sizeof in));
  CHECK("connect", "/dev/null", connect(devnull, (struct sockaddr*)&in, sizeof in));
  CHECK("connect", "a listening socket", connect(listener, (struct sockaddr*)&in, sizeof in));

  /* listen, accept, accept4 */
  CHECK("listen", "closed fd", listen(closed, 1));
  CHECK("listen", "a pipe", listen(pipe_ends[0], 1));
  CHECK("listen", "a connected pair", listen(pair[0], 1));
  CHECK_FD("accept", "closed fd", accept(closed, NULL, NULL));
  CHECK_FD("accept", "a pipe", accept(pipe_ends[0], NULL, NULL));
  CHECK_FD("accept", "not listening", accept(tcp, NULL, NULL));
  CHECK_FD("accept", "a connected pair", accept(pair[0], NULL, NULL));
  CHECK_FD("accept", "nothing waiting", accept(listener, NULL, NULL));
  CHECK_FD("accept4", "bad flags", accept4(listener, NULL, NULL, 0x40000000));
  CHECK_FD("accept4", "bad flags, closed fd", accept4(closed, NULL, NULL, 0x40000000));
  CHECK_FD("accept4", "not listening", accept4(tcp, NULL, NULL, SOCK_CLOEXEC));

  /* send, recv and the rest of the byte calls */
  CHECK("send", "closed fd", send(closed, buffer, 1, 0));
  CHECK("send", "a pipe", send(pipe_ends[1], buffer, 1, 0));
  CHECK("send", "unconnected", send(tcp, buffer, 1, MSG_NOSIGNAL));
  CHECK("send", "NULL buffer", send(pair[0], NULL, 4, 0));
  CHECK("send", "NULL buffer, length 0", send(pair[0], NULL, 0, 0));
  CHECK("recv", "closed fd", recv(closed, buffer, sizeof buffer, 0));
  CHECK("recv", "/dev/null", recv(devnull, buffer, sizeof buffer, 0));
  CHECK("recv", "unconnected", recv(tcp, buffer, sizeof buffer, 0));
  CHECK("recv", "listening", recv(listener, buffer, sizeof buffer, 0));
  CHECK("recv", "NULL buffer, nothing waiting", recv(pair[1], NULL, 4, 0));
  CHECK("recv", "NULL buffer, bytes waiting", recv(pair[0], NULL, 4, 0));
  CHECK("recv", "the bytes are still there", recv(pair[0], buffer, 2, MSG_PEEK));
  CHECK("sendto", "closed fd", sendto(closed, buffer, 1, 0, NULL, 0));
  CHECK("sendto", "NULL buffer", sendto(pair[0], NULL, 4, 0, NULL, 0));
  CHECK("recvfrom", "closed fd", recvfrom(closed, buffer, 1, 0, NULL, NULL));
  CHECK("recvfrom", "NULL buffer, bytes waiting", recvfrom(pair[0], NULL, 4, 0, NULL, NULL));
  {
    struct iovec iov = {buffer, 4};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    CHECK("sendmsg", "closed fd", sendmsg(closed, &m, 0));
    CHECK("sendmsg", "NULL msghdr", sendmsg(pair[0], NULL, 0));
    CHECK("recvmsg", "closed fd", recvmsg(closed, &m, 0));
    CHECK("recvmsg", "NULL msghdr", recvmsg(pair[0], NULL, 0));
    m.msg_iov = NULL;
    CHECK("sendmsg", "NULL msg_iov", sendmsg(pair[0], &m, 0));
    CHECK("recvmsg", "NULL msg_iov", recvmsg(pair[0], &m, 0));
    m.msg_iov = &iov;
    m.msg_iovlen = 1025;
    CHECK("sendmsg", "msg_iovlen 1025", sendmsg(pair[0], &m, 0));
    CHECK("recvmsg", "msg_iovlen 1025", recvmsg(pair[0], &m, 0));
    m.msg_iovlen = 1;
    iov.iov_base = NULL;
    CHECK("sendmsg", "NULL iov_base", sendmsg(pair[0], &m, 0));
    CHECK("recvmsg", "NULL iov_base, bytes waiting", recvmsg(pair[0], &m, 0));
  }
  CHECK("write", "closed fd", write(closed, buffer, 1));
  CHECK("write", "NULL buffer, a pair", write(pair[0], NIL, 4));
  CHECK("write", "NULL buffer, a pipe", write(pipe_ends[1], NIL, 4));
  CHECK("write", "the read end of a pipe", write(pipe_ends[0], buffer, 1));
  CHECK("write", "an epoll", write(ep, buffer, 1));
  CHECK("read", "closed fd", read(closed, buffer, 1));
  CHECK("read", "NULL buffer, a pair with bytes", read(pair[0], NIL, 4));
  CHECK("read", "NULL buffer, an empty pipe", read(pipe_ends[0], NIL, 4));
  CHECK("read", "the write end of a pipe", read(pipe_ends[1], buffer, 1));
  CHECK("read", "an epoll", read(ep, buffer, sizeof buffer));
  CHECK("read", "an empty pipe", read(pipe_ends[0], buffer, sizeof buffer));
  {
    struct iovec iov[2] = {{buffer, 2}, {NULL, 4}};
    CHECK("writev", "closed fd", writev(closed, iov, 1));
    CHECK("writev", "negative iovcnt", writev(pair[0], iov, minus_one));
    CHECK("writev", "iovcnt 1025", writev(pair[0], iov, iov_max_plus_one));
    CHECK("writev", "NULL iov", writev(pair[0], NIL, 1));
    CHECK("writev", "NULL iov_base", writev(pair[0], iov + 1, 1));
    CHECK("readv", "closed fd", readv(closed, iov, 1));
    CHECK("readv", "negative iovcnt", readv(pair[0], iov, minus_one));
    CHECK("readv", "iovcnt 1025", readv(pair[0], iov, iov_max_plus_one));
    CHECK("readv", "NULL iov", readv(pair[0], NIL, 1));
    CHECK("readv", "NULL iov_base, bytes waiting", readv(pair[0], iov + 1, 1));
    CHECK("readv", "NULL iov_base, an empty pipe", readv(pipe_ends[0], iov + 1, 1));
    CHECK("readv", "NULL second iov_base", readv(pair[0], iov, 2));
    CHECK("readv", "what is left", read(pair[0], buffer, sizeof buffer));
  }

  /* shutdown, close */
  CHECK("shutdown", "bad how", shutdown(pair[0], 7));
  CHECK("shutdown", "negative how", shutdown(pair[0], -1));
  CHECK("shutdown", "closed fd", shutdown(closed, SHUT_RDWR));
  CHECK("shutdown", "a pipe", shutdown(pipe_ends[0], SHUT_RDWR));
  CHECK("shutdown", "unconnected", shutdown(tcp, SHUT_RDWR));
  CHECK("close", "closed fd", close(closed));
  CHECK("close", "negative fd", close(-1));
  {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("close", "a socket", close(s));
    CHECK("close", "the same socket again", close(s));
    CHECK("send", "after close", send(s, buffer, 1, 0));
    CHECK("recv", "after close", recv(s, buffer, 1, 0));
    CHECK("listen", "after close", listen(s, 1));
    CHECK("getsockname", "after close", getsockname(s, (struct sockaddr*)&in, &length));
    CHECK("fcntl", "F_GETFL after close", fcntl(s, F_GETFL));
  }
  {
    const int e = eventfd(0, 0);
    CHECK("close", "an eventfd", close(e));
    CHECK("close", "the same eventfd again", close(e));
    CHECK("read", "an eventfd after close", read(e, buffer, 8));
  }

  /* getsockopt, setsockopt */
  {
    int value = 0;
    socklen_t size = sizeof value;
    CHECK("getsockopt", "NULL value", getsockopt(tcp, SOL_SOCKET, SO_TYPE, NULL, &size));
    CHECK("getsockopt", "NULL optlen", getsockopt(tcp, SOL_SOCKET, SO_TYPE, &value, NULL));
    size = 0;
    CHECK("getsockopt", "NULL value, optlen 0", getsockopt(tcp, SOL_SOCKET, SO_TYPE, NULL, &size));
    printf("  optlen %u\n", (unsigned)size);
    size = 2;
    value = 0;
    CHECK("getsockopt", "SO_TYPE, optlen 2", getsockopt(tcp, SOL_SOCKET, SO_TYPE, &value, &size));
    printf("  optlen %u\n", (unsigned)size);
    size = (socklen_t)-1;
    CHECK("getsockopt", "optlen -1", getsockopt(tcp, SOL_SOCKET, SO_TYPE, &value, &size));
    size = sizeof value;
    CHECK("getsockopt", "unknown option", getsockopt(tcp, SOL_SOCKET, 9999, &value, &size));
    CHECK("getsockopt", "closed fd", getsockopt(closed, SOL_SOCKET, SO_TYPE, &value, &size));
    CHECK("getsockopt", "a pipe", getsockopt(pipe_ends[0], SOL_SOCKET, SO_TYPE, &value, &size));
    value = 1;
    CHECK("setsockopt", "NULL value",
          setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof value));
    CHECK("setsockopt", "NULL value, optlen 0", setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, NULL, 0));
    CHECK("setsockopt", "short optlen", setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &value, 2));
    CHECK("setsockopt", "unknown option", setsockopt(tcp, SOL_SOCKET, 9999, &value, sizeof value));
    CHECK("setsockopt", "SO_LINGER, optlen 4",
          setsockopt(tcp, SOL_SOCKET, SO_LINGER, &value, sizeof value));
    struct timeval tv = {1, 2000000};
    CHECK("setsockopt", "SO_RCVTIMEO, tv_usec 2000000",
          setsockopt(tcp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    CHECK("setsockopt", "SO_RCVTIMEO, optlen 4", setsockopt(tcp, SOL_SOCKET, SO_RCVTIMEO, &tv, 4));
    CHECK("getsockopt", "IPPROTO_TCP, unknown option",
          getsockopt(tcp, IPPROTO_TCP, 9999, &value, &size));
    CHECK("setsockopt", "IPPROTO_TCP, unknown option",
          setsockopt(tcp, IPPROTO_TCP, 9999, &value, sizeof value));
    CHECK("getsockopt", "unknown level", getsockopt(tcp, 9999, 1, &value, &size));
    CHECK("setsockopt", "unknown level", setsockopt(tcp, 9999, 1, &value, sizeof value));
    CHECK("getsockopt", "a pair, TCP_NODELAY",
          getsockopt(pair[0], IPPROTO_TCP, TCP_NODELAY, &value, &size));
    CHECK("setsockopt", "a pair, TCP_NODELAY",
          setsockopt(pair[0], IPPROTO_TCP, TCP_NODELAY, &value, sizeof value));
    CHECK("setsockopt", "TCP_NODELAY",
          setsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &value, sizeof value));
    size = sizeof value;
    CHECK("getsockopt", "TCP_NODELAY", getsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &value, &size));
    printf("  value %d\n", value);
    value = 0;
    CHECK("setsockopt", "TCP_KEEPIDLE 0",
          setsockopt(tcp, IPPROTO_TCP, TCP_KEEPIDLE, &value, sizeof value));
    CHECK("setsockopt", "closed fd",
          setsockopt(closed, SOL_SOCKET, SO_REUSEADDR, &value, sizeof value));
  }

  /* getsockname, getpeername */
  {
    struct sockaddr_in got;
    memset(&got, 0xff, sizeof got);
    socklen_t size = sizeof got;
    CHECK("getsockname", "NULL addr", getsockname(tcp, NULL, &size));
    CHECK("getsockname", "NULL addrlen", getsockname(tcp, (struct sockaddr*)&got, NULL));
    size = 0;
    CHECK("getsockname", "NULL addr, addrlen 0", getsockname(tcp, NULL, &size));
    printf("  addrlen %u\n", (unsigned)size);
    size = sizeof got;
    CHECK("getsockname", "unbound", getsockname(tcp, (struct sockaddr*)&got, &size));
    printf("  addrlen %u family %d address %08x port %d\n", (unsigned)size, got.sin_family,
           ntohl(got.sin_addr.s_addr), ntohs(got.sin_port));
    CHECK("getsockname", "closed fd", getsockname(closed, (struct sockaddr*)&got, &size));
    CHECK("getsockname", "a pipe", getsockname(pipe_ends[0], (struct sockaddr*)&got, &size));
    CHECK("getpeername", "NULL addr", getpeername(tcp, NULL, &size));
    CHECK("getpeername", "unconnected", getpeername(tcp, (struct sockaddr*)&got, &size));
    CHECK("getpeername", "listening", getpeername(listener, (struct sockaddr*)&got, &size));
    CHECK("getpeername", "closed fd", getpeername(closed, (struct sockaddr*)&got, &size));
    CHECK("getpeername", "a pipe", getpeername(pipe_ends[0], (struct sockaddr*)&got, &size));
  }

  /* fcntl, ioctl */
  CHECK_FD("fcntl", "F_DUPFD -1", fcntl(tcp, F_DUPFD, -1));
  CHECK_FD("fcntl", "F_DUPFD over RLIMIT_NOFILE", fcntl(tcp, F_DUPFD, 1 << 30));
  CHECK_FD("fcntl", "F_DUPFD_CLOEXEC -1", fcntl(pipe_ends[0], F_DUPFD_CLOEXEC, -1));
  CHECK_FD("fcntl", "F_DUPFD closed fd", fcntl(closed, F_DUPFD, 0));
  CHECK("fcntl", "unknown command", fcntl(tcp, 9999));
  CHECK("fcntl", "F_GETFL closed fd", fcntl(closed, F_GETFL));
  CHECK("ioctl", "FIONREAD NULL, a pair", ioctl(pair[0], FIONREAD, NULL));
  CHECK("ioctl", "FIONREAD NULL, a pipe", ioctl(pipe_ends[0], FIONREAD, NULL));
  CHECK("ioctl", "FIONREAD NULL, an eventfd", ioctl(efd, FIONREAD, NULL));
  CHECK("ioctl", "FIONBIO NULL", ioctl(pair[0], FIONBIO, NULL));
  {
    int n = 0;
    CHECK("ioctl", "FIONREAD, listening", ioctl(listener, FIONREAD, &n));
    CHECK("ioctl", "FIONREAD, closed fd", ioctl(closed, FIONREAD, &n));
    CHECK("ioctl", "unknown request, a pair", ioctl(pair[0], 0x7fff, &n));
    CHECK("ioctl", "unknown request, an eventfd", ioctl(efd, 0x7fff, &n));
  }

  /* dup, dup2, dup3 */
  CHECK_FD("dup", "closed fd", dup(closed));
  CHECK_FD("dup", "negative fd", dup(-1));
  CHECK("dup2", "closed fd", dup2(closed, closed + 1));
  CHECK("dup2", "negative target", dup2(tcp, -1));
  CHECK("dup2", "target over RLIMIT_NOFILE", dup2(tcp, 1 << 30));
  CHECK("dup2", "onto itself", dup2(tcp, tcp) == tcp);
  CHECK("dup2", "closed fd onto itself", dup2(closed, closed));
  CHECK("dup3", "onto itself", dup3(tcp, tcp, 0));
  CHECK("dup3", "bad flags", dup3(tcp, closed, 0x40000000));
  CHECK("dup3", "negative target, bad flags", dup3(tcp, -1, 0x40000000));
  CHECK("dup3", "negative target", dup3(tcp, -1, 0));
  CHECK("dup3", "closed fd", dup3(closed, closed + 1, 0));

  /* poll, ppoll, select */
  {
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    struct pollfd p = {closed, POLLIN, 0};
    CHECK("poll", "NULL fds", poll(NIL, 1, 0));
    CHECK("poll", "NULL fds, nfds 0", poll(NULL, 0, 0));
    CHECK("poll", "nfds over RLIMIT_NOFILE", poll(NIL, limit.rlim_cur + 1, 0));
    CHECK("poll", "closed fd", poll(&p, 1, 0));
    printf("  revents %#x\n", p.revents);
    struct timespec bad = {0, 1000000000};
    const struct timespec zero_ts = {0, 0};
    CHECK("ppoll", "NULL fds", ppoll(NIL, 1, &zero_ts, NULL));
    CHECK("ppoll", "tv_nsec 1000000000", ppoll(&p, 1, &bad, NULL));
    bad.tv_nsec = -1;
    CHECK("ppoll", "tv_nsec -1", ppoll(&p, 1, &bad, NULL));
    bad.tv_sec = -1;
    bad.tv_nsec = 0;
    CHECK("ppoll", "tv_sec -1", ppoll(&p, 1, &bad, NULL));
    fd_set r;
    FD_ZERO(&r);
    struct timeval zero = {0, 0};
    CHECK("select", "nfds -1", select(-1, NULL, NULL, NULL, &zero));
    struct timeval tv = {0, -1};
    CHECK("select", "tv_usec -1", select(0, NULL, NULL, NULL, &tv));
    tv.tv_sec = -1;
    tv.tv_usec = 0;
    CHECK("select", "tv_sec -1", select(0, NULL, NULL, NULL, &tv));
    FD_SET(closed, &r);
    CHECK("select", "closed fd", select(closed + 1, &r, NULL, NULL, &zero));
    FD_ZERO(&r);
    FD_SET(pair[1], &r);
    CHECK("select", "nothing to read", select(pair[1] + 1, &r, NULL, NULL, &zero));
  }

  /* epoll */
  {
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = EPOLLIN;
    CHECK_FD("epoll_create", "0", epoll_create(0));
    CHECK_FD("epoll_create", "-1", epoll_create(-1));
    CHECK_FD("epoll_create1", "bad flags", epoll_create1(0x40000000));
    CHECK("epoll_ctl", "bad op", epoll_ctl(ep, 99, pair[0], &e));
    CHECK("epoll_ctl", "bad op, NULL event", epoll_ctl(ep, 99, pair[0], NULL));
    CHECK("epoll_ctl", "add itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e));
    CHECK("epoll_ctl", "add, NULL event", epoll_ctl(ep, EPOLL_CTL_ADD, pair[0], NULL));
    CHECK("epoll_ctl", "add closed fd, NULL event", epoll_ctl(ep, EPOLL_CTL_ADD, closed, NULL));
    CHECK("epoll_ctl", "mod, NULL event", epoll_ctl(ep, EPOLL_CTL_MOD, pair[0], NULL));
    CHECK("epoll_ctl", "mod, not in the set", epoll_ctl(ep, EPOLL_CTL_MOD, pair[0], &e));
    CHECK("epoll_ctl", "del, not in the set", epoll_ctl(ep, EPOLL_CTL_DEL, pair[0], NULL));
    CHECK("epoll_ctl", "add closed fd", epoll_ctl(ep, EPOLL_CTL_ADD, closed, &e));
    CHECK("epoll_ctl", "add /dev/null", epoll_ctl(ep, EPOLL_CTL_ADD, devnull, &e));
    CHECK("epoll_ctl", "epfd closed", epoll_ctl(closed, EPOLL_CTL_ADD, pair[0], &e));
    CHECK("epoll_ctl", "epfd a socket", epoll_ctl(pair[1], EPOLL_CTL_ADD, pair[0], &e));
    CHECK("epoll_ctl", "epfd a pipe", epoll_ctl(pipe_ends[0], EPOLL_CTL_ADD, pair[0], &e));
    e.events = EPOLLIN | EPOLLEXCLUSIVE;
    CHECK("epoll_ctl", "mod with EPOLLEXCLUSIVE", epoll_ctl(ep, EPOLL_CTL_MOD, pair[0], &e));
    e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
    CHECK("epoll_ctl", "add with EPOLLEXCLUSIVE|EPOLLONESHOT",
          epoll_ctl(ep, EPOLL_CTL_ADD, pair[0], &e));
    e.events = EPOLLIN;
    CHECK("epoll_ctl", "add", epoll_ctl(ep, EPOLL_CTL_ADD, pair[1], &e));
    CHECK("epoll_ctl", "add again", epoll_ctl(ep, EPOLL_CTL_ADD, pair[1], &e));
    struct epoll_event got[4];
    CHECK("epoll_wait", "maxevents 0", epoll_wait(ep, got, 0, 0));
    CHECK("epoll_wait", "maxevents -1", epoll_wait(ep, got, minus_one, 0));
    CHECK("epoll_wait", "maxevents INT_MAX", epoll_wait(ep, got, int_max, 0));
    CHECK("epoll_wait", "NULL events, none ready", epoll_wait(ep, NIL, 4, 0));
    CHECK("epoll_wait", "closed fd", epoll_wait(closed, got, 4, 0));
    CHECK("epoll_wait", "a socket", epoll_wait(pair[0], got, 4, 0));
    CHECK("epoll_wait", "none ready", epoll_wait(ep, got, 4, 0));
    CHECK("epoll_ctl", "del", epoll_ctl(ep, EPOLL_CTL_DEL, pair[1], NULL));
    CHECK("epoll_ctl", "del again", epoll_ctl(ep, EPOLL_CTL_DEL, pair[1], NULL));
    CHECK("epoll_ctl", "add an eventfd", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e));
    CHECK("epoll_pwait", "maxevents 0", epoll_pwait(ep, got, 0, 0, NULL));
  }

  /* pipe2, eventfd */
  CHECK("pipe2", "bad flags", pipe2(ends, 0x40000000));
  CHECK("pipe2", "NULL", pipe2(NULL, 0));
  CHECK("pipe2", "NULL, bad flags", pipe2(NULL, 0x40000000));
  CHECK("pipe", "NULL", pipe(NULL));
  CHECK_FD("eventfd", "bad flags", eventfd(0, 0x40000000));
  {
    uint64_t n = 1;
    CHECK("read", "an eventfd, 4 bytes", read(efd, &n, 4));
    CHECK("write", "an eventfd, 4 bytes", write(efd, &n, 4));
    CHECK("read", "an eventfd at zero", read(efd, &n, sizeof n));
    CHECK("read", "an eventfd, NULL buffer, at zero", read(efd, NIL, 8));
    CHECK("write", "an eventfd, NULL buffer", write(efd, NIL, 8));
    n = UINT64_MAX;
    CHECK("write", "an eventfd, UINT64_MAX", write(efd, &n, sizeof n));
    n = 3;
    CHECK("write", "an eventfd, 3", write(efd, &n, sizeof n));
    CHECK("read", "an eventfd, NULL buffer, 4 bytes", read(efd, NIL, 4));
    CHECK("read", "an eventfd, NULL buffer", read(efd, NIL, 8));
    CHECK("read", "an eventfd after the NULL read", read(efd, &n, sizeof n));
  }

  /* nanosleep, clock_nanosleep */
  {
    struct timespec t = {0, 1000000000};
    CHECK("nanosleep", "tv_nsec 1000000000", nanosleep(&t, NULL));
    t.tv_nsec = -1;
    CHECK("nanosleep", "tv_nsec -1", nanosleep(&t, NULL));
    t.tv_sec = -1;
    t.tv_nsec = 0;
    CHECK("nanosleep", "tv_sec -1", nanosleep(&t, NULL));
    t.tv_sec = 0;
    t.tv_nsec = 1000000000;
    report_returned("clock_nanosleep", "tv_nsec 1000000000",
                    clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL));
    report_returned("clock_nanosleep", "TIMER_ABSTIME, tv_nsec 1000000000",
                    clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL));
    t.tv_nsec = -1;
    report_returned("clock_nanosleep", "tv_nsec -1", clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL));
    t.tv_nsec = 0;
    report_returned("clock_nanosleep", "CLOCK_THREAD_CPUTIME_ID",
                    clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &t, NULL));
    report_returned("clock_nanosleep", "bad clock", clock_nanosleep(9999, 0, &t, NULL));
  }

  /* The state a call leaves behind: bound, listening, shut down, closed, full. */
  {
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in at = loopback();
    CHECK("bind", "port 0", bind(s, (struct sockaddr*)&at, sizeof at));
    CHECK("bind", "again", bind(s, (struct sockaddr*)&at, sizeof at));
    CHECK("listen", "bound", listen(s, 1));
    CHECK("listen", "again", listen(s, 1));
    CHECK("bind", "listening", bind(s, (struct sockaddr*)&at, sizeof at));
    CHECK("shutdown", "listening, SHUT_WR", shutdown(s, SHUT_WR));
    CHECK("shutdown", "listening, SHUT_RDWR", shutdown(s, SHUT_RDWR));
    CHECK_FD("accept", "after shutdown", accept(s, NULL, NULL));
    close(s);
  }
  {
    int p[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p);
    CHECK("connect", "a connected pair, an AF_INET address",
          connect(p[0], (struct sockaddr*)&in, sizeof in));
    CHECK("bind", "a connected pair, an AF_INET address",
          bind(p[0], (struct sockaddr*)&in, sizeof in));
    CHECK("shutdown", "a pair, SHUT_WR", shutdown(p[0], SHUT_WR));
    CHECK("send", "after SHUT_WR", send(p[0], buffer, 1, MSG_NOSIGNAL));
    CHECK("recv", "the peer after SHUT_WR", recv(p[1], buffer, 1, 0));
    CHECK("shutdown", "a pair, SHUT_RD", shutdown(p[0], SHUT_RD));
    CHECK("recv", "after SHUT_RD", recv(p[0], buffer, 1, 0));
    close(p[1]);
    CHECK("send", "the peer closed", send(p[0], buffer, 1, MSG_NOSIGNAL));
    CHECK("shutdown", "the peer closed", shutdown(p[0], SHUT_RDWR));
    close(p[0]);
  }
  {
    int p[2];
    pipe2(p, O_NONBLOCK);
    CHECK("close", "a pipe's read end", close(p[0]));
    CHECK("write", "a pipe with no reader", write(p[1], buffer, 1));
    CHECK("close", "a pipe's write end", close(p[1]));
    pipe2(p, O_NONBLOCK);
    close(p[1]);
    CHECK("read", "a pipe with no writer", read(p[0], buffer, 1));
    close(p[0]);
  }
  {
    uint64_t n = 0xfffffffffffffffeULL - 3;
    const int e = eventfd(3, EFD_NONBLOCK);
    CHECK("write", "an eventfd, to its most", write(e, &n, sizeof n));
    n = 1;
    CHECK("write", "an eventfd, beyond its most", write(e, &n, sizeof n));
    CHECK("read", "an eventfd at its most", read(e, &n, sizeof n));
    close(e);
  }
  {
    const int e = epoll_create1(0);
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = EPOLLIN;
    struct epoll_event got[4];
    CHECK("epoll_ctl", "add a socket", epoll_ctl(e, EPOLL_CTL_ADD, s, &event));
    CHECK("epoll_wait", "an unconnected socket", epoll_wait(e, got, 4, 0));
    CHECK("close", "a socket in an epoll", close(s));
    CHECK("epoll_ctl", "del after close", epoll_ctl(e, EPOLL_CTL_DEL, s, NULL));
    CHECK("epoll_wait", "after close", epoll_wait(e, got, 4, 0));
    CHECK("close", "an epoll", close(e));
    CHECK("epoll_wait", "a closed epoll", epoll_wait(e, got, 4, 0));
    CHECK("epoll_ctl", "a closed epoll", epoll_ctl(e, EPOLL_CTL_ADD, pair[0], &event));
  }
  CHECK("fcntl", "F_SETFL closed fd", fcntl(closed, F_SETFL, O_NONBLOCK));
  {
    int on = 1;
    CHECK("ioctl", "FIONBIO closed fd", ioctl(closed, FIONBIO, &on));
    CHECK("getsockopt", "SO_ERROR, fresh", getsockopt(tcp, SOL_SOCKET, SO_ERROR, &on, &length));
    printf("  value %d\n", on);
  }

  /* An address where a connected stream takes none; the other waits and clocks. */
  {
    CHECK("sendto", "a pair, with an address",
          sendto(pair[0], buffer, 1, 0, (struct sockaddr*)&in, sizeof in));
    CHECK("sendto", "a pair, an address too long",
          sendto(pair[0], buffer, 1, 0, (struct sockaddr*)&in, 200));
    CHECK("sendto", "a pair, NULL address with a length", sendto(pair[0], buffer, 1, 0, NULL, 16));
    CHECK("recv", "what sendto sent", recv(pair[1], buffer, sizeof buffer, 0));
    struct iovec iov = {buffer, 1};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_name = &in;
    m.msg_namelen = sizeof in;
    CHECK("sendmsg", "a pair, with an address", sendmsg(pair[0], &m, 0));
    CHECK("close_range", "first above last", close_range(tcp + 1, tcp, 0));
    CHECK("close_range", "bad flags", close_range(tcp, tcp, 0x4000));
    CHECK("fcntl", "F_GETFD after close_range's refusal", fcntl(tcp, F_GETFD));
    int type = 0;
    socklen_t size = sizeof type;
    CHECK("getsockopt", "SO_TYPE after close_range's refusal",
          getsockopt(tcp, SOL_SOCKET, SO_TYPE, &type, &size));
    const struct timespec bad = {0, 1000000000};
    fd_set r;
    FD_ZERO(&r);
    FD_SET(pair[1], &r);
    CHECK("pselect", "tv_nsec 1000000000", pselect(pair[1] + 1, &r, NULL, NULL, &bad, NULL));
    struct epoll_event got[1];
    CHECK("epoll_pwait2", "tv_nsec 1000000000", epoll_pwait2(ep, got, 1, &bad, NULL));
    CHECK("epoll_pwait2", "maxevents 0", epoll_pwait2(ep, got, 0, &bad, NULL));
    struct timespec now;
    CHECK("clock_gettime", "bad clock", clock_gettime(9999, &now));
    CHECK("gettimeofday", "NULL", gettimeofday(NIL, NULL));
  }

  /* What recvfrom says of the sender, sends on a listener, sleeps with no time, eventfd's
   * helpers. */
  {
    struct sockaddr_in from;
    socklen_t size = 77;
    send(pair[1], "ab", 2, 0);
    CHECK("recvfrom", "an address, NULL addrlen",
          recvfrom(pair[0], buffer, 1, 0, (struct sockaddr*)&from, NULL));
    CHECK("recvfrom", "NULL address, an addrlen", recvfrom(pair[0], buffer, 1, 0, NULL, &size));
    printf("  addrlen %u\n", (unsigned)size);
    CHECK("send", "a listening socket", send(listener, buffer, 1, MSG_NOSIGNAL));
    struct pollfd p[2] = {{-1, POLLIN, 0}, {pair[0], POLLIN, 0}};
    CHECK("poll", "a negative fd", poll(p, 2, 0));
    printf("  revents %#x %#x\n", p[0].revents, p[1].revents);
    CHECK("nanosleep", "NULL", nanosleep(NIL, NULL));
    report_returned("clock_nanosleep", "NULL", clock_nanosleep(CLOCK_MONOTONIC, 0, NIL, NULL));
    eventfd_t value = 0;
    CHECK("eventfd_read", "closed fd", eventfd_read(closed, &value));
    CHECK("eventfd_read", "at zero", eventfd_read(efd, &value));
    CHECK("eventfd_write", "UINT64_MAX", eventfd_write(efd, UINT64_MAX));
    CHECK("eventfd_write", "closed fd", eventfd_write(closed, 1));
  }

  printf("%d cases\n", cases);
  return 0;
}
