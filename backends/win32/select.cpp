// Win32 select(): Winsock's fd_set is not a bitmap but a counted array of up to FD_SETSIZE
// sockets, so the limit is a *count* of sockets in one set, whatever their handle values.
// Winsock's own default is 64; muxlab takes CPython's 512 (MUXLAB_WIN32_FD_SETSIZE at build time
// changes it, and FD_SETSIZE is defined from it before <winsock2.h>). The add() that would make
// the set hold one socket too many fails with too_many_handles naming the socket and the limit.
//
// Readiness mapping: read set → readable, write set → writable, except set → error. Every
// registered socket is in the except set, whatever its interest, because that is the only place
// Windows reports a failed non-blocking connect: a refused connect shows in the except set alone,
// never as writable, and pending_error() then says connection_refused. The except set would also
// report TCP urgent (out-of-band) data, which muxlab's sockets never send. Like POSIX select, a
// hang-up or a reset shows only as readable and writable; the next recv/send tells which.
//
// Two Winsock rules that POSIX select lacks: select with all three sets empty fails WSAEINVAL,
// so a wait with nothing registered sleeps for its timeout instead (and refuses an infinite one,
// which nothing could ever end); and a registered socket closed without remove() makes the whole
// wait fail WSAENOTSOCK, reported as bad_handle naming the socket. Level-triggered only.
#ifndef MUXLAB_WIN32_FD_SETSIZE
#define MUXLAB_WIN32_FD_SETSIZE 512
#endif
#define FD_SETSIZE MUXLAB_WIN32_FD_SETSIZE
#include <windows.h>
#include <winsock2.h>

#if FD_SETSIZE != MUXLAB_WIN32_FD_SETSIZE
#error "<winsock2.h> was included before select.cpp could set FD_SETSIZE"
#endif

#include <chrono>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "win32.hpp"

namespace muxlab::win32 {
namespace {

constexpr std::size_t kSetSize = FD_SETSIZE;

constexpr Capabilities kCapabilities{
    .mechanism = "win32-select",
    .reports = Readiness::readable | Readiness::writable | Readiness::error,
    .limit = Capabilities::Limit::count,
    .handle_limit = kSetSize,
    .triggers = Trigger::level,
};

struct Registration {
  Handle socket;
  Interest interest;
  std::uint64_t token;
};

// A wait's end on the steady clock. Winsock's select has no EINTR worth the name, but it may
// return a little before its timeout (it counts in scheduler ticks), so wait() goes round again
// until the deadline has really passed. Every finite timeout is honoured: the end saturates
// rather than overflowing (a timeout near Duration::max() would otherwise end in the past), and a
// negative timeout polls once, like zero.
class Deadline {
 public:
  explicit Deadline(Duration timeout) : infinite_(timeout == infinite), end_(end_of(timeout)) {}
  bool is_infinite() const { return infinite_; }
  bool passed() const { return !infinite_ && Clock::now() >= end_; }
  // Whole milliseconds left, rounded up so a 0.3 ms remainder does not become a busy loop; at
  // most a day, so it fits select's timeval and Sleep's DWORD (a longer wait goes round again).
  long remaining_ms() const {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(end_ - Clock::now()).count();
    constexpr long kDay = 24L * 60 * 60 * 1000;
    return left <= 0 ? 0 : left > kDay ? kDay : static_cast<long>(left);
  }

 private:
  using Clock = std::chrono::steady_clock;
  static Clock::time_point end_of(Duration timeout) {
    if (timeout == infinite) return Clock::time_point::max();
    const Clock::time_point start = Clock::now();
    if (timeout <= Duration::zero()) return start;
    const auto room = std::chrono::duration_cast<Duration>(Clock::time_point::max() - start);
    return timeout < room ? start + std::chrono::duration_cast<Clock::duration>(timeout)
                          : Clock::time_point::max();
  }
  bool infinite_;
  Clock::time_point end_;
};

class Win32SelectBackend final : public Backend {
 public:
  const Capabilities& capabilities() const override { return kCapabilities; }

  Status add(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    if (auto refused = check("add", h, interest, trigger); !refused.ok()) return refused;
    if (slots_.contains(h))
      return Error(Errc::already_registered, fmt::format("win32-select add: socket {}", h));
    if (registered_.size() >= kSetSize)
      return Error(Errc::too_many_handles,
                   fmt::format("win32-select add: socket {} would be socket number {} in one "
                               "select set, over the limit: a Win32 fd_set holds at most "
                               "FD_SETSIZE ({}) sockets (MUXLAB_WIN32_FD_SETSIZE at build time)",
                               h, registered_.size() + 1, kSetSize));
    if (auto closed = check_socket("add", h); !closed.ok()) return closed;
    slots_.emplace(h, registered_.size());
    registered_.push_back({h, interest, token});
    return {};
  }

  Status modify(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    if (auto refused = check("modify", h, interest, trigger); !refused.ok()) return refused;
    const auto slot = slots_.find(h);
    if (slot == slots_.end())
      return Error(Errc::not_registered, fmt::format("win32-select modify: socket {}", h));
    if (auto closed = check_socket("modify", h); !closed.ok()) return closed;
    registered_[slot->second] = {h, interest, token};
    return {};
  }

  Status remove(Handle h) override {
    const auto slot = slots_.find(h);
    if (slot == slots_.end())
      return Error(Errc::not_registered, fmt::format("win32-select remove: socket {}", h));
    const std::size_t index = slot->second;
    slots_.erase(slot);
    if (index + 1 != registered_.size()) {
      registered_[index] = registered_.back();
      slots_[registered_[index].socket] = index;
    }
    registered_.pop_back();
    if (next_scan_ >= registered_.size()) next_scan_ = 0;
    return {};
  }

