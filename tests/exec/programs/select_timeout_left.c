/* select(2) on Linux writes back what remains of its timeout; pselect does not. One line per
 * fact, compared between the real kernel and muxlab exec (tests/exec/CMakeLists.txt). */
#include <stdio.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static long long left_us(const struct timeval* t) {
  return (long long)t->tv_sec * 1000000 + t->tv_usec;
}

int main(void) {
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, ends) != 0) return 1;
  fd_set r;
  FD_ZERO(&r);
  FD_SET(ends[0], &r);
  struct timeval t = {0, 300000};
  int n = select(ends[0] + 1, &r, NULL, NULL, &t);
  printf("select timed out: %d, %lld us left\n", n, left_us(&t));

  /* A child writes after 0.2 s: the select waits that long and leaves the rest. */
  const pid_t child = fork();
  if (child == 0) {
    usleep(200000);
    _exit(write(ends[1], "x", 1) == 1 ? 0 : 1);
  }
  FD_ZERO(&r);
  FD_SET(ends[0], &r);
  t = (struct timeval){5, 0};
  n = select(ends[0] + 1, &r, NULL, NULL, &t);
  printf("select ready after 0.2 s: %d, 4.8 s left (or a little less): %s\n", n,
         left_us(&t) > 4500000 && left_us(&t) <= 4800000 ? "yes" : "no");
  waitpid(child, NULL, 0);

  FD_ZERO(&r);
  FD_SET(ends[0], &r);
  const struct timespec unchanged = {5, 0};
  struct timespec p = unchanged;
  n = pselect(ends[0] + 1, &r, NULL, NULL, &p, NULL);
  printf("pselect ready at once: %d, its timeout untouched: %s\n", n,
         p.tv_sec == unchanged.tv_sec && p.tv_nsec == unchanged.tv_nsec ? "yes" : "no");
  return 0;
}
