/* An echo server on plain libc epoll, level-triggered: accepts on a port, reads what each client
 * sends and writes it back upper-cased, keeping what the send buffer did not take for the next
 * EPOLLOUT. Exits after serving N clients (argument 2; 0 serves forever).
 *
 *   epoll_echo_server PORT [CLIENTS]
 *
 * Written for `muxlab exec` (docs/exec.md) and the real kernel alike: nothing in it knows which. */
#define _GNU_SOURCE /* accept4 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kMaxClients = 64, kBufferSize = 4096 };

struct client {
  int fd;
  char pending[kBufferSize]; /* upper-cased bytes the peer has not been sent yet */
  size_t pending_length;
};

static struct client clients[kMaxClients];

static struct client *client_of(int fd) {
  for (int i = 0; i < kMaxClients; ++i)
    if (clients[i].fd == fd) return &clients[i];
  return NULL;
}

static void drop(int epoll, struct client *c) {
  epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
}

/* Sends what is pending; asks for EPOLLOUT only while something is. */
static int flush(int epoll, struct client *c) {
  while (c->pending_length > 0) {
    const ssize_t n = send(c->fd, c->pending, c->pending_length, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) break;
      return -1;
    }
    memmove(c->pending, c->pending + n, c->pending_length - (size_t)n);
    c->pending_length -= (size_t)n;
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (c->pending_length ? EPOLLOUT : 0),
                           .data.fd = c->fd};
  return epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &ev);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT [CLIENTS]\n", argv[0]);
    return 2;
  }
  const int port = atoi(argv[1]);
  const int to_serve = argc > 2 ? atoi(argv[2]) : 0;
  for (int i = 0; i < kMaxClients; ++i) clients[i].fd = -1;

  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int yes = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(listener, (struct sockaddr *)&at, sizeof at) != 0 || listen(listener, 16) != 0) {
    perror("epoll_echo_server: bind/listen");
    return 1;
  }
  const int epoll = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
  epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &ev);

  int served = 0;
  while (to_serve == 0 || served < to_serve) {
    struct epoll_event events[16];
    const int n = epoll_wait(epoll, events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_echo_server: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        const int accepted = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        struct client *slot = accepted >= 0 ? client_of(-1) : NULL;
        if (slot == NULL) {
          if (accepted >= 0) close(accepted);
          continue;
        }
        slot->fd = accepted;
        slot->pending_length = 0;
        struct epoll_event add = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = accepted};
        epoll_ctl(epoll, EPOLL_CTL_ADD, accepted, &add);
        continue;
      }
      struct client *c = client_of(fd);
      if (c == NULL) continue;
      if (events[i].events & EPOLLIN && c->pending_length < kBufferSize) {
        char data[kBufferSize];
        const ssize_t got = recv(fd, data, kBufferSize - c->pending_length, 0);
        if (got > 0) {
          for (ssize_t k = 0; k < got; ++k) c->pending[c->pending_length++] = (char)toupper(data[k]);
        } else if (got == 0 || errno != EAGAIN) {
          drop(epoll, c); /* the peer finished or reset */
          ++served;
          continue;
        }
      }
      if (flush(epoll, c) != 0) {
        drop(epoll, c);
        ++served;
      }
    }
  }
  printf("epoll_echo_server: served %d clients\n", served);
  return 0;
}
