// Fake poll, POSIX select and Win32 select. Like the real ones they keep the registrations in a
// dense array and look at every one on each wait, so a wait costs O(registered). They register
// handle numbers, not sockets: a closed number makes poll report an error (POLLNVAL) on every
// wait and makes select's wait fail (EBADF, WSAENOTSOCK), and a number reused by a new socket is
// watched as that socket, as poll(2) and select(2) would.
//
// Limits: POSIX select cannot take an fd value at or above FD_SETSIZE (1024); Win32 select takes
// at most a number of sockets (512 by default, KernelConfig::win32_select_limit). All three are
// level-triggered only. With nothing registered, Win32 select would fail (WSAEINVAL), so the
// backend sleeps instead: here, virtual time passes. add() and modify() refuse a handle that is
// not an open socket, as the real backends do (they check with fcntl or getsockopt, because the
// system calls themselves would tell only at the next wait).
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "fake_environment.hpp"
#include "readiness_rules.hpp"
#include "socket.hpp"

namespace muxlab::fake {
namespace {

template <ReadinessRule kRule>
class ScanningBackend final : public Backend {
 public:
  explicit ScanningBackend(std::shared_ptr<FakeKernel> kernel)
      : kernel_(std::move(kernel)),
        personality_(kernel_->personality()),
        capabilities_(personality_.capabilities) {
    if (capabilities_.limit == Capabilities::Limit::count)
      capabilities_.handle_limit = kernel_->config().win32_select_limit;
  }

  const Capabilities& capabilities() const override { return capabilities_; }

  Status add(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    kernel_->begin_call();
    if (auto refused = check("add", h, interest, trigger)) return *refused;
    if (!kernel_->is_open(h)) return refusal(Errc::bad_handle, "add", h, "is not an open socket");
    if (slots_.contains(h))
      return refusal(Errc::already_registered, "add", h, "is registered already");
    if (capabilities_.limit == Capabilities::Limit::count &&
        registered_.size() >= capabilities_.handle_limit)
      return Error(Errc::too_many_handles,
                   fmt::format("{} add: fd {} would make {} sockets in the set; Win32 select takes "
                               "at most {} (FD_SETSIZE, configurable)",
                               personality_.mechanism, h, registered_.size() + 1,
                               capabilities_.handle_limit));
    slots_.emplace(h, registered_.size());
    registered_.push_back(Registration{h, interest, token});
    return {};
  }

  Status modify(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    kernel_->begin_call();
    if (auto refused = check("modify", h, interest, trigger)) return *refused;
    const auto slot = slots_.find(h);
    if (slot == slots_.end())
      return refusal(Errc::not_registered, "modify", h, "is not registered");
    if (!kernel_->is_open(h))
      return refusal(Errc::bad_handle, "modify", h, "is not an open socket");
    registered_[slot->second] = Registration{h, interest, token};
    return {};
  }

  Status remove(Handle h) override {
    kernel_->begin_call();
    const auto slot = slots_.find(h);
    if (slot == slots_.end())
      return refusal(Errc::not_registered, "remove", h, "is not registered");
    // Move the last registration into the hole: removal is O(1) and the array stays dense.
    const std::size_t index = slot->second;
    slots_.erase(slot);
    if (index + 1 != registered_.size()) {
      registered_[index] = registered_.back();
      slots_[registered_[index].handle] = index;
    }
    registered_.pop_back();
    if (next_scan_ >= registered_.size()) next_scan_ = 0;
    return {};
  }

  Result<std::size_t> wait(std::span<Event> out, Duration timeout) override {
    if (out.empty()) return Error(Errc::invalid_argument, "wait needs room for at least one event");
    return kernel_->system_call(
        [&] { return kernel_->wait_for(timeout, [&] { return collect(out); }); });
  }

 private:
  struct Registration {
    Handle handle;
    Interest interest;
    std::uint64_t token;
  };

  Error refusal(Errc code, const char* call, Handle h, std::string_view why) const {
    return Error(code, fmt::format("{} {}: fd {} {}", personality_.mechanism, call, h, why));
  }

  std::optional<Error> check(const char* call, Handle h, Interest interest, Trigger trigger) const {
    if (!is_handle_number(h)) return refusal(Errc::bad_handle, call, h, "is no handle");
    if (capabilities_.limit == Capabilities::Limit::fd_value &&
        static_cast<std::size_t>(h) >= capabilities_.handle_limit)
      return Error(Errc::too_many_handles,
                   fmt::format("{} {}: fd {} is over the limit: select watches only fd values "
                               "below FD_SETSIZE ({})",
                               personality_.mechanism, call, h, capabilities_.handle_limit));
    if (!is_valid_registration(interest))
      return Error(Errc::invalid_argument,
                   fmt::format("{} {}: fd {}: {}", personality_.mechanism, call, h,
                               invalid_registration_text(interest)));
    if (trigger != Trigger::level)
      return Error(
          Errc::unsupported,
          fmt::format("{} {}: fd {}: {} is level-triggered only, {} was asked",
                      personality_.mechanism, call, h, personality_.mechanism, to_string(trigger)));
    return std::nullopt;
  }

  Result<std::size_t> collect(std::span<Event> out) {
    if (personality_.closed_while_registered == ClosedWhileRegistered::fails_wait) {
      for (const Registration& r : registered_) {
        if (!kernel_->is_open(r.handle))
          return Error(Errc::bad_handle,
                       fmt::format("{}: registered fd {} was closed without remove()",
                                   personality_.mechanism, r.handle));
      }
    }
    // When more are ready than fit, the next wait starts where this one stopped, so no handle
    // starves behind the ones registered first.
    std::size_t n = 0;
    const std::size_t count = registered_.size();
    for (std::size_t k = 0; k < count && n < out.size(); ++k) {
      std::size_t i = next_scan_ + k;
      if (i >= count) i -= count;
      const Registration& r = registered_[i];
      Socket* const socket = kernel_->socket_at(r.handle);
      // poll's POLLNVAL for a number that names no socket any more.
      const Readiness readiness =
          socket != nullptr ? readiness_of<kRule>(socket->facts(), r.interest) : Readiness::error;
      if (readiness == Readiness::none) continue;
      out[n++] = Event{r.handle, readiness, r.token};
      if (n == out.size()) next_scan_ = i + 1 < count ? i + 1 : 0;
    }
    return n;
  }

  std::shared_ptr<FakeKernel> kernel_;
  const Personality& personality_;
  Capabilities capabilities_;
  std::vector<Registration> registered_;           // dense, in no particular order
  std::unordered_map<Handle, std::size_t> slots_;  // handle → index into registered_
  std::size_t next_scan_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_scanning_backend(std::shared_ptr<FakeKernel> kernel) {
  return with_rule(kernel->personality().rule, [&](auto rule) -> std::unique_ptr<Backend> {
    return std::make_unique<ScanningBackend<decltype(rule)::value>>(std::move(kernel));
  });
}

}  // namespace muxlab::fake
