/* A client on plain libc poll: connects without blocking (trying again while nobody listens yet),
 * sends its message, waits with poll for the whole answer (as long as the message) and prints it.
 *
 *   poll_client PORT MESSAGE
 *
 * Written for `muxlab exec` (docs/exec.md) and the real kernel alike. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A connected non-blocking socket, or -1 once 100 attempts 10 ms apart were refused. */
static int connect_to(int port) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0) return fd;
    if (errno == EINPROGRESS) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      poll(&p, 1, -1);
      int error = 0;
      socklen_t length = sizeof error;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error == 0) return fd;
    }
    close(fd);
    const struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PORT MESSAGE\n", argv[0]);
    return 2;
  }
  const int fd = connect_to(atoi(argv[1]));
  if (fd < 0) {
    fprintf(stderr, "poll_client: nobody listens on port %s\n", argv[1]);
    return 1;
  }
  const size_t length = strlen(argv[2]);
  size_t sent = 0, received = 0;
  char answer[4096];
  while (received < length && received < sizeof answer - 1) {
    struct pollfd p = {.fd = fd, .events = POLLIN | (sent < length ? POLLOUT : 0)};
    if (poll(&p, 1, 5000) == 0) {
      fprintf(stderr, "poll_client: no answer within 5 s\n");
      return 1;
    }
    if (p.revents & POLLOUT) {
      const ssize_t n = send(fd, argv[2] + sent, length - sent, MSG_NOSIGNAL);
      if (n > 0) sent += (size_t)n;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = recv(fd, answer + received, sizeof answer - 1 - received, 0);
      if (n <= 0) break;
      received += (size_t)n;
    }
  }
  answer[received] = '\0';
  printf("poll_client: %s\n", answer);
  close(fd);
  return received == length ? 0 : 1;
}
