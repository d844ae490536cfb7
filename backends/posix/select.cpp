// select(2): fd_set bitmaps of FD_SETSIZE (1024) bits, indexed by fd *value*. An fd at or above
// FD_SETSIZE cannot be watched at all (FD_SET on it writes out of bounds, which glibc's fortify
// check turns into an abort), so add() refuses it with too_many_handles.
//
// Readiness mapping: read set → readable, write set → writable. That is all select can say: a
// hang-up, a reset or a refused connect shows only as readable and writable, and the following
// recv/send or pending_error() tells which. The except set means TCP urgent data on POSIX, so it
// is not used. A registered fd that was closed makes the whole wait fail with EBADF; the error
// names the culprit. Level-triggered only.
#include <fcntl.h>
#include <sys/select.h>

#include <vector>

#include <fmt/format.h>

#include "posix.hpp"

namespace muxlab::posix {
namespace {

constexpr Capabilities kCapabilities{
    .mechanism = "select",
    .reports = Readiness::readable | Readiness::writable,
    .limit = Capabilities::Limit::fd_value,
    .handle_limit = FD_SETSIZE,
    .triggers = Trigger::level,
};

struct Registration {
  Handle fd;
  Interest interest;
  std::uint64_t token;
};

class SelectBackend final : public Backend {
 public:
  SelectBackend() {
    FD_ZERO(&read_set_);
    FD_ZERO(&write_set_);
  }

  const Capabilities& capabilities() const override { return kCapabilities; }

  Status add(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    if (auto refused = check("add", h, interest, trigger); !refused.ok()) return refused;
    if (slots_[h] >= 0) return Error(Errc::already_registered, fmt::format("select: fd {}", h));
    if (auto closed = check_open("add", h); !closed.ok()) return closed;
    slots_[h] = static_cast<int>(registered_.size());
    registered_.push_back({h, interest, token});
    set_interest(h, interest);
    if (h > max_fd_) max_fd_ = h;
    return {};
  }

  Status modify(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    if (auto refused = check("modify", h, interest, trigger); !refused.ok()) return refused;
    if (slots_[h] < 0) return Error(Errc::not_registered, fmt::format("select: fd {}", h));
    if (auto closed = check_open("modify", h); !closed.ok()) return closed;
    registered_[static_cast<std::size_t>(slots_[h])] = {h, interest, token};
    set_interest(h, interest);
    return {};
  }

  Status remove(Handle h) override {
    if (h < 0 || h >= static_cast<Handle>(FD_SETSIZE) || slots_[h] < 0)
      return Error(Errc::not_registered, fmt::format("select: fd {}", h));
    set_interest(h, Interest::none);
    const int slot = slots_[h];
    registered_[static_cast<std::size_t>(slot)] = registered_.back();
    slots_[registered_.back().fd] = slot;
    slots_[h] = -1;
    registered_.pop_back();
    if (next_scan_ >= registered_.size()) next_scan_ = 0;
    if (h == max_fd_) {
      max_fd_ = -1;
      for (const auto& r : registered_)
        max_fd_ = r.fd > max_fd_ ? r.fd : max_fd_;
    }
    return {};
  }

  Result<std::size_t> wait(std::span<Event> out, Duration timeout) override {
    if (out.empty()) return Error(Errc::invalid_argument, "wait needs room for at least one event");
    WaitDeadline deadline(timeout);
    fd_set readable;
    fd_set writable;
    int ready;
    do {
      readable = read_set_;
      writable = write_set_;
      timeval tv{};
      timeval* tvp = nullptr;
      if (!deadline.is_infinite()) {
        const auto left =
            std::chrono::duration_cast<std::chrono::microseconds>(deadline.remaining());
        tv.tv_sec = static_cast<time_t>(left.count() / 1'000'000);
        tv.tv_usec = static_cast<suseconds_t>(left.count() % 1'000'000);
        tvp = &tv;
      }
      ready = ::select(max_fd_ + 1, &readable, &writable, nullptr, tvp);
      // Again after a signal, or after a wait longer than one call can take timed out early.
    } while ((ready < 0 && errno == EINTR) || (ready == 0 && deadline.timed_out_early()));
    if (ready < 0) {
      if (errno == EBADF) return closed_handle_error();
      return errno_error(errno, "select");
    }
    // Rotate the scan's start when the output fills, so late registrations do not starve.
    std::size_t n = 0;
    const std::size_t count = registered_.size();
    for (std::size_t k = 0; k < count && n < out.size() && ready > 0; ++k) {
      std::size_t i = next_scan_ + k;
      if (i >= count) i -= count;
      const Registration& r = registered_[i];
      Readiness got = Readiness::none;
      if (FD_ISSET(r.fd, &readable)) got |= Readiness::readable;
      if (FD_ISSET(r.fd, &writable)) got |= Readiness::writable;
      if (got == Readiness::none) continue;
      ready -= (has(got, Readiness::readable) ? 1 : 0) + (has(got, Readiness::writable) ? 1 : 0);
      out[n++] = Event{r.fd, got, r.token};
      if (n == out.size()) next_scan_ = i + 1 < count ? i + 1 : 0;
    }
    return n;
  }

 private:
  Status check(const char* call, Handle h, Interest interest, Trigger trigger) const {
    if (h < 0) return Error(Errc::bad_handle, fmt::format("select {}: fd {}", call, h));
    if (h >= static_cast<Handle>(FD_SETSIZE))
      return Error(Errc::too_many_handles,
                   fmt::format("select {}: fd {} is over the limit: select watches only fd values "
                               "below FD_SETSIZE ({})",
                               call, h, FD_SETSIZE));
    if (!is_valid_registration(interest))
      return Error(Errc::invalid_argument, fmt::format("select {}: fd {}: {}", call, h,
                                                       invalid_registration_text(interest)));
    if (trigger != Trigger::level)
      return Error(Errc::unsupported,
                   fmt::format("select {}: fd {}: select is level-triggered only, {} was asked",
                               call, h, to_string(trigger)));
    return {};
  }

  // select() itself takes any number and would tell only at the wait (EBADF for the whole
  // set): refused at once, as epoll_ctl and kevent refuse it.
  static Status check_open(const char* call, Handle h) {
    if (::fcntl(h, F_GETFD) < 0 && errno == EBADF)
      return Error(Errc::bad_handle, fmt::format("select {}: fd {} is not open", call, h));
    return {};
  }

  void set_interest(Handle h, Interest interest) {
    if (has(interest, Interest::read))
      FD_SET(h, &read_set_);
    else
      FD_CLR(h, &read_set_);
    if (has(interest, Interest::write))
      FD_SET(h, &write_set_);
    else
      FD_CLR(h, &write_set_);
  }

  Error closed_handle_error() const {
    for (const auto& r : registered_) {
      if (::fcntl(r.fd, F_GETFD) < 0 && errno == EBADF)
        return Error(Errc::bad_handle,
                     fmt::format("select: registered fd {} was closed without remove()", r.fd));
    }
    return Error(Errc::bad_handle, "select: EBADF");
  }

  fd_set read_set_;
  fd_set write_set_;
  std::vector<Registration> registered_;                       // dense, in no particular order
  std::vector<int> slots_ = std::vector<int>(FD_SETSIZE, -1);  // fd → index into registered_
  Handle max_fd_ = -1;
  std::size_t next_scan_ = 0;
};

}  // namespace

Result<std::unique_ptr<Backend>> make_select_backend() {
  return std::unique_ptr<Backend>(std::make_unique<SelectBackend>());
}

}  // namespace muxlab::posix
