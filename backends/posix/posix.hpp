#pragma once
// What the POSIX backends share: errno → portable errors, the EINTR retry deadline, and the
// factories the registry calls. Internal to backends/posix.
#include <time.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <memory>
#include <string>

#include "muxlab/backend.hpp"
#include "muxlab/net.hpp"

namespace muxlab::posix {

// errno → its portable Errc (errno_error.cpp lists them); Errc::other for one with no portable
// meaning. Always in muxlab_category.
std::error_code error_from_errno(int err);

// An Error carrying errno's portable code and "what failed" (e.g. "epoll_ctl(ADD) fd 7"); for
// Errc::other, the detail adds the errno and its text: "close fd 7: errno 5 (Input/output error)".
Error errno_error(int err, std::string what);

// Counts down a wait's timeout across EINTR retries, so a signal never lengthens the wait.
// The first system call gets the timeout as given, with one clock read for the deadline and none
// for a zero or infinite timeout: the bench showed two clock reads per wait cost 1-2 % of a
// dispatch. (CLOCK_MONOTONIC_COARSE would be cheaper, but on this project's VMs it runs up to
// 1.8 ms *ahead* of CLOCK_MONOTONIC, which would end an interrupted wait early.)
//
// Every finite timeout is honoured, up to Duration::max() - 1 ns: the deadline saturates instead
// of overflowing, and one system call waits at most kLongestCall (INT_MAX ms, what poll and
// epoll_wait take); a longer wait is made of several, and after one that was clamped and timed out
// timed_out_early() says whether to wait again. Only `infinite` waits forever; a negative timeout
// polls once, like zero.
class WaitDeadline {
 public:
  // About 24.8 days: poll's and epoll_wait's int milliseconds, and below the 31 days that POSIX
  // guarantees select and the limits some kevent() implementations put on a timespec.
  static constexpr Duration kLongestCall = std::chrono::milliseconds(INT_MAX);

  explicit WaitDeadline(Duration timeout) : timeout_(timeout) {
    if (timeout_ != infinite && timeout_ > Duration::zero()) {
      const Duration start = now();
      end_ = timeout_ < Duration::max() - start ? start + timeout_ : Duration::max();
    }
  }
  bool is_infinite() const { return timeout_ == infinite; }
  // For the first system call: the timeout as given, in poll's and epoll_wait's milliseconds.
  int first_ms() {
    first_ = false;
    return to_ms(timeout_);
  }
  // For the next system call: the whole timeout the first time; after an interruption or a
  // clamped call, what is left of it. At most kLongestCall; `infinite` stays infinite.
  Duration remaining() {
    if (timeout_ == infinite) return infinite;
    if (timeout_ <= Duration::zero()) return Duration::zero();  // a negative timeout polls
    Duration left = timeout_;
    if (!first_) {
      left = end_ - now();
      if (left < Duration::zero()) left = Duration::zero();
    }
    first_ = false;
    clamped_ = left >= kLongestCall;
    return clamped_ ? kLongestCall : left;
  }
  int remaining_ms() { return to_ms(remaining()); }
  // After a system call that timed out: true when it was given kLongestCall and the timeout
  // has time left, so the caller waits again (with remaining()). A clock read only then.
  bool timed_out_early() {
    if (!clamped_) return false;
    return end_ - now() > Duration::zero();
  }

 private:
  // poll/epoll take milliseconds: round up so a 0.5 ms wait does not become a busy poll.
  int to_ms(Duration d) {
    if (d == infinite) return -1;
    if (d <= Duration::zero()) return 0;
    clamped_ = d >= kLongestCall;
    if (clamped_) return INT_MAX;
    const auto ns = d.count();  // at most kLongestCall: the rounding below cannot overflow
    return static_cast<int>(ns / 1'000'000 + (ns % 1'000'000 != 0));
  }
  static Duration now() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }

  Duration timeout_;
  Duration end_{};
  bool first_ = true;
  bool clamped_ = false;  // the last call's timeout was cut to kLongestCall
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
