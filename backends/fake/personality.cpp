// The DESIGN table, one readiness rule per mechanism. Linux's three (epoll, poll, select) all start
// from what tcp_poll() computes; Winsock select and kqueue have rules of their own.
#include "personality.hpp"

#include <array>

namespace muxlab::fake {
namespace {

// tcp_poll()'s answer as named bits (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR).
struct LinuxPollBits {
  bool in = false;
  bool out = false;
  bool rdhup = false;
  bool hup = false;
  bool err = false;
};

LinuxPollBits linux_poll(const SocketFacts& f) {
  LinuxPollBits bits;
  if (f.listening) {
    bits.in = f.acceptable;
    return bits;
  }
  // A socket that is not connected (never was, refused, reset) hangs up, as does one shut both
  // ways.
  bits.hup = f.closed_state || (f.read_shut && f.write_shut);
  bits.in = bits.rdhup = f.read_shut;
  // While the SYN is out, neither data nor room counts.
  if (!f.connecting) {
    bits.in = bits.in || f.has_data;
    bits.out = f.write_shut || f.has_space;  // a shut send side never blocks: send fails at once
  }
  bits.err = f.error_pending;
  return bits;
}

// epoll and poll with IN|OUT|RDHUP: RDHUP and IN only for read interest, OUT only for write
// interest; hang-up and error always, as the kernel adds EPOLLHUP|EPOLLERR to every registration.
Readiness linux_epoll_or_poll(const SocketFacts& facts, Interest interest) {
  const LinuxPollBits bits = linux_poll(facts);
  Readiness r = Readiness::none;
  if (has(interest, Interest::read)) {
    if (bits.in) r |= Readiness::readable;
    if (bits.rdhup) r |= Readiness::read_closed;
  }
  if (has(interest, Interest::write) && bits.out) r |= Readiness::writable;
  if (bits.hup) r |= Readiness::read_closed | Readiness::write_closed;
  if (bits.err) r |= Readiness::error;
  return r;
}

// Linux select: the read set takes IN, HUP and ERR; the write set OUT and ERR. It cannot say more.
Readiness linux_select(const SocketFacts& facts, Interest interest) {
  const LinuxPollBits bits = linux_poll(facts);
  Readiness r = Readiness::none;
  if (has(interest, Interest::read) && (bits.in || bits.hup || bits.err)) r |= Readiness::readable;
  if (has(interest, Interest::write) && (bits.out || bits.err)) r |= Readiness::writable;
  return r;
}

// Winsock select: a failed connect shows only in the except set (never W); a socket that never
// connected shows nothing; otherwise read and write sets as on Linux (FIN and reset are R+W).
Readiness win32_select(const SocketFacts& facts, Interest interest) {
  if (facts.connect_failed) return Readiness::error;
  if (!facts.listening && !facts.was_connected) return Readiness::none;
  const LinuxPollBits bits = linux_poll(facts);
  Readiness r = Readiness::none;
  if (has(interest, Interest::read) && bits.in) r |= Readiness::readable;
  if (has(interest, Interest::write) && bits.out) r |= Readiness::writable;
  return r;
}

// kqueue: a read filter and a write filter. EV_EOF on the read filter is read_closed, on the write
// filter write_closed; a pending socket error (fflags) comes with EV_EOF as error. A refused
// connect or a reset sets EV_EOF on both filters, as BSD's filt_soread/filt_sowrite do once the
// socket can neither receive nor send.
Readiness kqueue(const SocketFacts& facts, Interest interest) {
  const bool read = has(interest, Interest::read);
  const bool write = has(interest, Interest::write);
  if (facts.listening) return read && facts.acceptable ? Readiness::readable : Readiness::none;
  // An unconnected socket fires neither filter (PR_CONNREQUIRED), until a connect fails.
  if (!facts.was_connected && !facts.connect_failed) return Readiness::none;
  const Readiness eof_error = facts.error_pending ? Readiness::error : Readiness::none;
  Readiness r = Readiness::none;
  if (read) {
    if (facts.has_data) r |= Readiness::readable;
    if (facts.read_shut) r |= Readiness::readable | Readiness::read_closed | eof_error;
  }
  if (write) {
    if (facts.write_shut)
      r |= Readiness::writable | Readiness::write_closed | eof_error;
    else if (facts.has_space)
      r |= Readiness::writable;
  }
  return r;
}

// kqueue's `data`: EVFILT_READ gives the bytes to read (a listener: its accept queue's length),
// EVFILT_WRITE the free space in the send buffer, each only when that filter fired.
void kqueue_amounts(const SocketFacts& facts, Event& event) {
  if (has(event.readiness, Readiness::readable))
    event.read_data = static_cast<std::int64_t>(facts.listening ? facts.accept_queue_length
                                                                : facts.bytes_to_read);
  if (has(event.readiness, Readiness::writable))
    event.write_data = static_cast<std::int64_t>(facts.send_room);
}

constexpr Readiness kEveryFlag = Readiness::readable | Readiness::writable |
                                 Readiness::read_closed | Readiness::write_closed |
                                 Readiness::error;

// The capabilities are the real backends' (backends/posix), so code cannot tell fake from real.
constexpr std::array<Personality, 5> kPersonalities = {{
    {
        .mechanism = "epoll",
        .capabilities = {.mechanism = "epoll",
                         .reports = kEveryFlag,
                         .limit = Capabilities::Limit::none,
                         .handle_limit = 0,
                         .triggers = Trigger::edge | Trigger::oneshot},
        .keeps_ready_list = true,
        .closed_while_registered = ClosedWhileRegistered::dropped,
        .add_checks_handle = true,
        .api = SocketApi::linux_sockets,
        .syn_resends_after_reset = 0,
        .readiness = linux_epoll_or_poll,
        .amounts = nullptr,
    },
    {
        .mechanism = "poll",
        .capabilities = {.mechanism = "poll",
                         .reports = kEveryFlag,
                         .limit = Capabilities::Limit::none,
                         .handle_limit = 0,
                         .triggers = Trigger::level},
        .keeps_ready_list = false,
        .closed_while_registered = ClosedWhileRegistered::reported_as_error,
        .add_checks_handle = false,
        .api = SocketApi::linux_sockets,
        .syn_resends_after_reset = 0,
        .readiness = linux_epoll_or_poll,
        .amounts = nullptr,
    },
    {
        .mechanism = "select",
        .capabilities = {.mechanism = "select",
                         .reports = Readiness::readable | Readiness::writable,
                         .limit = Capabilities::Limit::fd_value,
                         .handle_limit = 1024,  // FD_SETSIZE
                         .triggers = Trigger::level},
        .keeps_ready_list = false,
        .closed_while_registered = ClosedWhileRegistered::fails_wait,
        .add_checks_handle = false,
        .api = SocketApi::linux_sockets,
        .syn_resends_after_reset = 0,
        .readiness = linux_select,
        .amounts = nullptr,
    },
    {
        .mechanism = "win32-select",
        .capabilities = {.mechanism = "win32-select",
                         .reports = Readiness::readable | Readiness::writable | Readiness::error,
                         .limit = Capabilities::Limit::count,
                         .handle_limit = 512,  // the default; KernelConfig::win32_select_limit
                         .triggers = Trigger::level},
        .keeps_ready_list = false,
        .closed_while_registered = ClosedWhileRegistered::fails_wait,
        .add_checks_handle = true,
        .api = SocketApi::winsock,
        .syn_resends_after_reset = 2,
        .readiness = win32_select,
        .amounts = nullptr,
    },
    {
        .mechanism = "kqueue",
        .capabilities = {.mechanism = "kqueue",
                         .reports = kEveryFlag,
                         .limit = Capabilities::Limit::none,
                         .handle_limit = 0,
                         .triggers = Trigger::edge | Trigger::oneshot},
        .keeps_ready_list = true,
        .closed_while_registered = ClosedWhileRegistered::removed,
        .add_checks_handle = true,
        .api = SocketApi::bsd_sockets,
        .syn_resends_after_reset = 0,
        .readiness = kqueue,
        .amounts = kqueue_amounts,
    },
}};

}  // namespace

std::span<const Personality> personalities() {
  return kPersonalities;
}

const Personality* find_personality(std::string_view mechanism) {
  for (const Personality& p : kPersonalities) {
    if (p.mechanism == mechanism) return &p;
  }
  return nullptr;
}

}  // namespace muxlab::fake