  Result<std::size_t> wait(std::span<Event> out, Duration timeout) override {
    if (out.empty()) return Error(Errc::invalid_argument, "wait needs room for at least one event");
    const Deadline deadline(timeout);
    if (registered_.empty()) return sleep_until(deadline);

    for (;;) {
      fill_sets();
      timeval tv{};
      timeval* tvp = nullptr;
      if (!deadline.is_infinite()) {
        const long ms = deadline.remaining_ms();
        tv.tv_sec = ms / 1000;
        tv.tv_usec = (ms % 1000) * 1000;
        tvp = &tv;
      }
      // The first argument is ignored by Winsock (kept for Berkeley compatibility).
      const int ready = ::select(0, &read_, &write_, &except_, tvp);
      if (ready == SOCKET_ERROR) {
        const int err = ::WSAGetLastError();
        if (err == WSAEINTR) continue;
        if (err == WSAENOTSOCK) return closed_socket_error();
        return wsa_error(err, "win32-select: select");
      }
      if (ready > 0) break;
      if (deadline.is_infinite() || deadline.passed()) return std::size_t{0};
    }

    // The sets came back holding only the ready sockets; gather each one's readiness.
    got_.assign(registered_.size(), Readiness::none);
    mark(read_, Readiness::readable);
    mark(write_, Readiness::writable);
    mark(except_, Readiness::error);

    // Rotate the scan's start when the output fills, so late registrations do not starve.
    std::size_t n = 0;
    const std::size_t count = registered_.size();
    for (std::size_t k = 0; k < count && n < out.size(); ++k) {
      std::size_t i = next_scan_ + k;
      if (i >= count) i -= count;
      if (got_[i] == Readiness::none) continue;
      out[n++] = Event{registered_[i].socket, got_[i], registered_[i].token};
      if (n == out.size()) next_scan_ = i + 1 < count ? i + 1 : 0;
    }
    return n;
  }

 private:
  static Status check(const char* call, Handle h, Interest interest, Trigger trigger) {
    if (h == invalid_handle)
      return Error(Errc::bad_handle, fmt::format("win32-select {}: INVALID_SOCKET", call));
    if (!is_valid_registration(interest))
      return Error(Errc::invalid_argument, fmt::format("win32-select {}: socket {}: {}", call, h,
                                                       invalid_registration_text(interest)));
    if (trigger != Trigger::level)
      return Error(Errc::unsupported, fmt::format("win32-select {}: socket {}: Win32 select is "
                                                  "level-triggered only, {} was asked",
                                                  call, h, to_string(trigger)));
    return {};
  }

  // Refuses what is not an open socket now, not at the next wait (which would fail whole).
  static Status check_socket(const char* call, Handle h) {
    int type = 0;
    int len = sizeof type;
    if (::getsockopt(static_cast<SOCKET>(h), SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type),
                     &len) == SOCKET_ERROR)
      return wsa_error(::WSAGetLastError(), fmt::format("win32-select {}: socket {}", call, h));
    return {};
  }

  // Winsock's fd_set is {count, array}: filled directly, since FD_SET searches the array for a
  // duplicate on every call.
  void fill_sets() {
    read_.fd_count = write_.fd_count = except_.fd_count = 0;
    for (const Registration& r : registered_) {
      const SOCKET s = static_cast<SOCKET>(r.socket);
      if (has(r.interest, Interest::read)) read_.fd_array[read_.fd_count++] = s;
      if (has(r.interest, Interest::write)) write_.fd_array[write_.fd_count++] = s;
      except_.fd_array[except_.fd_count++] = s;
    }
  }

  void mark(const fd_set& set, Readiness flag) {
    for (u_int i = 0; i < set.fd_count; ++i) {
      const auto slot = slots_.find(static_cast<Handle>(set.fd_array[i]));
      if (slot != slots_.end()) got_[slot->second] |= flag;
    }
  }

  // Winsock refuses three empty sets (WSAEINVAL), so an empty wait is a plain sleep.
  static Result<std::size_t> sleep_until(const Deadline& deadline) {
    if (deadline.is_infinite())
      return Error(Errc::invalid_argument,
                   "win32-select wait: nothing is registered and the timeout is infinite, so "
                   "nothing could ever end the wait (Win32 select refuses empty sets)");
    while (!deadline.passed())
      ::Sleep(static_cast<DWORD>(deadline.remaining_ms()));
    return std::size_t{0};
  }

  Error closed_socket_error() const {
    for (const Registration& r : registered_) {
      int type = 0;
      int len = sizeof type;
      if (::getsockopt(static_cast<SOCKET>(r.socket), SOL_SOCKET, SO_TYPE,
                       reinterpret_cast<char*>(&type), &len) == SOCKET_ERROR &&
          ::WSAGetLastError() == WSAENOTSOCK)
        return Error(Errc::bad_handle,
                     fmt::format("win32-select: registered socket {} was closed without remove()",
                                 r.socket));
    }
    return Error(Errc::bad_handle, "win32-select: select failed WSAENOTSOCK");
  }

  std::vector<Registration> registered_;           // dense, in no particular order
  std::unordered_map<Handle, std::size_t> slots_;  // socket → index into registered_
  std::vector<Readiness> got_;                     // per registration, during one wait
  std::size_t next_scan_ = 0;
  fd_set read_;  // rebuilt before every select, which overwrites them with the ready sockets
  fd_set write_;
  fd_set except_;
};

}  // namespace

Result<std::unique_ptr<Backend>> make_select_backend() {
  if (const int started = start_winsock(); started != 0)
    return wsa_error(started, "win32-select: WSAStartup");
  return std::unique_ptr<Backend>(std::make_unique<Win32SelectBackend>());
}

}  // namespace muxlab::win32
