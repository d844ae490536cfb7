#pragma once
// What the POSIX backends share: errno → portable errors, the EINTR retry deadline, and the
// factories the registry calls. Internal to backends/posix.
#include <time.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>

#include "muxlab/backend.hpp"
#include "muxlab/net.hpp"

namespace muxlab::posix {

// errno → Errc where a portable code exists; otherwise the errno itself (system_category).
std::error_code error_from_errno(int err);

// An Error carrying errno's portable code and "what failed" (e.g. "epoll_ctl(ADD) fd 7").
inline Error errno_error(int err, std::string what) {
  return {error_from_errno(err), std::move(what)};
}

// Counts down a wait's timeout across EINTR retries, so a signal never lengthens the wait.
// The first system call gets the timeout as given, with one clock read for the deadline and none
// for a zero or infinite timeout: the bench showed two clock reads per wait cost 1-2 % of a
// dispatch. (CLOCK_MONOTONIC_COARSE would be cheaper, but on this project's VMs it runs up to
// 1.8 ms *ahead* of CLOCK_MONOTONIC, which would end an interrupted wait early.)
class WaitDeadline {
 public:
  explicit WaitDeadline(Duration timeout) : timeout_(timeout) {
    if (timeout_ != infinite && timeout_ > Duration::zero()) end_ = now() + timeout_;
  }
  bool is_infinite() const { return timeout_ == infinite; }
  // For the first system call: the timeout as given, in poll's and epoll_wait's milliseconds.
  int first_ms() {
    first_ = false;
    return to_ms(timeout_);
  }
  // The whole timeout the first time; after an interruption, what is left of it.
  Duration remaining() {
    if (timeout_ == infinite) return infinite;
    if (timeout_ <= Duration::zero()) return Duration::zero();  // a negative timeout polls
    if (first_) {
      first_ = false;
      return timeout_;
    }
    const Duration left = end_ - now();
    return left > Duration::zero() ? left : Duration::zero();
  }
  int remaining_ms() { return to_ms(remaining()); }

 private:
  // poll/epoll take milliseconds: round up so a 0.5 ms wait does not become a busy poll.
  static int to_ms(Duration d) {
    if (d == infinite) return -1;
    if (d <= Duration::zero()) return 0;
    return static_cast<int>((d.count() + 999'999) / 1'000'000);
  }
  static Duration now() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }

  Duration timeout_;
  Duration end_{};
  bool first_ = true;
};

Result<std::unique_ptr<Backend>> make_select_backend();
Result<std::unique_ptr<Backend>> make_poll_backend();
#if defined(__linux__)
Result<std::unique_ptr<Backend>> make_epoll_backend();
#endif
#if defined(MUXLAB_HAVE_KQUEUE)  // set by CMake where <sys/event.h> and kqueue() were found
Result<std::unique_ptr<Backend>> make_kqueue_backend();
#endif
std::unique_ptr<Net> make_socket_net();

}  // namespace muxlab::posix
