// epoll(7): the kernel keeps the interest set and a ready list, so a wait costs O(ready).
//
// Readiness mapping: EPOLLIN → readable, EPOLLOUT → writable, EPOLLRDHUP → read_closed,
// EPOLLHUP → read_closed|write_closed (both directions are shut), EPOLLERR → error.
// EPOLLRDHUP is requested with read interest. EPOLLET and EPOLLONESHOT are Trigger::edge and
// Trigger::oneshot. A handle closed while registered leaves the set silently (the kernel
// drops it with its last file reference), so the registration table is the kernel's, not ours.
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "posix.hpp"

namespace muxlab::posix {
namespace {

constexpr Capabilities kCapabilities{
    .mechanism = "epoll",
    .reports = Readiness::readable | Readiness::writable | Readiness::read_closed |
               Readiness::write_closed | Readiness::error,
    .limit = Capabilities::Limit::none,
    .handle_limit = 0,
    .triggers = Trigger::edge | Trigger::oneshot,
};

constexpr const char* kCannotWatch =
    "epoll cannot watch this kind of file (EPERM: a regular file or a directory, not a socket)";

std::uint32_t native_events(Interest interest, Trigger trigger) {
  std::uint32_t events = 0;
  if (has(interest, Interest::read)) events |= EPOLLIN | EPOLLRDHUP;
  if (has(interest, Interest::write)) events |= EPOLLOUT;
  if (has(trigger, Trigger::edge)) events |= EPOLLET;
  if (has(trigger, Trigger::oneshot)) events |= EPOLLONESHOT;
  return events;
}

// EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR and EPOLLHUP are bits 0-4, so a 32-entry table maps them
// in one load; EPOLLRDHUP (bit 13) is added apart. A wait converts every event it returns.
static_assert(EPOLLIN == 0x01 && EPOLLOUT == 0x04 && EPOLLERR == 0x08 && EPOLLHUP == 0x10);
constexpr auto kReadinessOfLowBits = [] {
  std::array<Readiness, 32> table{};
  for (std::uint32_t events = 0; events < table.size(); ++events) {
    Readiness r = Readiness::none;
    if (events & EPOLLIN) r |= Readiness::readable;
    if (events & EPOLLOUT) r |= Readiness::writable;
    if (events & EPOLLHUP) r |= Readiness::read_closed | Readiness::write_closed;
    if (events & EPOLLERR) r |= Readiness::error;
    table[events] = r;
  }
  return table;
}();

Readiness readiness_of(std::uint32_t events) {
  Readiness r = kReadinessOfLowBits[events & 0x1f];
  if (events & EPOLLRDHUP) r |= Readiness::read_closed;
  return r;
}

class EpollBackend final : public Backend {
 public:
  explicit EpollBackend(int epfd) : epfd_(epfd) {}
  ~EpollBackend() override { ::close(epfd_); }

  const Capabilities& capabilities() const override { return kCapabilities; }

  Status add(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    return control(EPOLL_CTL_ADD, "ADD", h, interest, token, trigger);
  }

  Status modify(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    return control(EPOLL_CTL_MOD, "MOD", h, interest, token, trigger);
  }

  Status remove(Handle h) override {
    if (::epoll_ctl(epfd_, EPOLL_CTL_DEL, h, nullptr) != 0) {
      // EPERM: a file epoll cannot watch, so it cannot be registered either.
      if (errno == EPERM)
        return Error(Errc::not_registered,
                     fmt::format("epoll_ctl(DEL) fd {}: {}", h, kCannotWatch));
      return errno_error(errno, fmt::format("epoll_ctl(DEL) fd {}", h));
    }
    return {};
  }

  Result<std::size_t> wait(std::span<Event> out, Duration timeout) override {
    if (out.size() > native_capacity_ || out.empty()) [[unlikely]] {
      if (out.empty())
        return Error(Errc::invalid_argument, "wait needs room for at least one event");
      native_ = std::make_unique<epoll_event[]>(out.size());
      native_capacity_ = out.size();
    }
    const int capacity = static_cast<int>(out.size());
    WaitDeadline deadline(timeout);
    int n = ::epoll_wait(epfd_, native_.get(), capacity, deadline.first_ms());
    // Again after a signal, or after a wait longer than one call can take timed out early.
    while (n <= 0) {
      if (n < 0 && errno != EINTR) return errno_error(errno, "epoll_wait");
      if (n == 0 && !deadline.timed_out_early()) break;
      n = ::epoll_wait(epfd_, native_.get(), capacity, deadline.remaining_ms());
    }
    for (int i = 0; i < n; ++i) {
      const int fd = native_[i].data.fd;
      out[i] = Event{fd, readiness_of(native_[i].events), tokens_[fd]};
    }
    return static_cast<std::size_t>(n);
  }

 private:
  Status control(int op, const char* op_name, Handle h, Interest interest, std::uint64_t token,
                 Trigger trigger) {
    if (h < 0) return Error(Errc::bad_handle, fmt::format("epoll_ctl({}) fd {}", op_name, h));
    if (!is_valid_registration(interest)) [[unlikely]]
      return Error(Errc::invalid_argument, fmt::format("epoll_ctl({}) fd {}: {}", op_name, h,
                                                       invalid_registration_text(interest)));
    epoll_event ev{};
    ev.events = native_events(interest, trigger);
    ev.data.fd = h;
    if (::epoll_ctl(epfd_, op, h, &ev) != 0) {
      // EPERM here means one thing: not a handle epoll can watch, which the contract calls
      // bad_handle (not_permitted, EPERM's portable meaning elsewhere, would mislead).
      if (errno == EPERM)
        return Error(Errc::bad_handle,
                     fmt::format("epoll_ctl({}) fd {}: {}", op_name, h, kCannotWatch));
      return errno_error(errno, fmt::format("epoll_ctl({}) fd {}", op_name, h));
    }
    if (static_cast<std::size_t>(h) >= tokens_.size())
      tokens_.resize(static_cast<std::size_t>(h) + 1);
    tokens_[static_cast<std::size_t>(h)] = token;
    return {};
  }

  int epfd_;
  std::vector<std::uint64_t> tokens_;  // indexed by fd: the kernel hands back the fd, we the token
  // What the kernel fills, with its length: a vector's size() would divide by the 12-byte
  // epoll_event on every wait.
  std::unique_ptr<epoll_event[]> native_;
  std::size_t native_capacity_ = 0;
};

}  // namespace

Result<std::unique_ptr<Backend>> make_epoll_backend() {
  const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return errno_error(errno, "epoll_create1");
  return std::unique_ptr<Backend>(std::make_unique<EpollBackend>(epfd));
}

}  // namespace muxlab::posix
