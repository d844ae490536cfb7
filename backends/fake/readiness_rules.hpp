#pragma once
// The DESIGN table's readiness rules, one per mechanism. Linux's three (epoll, poll, select) all
// start from what tcp_poll() computes; Winsock select and kqueue have rules of their own.
//
// A backend takes its personality's rule as a template argument (with_rule), not through a
// pointer: checking a socket's readiness is the commonest step of a wait, and with the rule and
// Socket::facts() inlined together the compiler computes only the facts the rule reads. That took
// a tenth of the instructions off a request/response exchange on fake:epoll (callgrind).
// Internal to backends/fake.
#include <type_traits>

#include "muxlab/backend.hpp"
#include "muxlab/readiness.hpp"

#include "fake_kernel.hpp"  // Wakeup
#include "personality.hpp"

namespace muxlab::fake::rules {

// tcp_poll()'s answer as named bits (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR).
struct LinuxPollBits {
  bool in = false;
  bool out = false;
  bool rdhup = false;
  bool hup = false;
  bool err = false;
};

inline LinuxPollBits linux_poll(const SocketFacts& f) {
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
inline Readiness linux_epoll_or_poll(const SocketFacts& facts, Interest interest) {
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
inline Readiness linux_select(const SocketFacts& facts, Interest interest) {
  const LinuxPollBits bits = linux_poll(facts);
  Readiness r = Readiness::none;
  if (has(interest, Interest::read) && (bits.in || bits.hup || bits.err)) r |= Readiness::readable;
  if (has(interest, Interest::write) && (bits.out || bits.err)) r |= Readiness::writable;
  return r;
}

// Winsock select: a failed connect shows only in the except set (never W); a socket that never
// connected shows nothing; otherwise read and write sets as on Linux (FIN and reset are R+W).
inline Readiness win32_select(const SocketFacts& facts, Interest interest) {
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
inline Readiness kqueue(const SocketFacts& facts, Interest interest) {
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

// Which of kqueue's two filters a wake-up runs. BSD keeps a socket's knotes per filter on the
// buffer the filter watches (FreeBSD's soo_kqfilter(): EVFILT_READ on so_rcv's list, EVFILT_WRITE
// on so_snd's), and sowakeup() runs the list of the one buffer that changed: data arriving and the
// FIN (socantrcvmore) wake the read filter, acknowledged data (tcp_input's sowwakeup() after
// sbcut) and a local shutdown(write) (socantsendmore) the write filter. A connect that completes
// or fails, and a reset, change both buffers (soisconnected, soisdisconnected).
inline Interest kqueue_filters_woken(Wakeup why) {
  switch (why) {
    case Wakeup::readable:
    case Wakeup::receive_shut:
      return Interest::read;
    case Wakeup::writable:
    case Wakeup::send_shut:
      return Interest::write;
    case Wakeup::error:
    case Wakeup::state_changed:
      break;
  }
  return Interest::read_write;
}

// The filters of `interest` that are true now: those EV_ADD (or EV_ENABLE) activates at once.
inline Interest kqueue_filters_true(const SocketFacts& facts, Interest interest) {
  Interest fired = Interest::none;
  for (Interest filter : {Interest::read, Interest::write})
    if (has(interest, filter) && kqueue(facts, filter) != Readiness::none) fired |= filter;
  return fired;
}

// kqueue's `data`: EVFILT_READ gives the bytes to read (a listener: its accept queue's length),
// EVFILT_WRITE the free space in the send buffer, each only when that filter fired.
inline void kqueue_amounts(const SocketFacts& facts, Event& event) {
  if (has(event.readiness, Readiness::readable))
    event.read_data = static_cast<std::int64_t>(facts.listening ? facts.accept_queue_length
                                                                : facts.bytes_to_read);
  if (has(event.readiness, Readiness::writable))
    event.write_data = static_cast<std::int64_t>(facts.send_room);
}

}  // namespace muxlab::fake::rules

namespace muxlab::fake {

template <ReadinessRule kRule>
Readiness readiness_of(const SocketFacts& facts, Interest interest) {
  if constexpr (kRule == ReadinessRule::linux_epoll_or_poll)
    return rules::linux_epoll_or_poll(facts, interest);
  else if constexpr (kRule == ReadinessRule::linux_select)
    return rules::linux_select(facts, interest);
  else if constexpr (kRule == ReadinessRule::win32_select)
    return rules::win32_select(facts, interest);
  else
    return rules::kqueue(facts, interest);
}

// What an event carries besides readiness: kqueue's `data`; nothing for the other mechanisms.
template <ReadinessRule kRule>
void add_amounts(const SocketFacts& facts, Event& event) {
  if constexpr (kRule == ReadinessRule::kqueue) rules::kqueue_amounts(facts, event);
}

// make(std::integral_constant<ReadinessRule, R>{}) for the rule R that `rule` names.
template <class Make>
auto with_rule(ReadinessRule rule, Make make) {
  using R = ReadinessRule;
  switch (rule) {
    case R::linux_epoll_or_poll:
      return make(std::integral_constant<R, R::linux_epoll_or_poll>{});
    case R::linux_select:
      return make(std::integral_constant<R, R::linux_select>{});
    case R::win32_select:
      return make(std::integral_constant<R, R::win32_select>{});
    case R::kqueue:
      break;
  }
  return make(std::integral_constant<R, R::kqueue>{});
}

}  // namespace muxlab::fake
