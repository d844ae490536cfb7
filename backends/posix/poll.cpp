// poll(2): the whole interest set goes to the kernel on every wait and comes back scanned, so a
// wait costs O(registered), like the real thing.
//
// Readiness mapping: POLLIN → readable, POLLOUT → writable, POLLRDHUP (Linux) → read_closed,
// POLLHUP → read_closed|write_closed, POLLERR → error. POLLNVAL (a registered fd that was closed)
// → error on every wait until the caller removes it. Level-triggered only.
#include <fcntl.h>
#include <poll.h>

#include <vector>

#include <fmt/format.h>

#include "posix.hpp"

namespace muxlab::posix {
namespace {

#if defined(POLLRDHUP)
constexpr short kReadHangup = POLLRDHUP;
constexpr Readiness kReports = Readiness::readable | Readiness::writable | Readiness::read_closed |
                               Readiness::write_closed | Readiness::error;
#else
constexpr short kReadHangup = 0;
constexpr Readiness kReports =
    Readiness::readable | Readiness::writable | Readiness::write_closed | Readiness::error;
#endif

constexpr Capabilities kCapabilities{
    .mechanism = "poll",
    .reports = kReports,
    .limit = Capabilities::Limit::none,
    .handle_limit = 0,
    .triggers = Trigger::level,
};

short native_events(Interest interest) {
  short events = 0;
  if (has(interest, Interest::read)) events |= POLLIN | kReadHangup;
  if (has(interest, Interest::write)) events |= POLLOUT;
  return events;
}

Readiness readiness_of(short revents) {
  Readiness r = Readiness::none;
  if (revents & POLLIN) r |= Readiness::readable;
  if (revents & POLLOUT) r |= Readiness::writable;
  if (revents & kReadHangup) r |= Readiness::read_closed;
  if (revents & POLLHUP) r |= Readiness::read_closed | Readiness::write_closed;
  if (revents & (POLLERR | POLLNVAL)) r |= Readiness::error;
  return r;
}

class PollBackend final : public Backend {
 public:
  const Capabilities& capabilities() const override { return kCapabilities; }

  Status add(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    if (auto refused = check("add", h, interest, trigger); !refused.ok()) return refused;
    if (slot_of(h) >= 0) return Error(Errc::already_registered, fmt::format("poll: fd {}", h));
    if (auto closed = check_open("add", h); !closed.ok()) return closed;
    if (static_cast<std::size_t>(h) >= slots_.size())
      slots_.resize(static_cast<std::size_t>(h) + 1, -1);
    slots_[static_cast<std::size_t>(h)] = static_cast<int>(fds_.size());
    fds_.push_back(pollfd{h, native_events(interest), 0});
    tokens_.push_back(token);
    return {};
  }

  Status modify(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    if (auto refused = check("modify", h, interest, trigger); !refused.ok()) return refused;
    const int slot = slot_of(h);
    if (slot < 0) return Error(Errc::not_registered, fmt::format("poll: fd {}", h));
    if (auto closed = check_open("modify", h); !closed.ok()) return closed;
    fds_[static_cast<std::size_t>(slot)].events = native_events(interest);
    tokens_[static_cast<std::size_t>(slot)] = token;
    return {};
  }

  Status remove(Handle h) override {
    const int slot = h < 0 ? -1 : slot_of(h);
    if (slot < 0) return Error(Errc::not_registered, fmt::format("poll: fd {}", h));
    // Swap the last registration into the hole: removal is O(1) and the array stays dense.
    const auto last = fds_.size() - 1;
    fds_[static_cast<std::size_t>(slot)] = fds_[last];
    tokens_[static_cast<std::size_t>(slot)] = tokens_[last];
    slots_[static_cast<std::size_t>(fds_[last].fd)] = slot;
    slots_[static_cast<std::size_t>(h)] = -1;
    fds_.pop_back();
    tokens_.pop_back();
    if (next_scan_ >= fds_.size()) next_scan_ = 0;
    return {};
  }

  Result<std::size_t> wait(std::span<Event> out, Duration timeout) override {
    if (out.empty()) return Error(Errc::invalid_argument, "wait needs room for at least one event");
    WaitDeadline deadline(timeout);
    int ready;
    // Again after a signal, or after a wait longer than one call can take timed out early.
    while ((ready = ::poll(fds_.data(), fds_.size(), deadline.remaining_ms())) <= 0) {
      if (ready < 0 && errno != EINTR) return errno_error(errno, "poll");
      if (ready == 0 && !deadline.timed_out_early()) break;
    }
    // When more are ready than fit, the next wait starts its scan where this one stopped, so no
    // handle starves behind the ones registered first.
    std::size_t n = 0;
    const std::size_t count = fds_.size();
    for (std::size_t k = 0; k < count && n < out.size() && ready > 0; ++k) {
      std::size_t i = next_scan_ + k;
      if (i >= count) i -= count;
      if (fds_[i].revents == 0) continue;
      --ready;
      out[n++] = Event{fds_[i].fd, readiness_of(fds_[i].revents), tokens_[i]};
      if (n == out.size()) next_scan_ = i + 1 < count ? i + 1 : 0;
    }
    return n;
  }

 private:
  int slot_of(Handle h) const {
    return static_cast<std::size_t>(h) < slots_.size() ? slots_[static_cast<std::size_t>(h)] : -1;
  }

  static Status check(const char* call, Handle h, Interest interest, Trigger trigger) {
    if (h < 0) return Error(Errc::bad_handle, fmt::format("poll {}: fd {}", call, h));
    if (!is_valid_registration(interest))
      return Error(Errc::invalid_argument,
                   fmt::format("poll {}: fd {}: {}", call, h, invalid_registration_text(interest)));
    if (trigger != Trigger::level)
      return Error(Errc::unsupported,
                   fmt::format("poll {}: fd {}: poll is level-triggered only, {} was asked", call,
                               h, to_string(trigger)));
    return {};
  }

  // poll() itself takes any number and would tell only at the wait (POLLNVAL): refused at once,
  // as epoll_ctl and kevent refuse it.
  static Status check_open(const char* call, Handle h) {
    if (::fcntl(h, F_GETFD) < 0 && errno == EBADF)
      return Error(Errc::bad_handle, fmt::format("poll {}: fd {} is not open", call, h));
    return {};
  }

  std::vector<pollfd> fds_;            // what poll() gets, dense
  std::vector<std::uint64_t> tokens_;  // parallel to fds_
  std::vector<int> slots_;             // fd → index into fds_, or -1
  std::size_t next_scan_ = 0;
};

}  // namespace

Result<std::unique_ptr<Backend>> make_poll_backend() {
  return std::unique_ptr<Backend>(std::make_unique<PollBackend>());
}

}  // namespace muxlab::posix
