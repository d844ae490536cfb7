#pragma once
// What the POSIX backends share: errno → portable errors, the EINTR retry deadline, and the
// factories the registry calls. Internal to backends/posix.
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
class WaitDeadline {
 public:
  explicit WaitDeadline(Duration timeout)
      : infinite_(timeout == infinite),
        end_(infinite_ ? Clock::time_point::max() : Clock::now() + timeout) {}
  bool is_infinite() const { return infinite_; }
  Duration remaining() const {
    if (infinite_) return infinite;
    const auto left = end_ - Clock::now();
    return left > Duration::zero() ? std::chrono::duration_cast<Duration>(left) : Duration::zero();
  }
  // poll/epoll take milliseconds: round up so a 0.5 ms wait does not become a busy poll.
  int remaining_ms() const {
    if (infinite_) return -1;
    const auto ns = remaining().count();
    return static_cast<int>((ns + 999'999) / 1'000'000);
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool infinite_;
  Clock::time_point end_;
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
