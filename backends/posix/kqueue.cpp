// kqueue(2): the kernel keeps a knote per (fd, filter) and a ready list, so a wait costs
// O(ready). The BSD API only (macOS, the BSDs, or Linux with libkqueue); see docs/kqueue.md.
//
// Readiness mapping: an EVFILT_READ event → readable, EVFILT_WRITE → writable; EV_EOF on the read
// filter → read_closed (the peer sent FIN), on the write filter → write_closed (this side can send
// no more: a local shutdown(write), or the peer stopped reading); EV_EOF with fflags != 0 (the
// socket's pending errno: ECONNREFUSED, ECONNRESET) → error. The two filters' events for one fd
// become one Event per wait, each filter's `data` in read_data or write_data. EV_CLEAR and
// EV_ONESHOT are Trigger::edge and Trigger::oneshot; a one-shot registration is disarmed as a
// whole after its report, as with EPOLLONESHOT: the kernel deletes the knote that fired, and we
// disable the other one.
//
// Registrations: a registered fd has a knote for both filters, the unwanted one EV_DISABLE'd, so
// modify() switches filters with EV_ENABLE / EV_DISABLE (EV_ADD again only where a one-shot knote
// fired, EV_DELETE then EV_ADD when the trigger changes: the kernel keeps a knote's first flags).
// The tokens and the contract's bookkeeping are in our table, indexed by fd, as the kernel hands
// back the fd (ident). Changes are batched: modify() only appends to a changelist, which the next
// wait()'s kevent() call carries. add() and remove() send the changelist at once, with EV_RECEIPT
// so that the kernel answers every change and waits for nothing, because only the kernel knows
// their errors: add() of a closed fd fails EBADF (bad_handle), and remove() of an fd that was
// closed while registered fails EBADF, or ENOENT if its number was reused (not_registered: closing
// an fd removes its knotes). already_registered and not_registered otherwise come from the table.
// A queued change that fails because its fd was closed in the meantime drops the registration
// silently, as the close did in the kernel; any other failure is returned by the next wait().
//
// What the table cannot see: an fd closed without remove() stays in it until remove() says
// not_registered, so until then add() of a new socket that reuses the number says
// already_registered.
#include <sys/types.h>  // first: older BSDs' <sys/event.h> needs it

#include <fcntl.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "posix.hpp"

namespace muxlab::posix {
namespace {

using Kevent = struct kevent;  // `kevent` alone names the function

constexpr Capabilities kCapabilities{
    .mechanism = "kqueue",
    .reports = Readiness::readable | Readiness::writable | Readiness::read_closed |
               Readiness::write_closed | Readiness::error,
    .limit = Capabilities::Limit::none,
    .handle_limit = 0,
    .triggers = Trigger::edge | Trigger::oneshot,
};

// A filter is named by its Interest bit: Interest::read is EVFILT_READ, write is EVFILT_WRITE.
constexpr Interest kFilters[] = {Interest::read, Interest::write};

unsigned trigger_flags(Trigger trigger) {
  unsigned flags = 0;
  if (has(trigger, Trigger::edge)) flags |= EV_CLEAR;
  if (has(trigger, Trigger::oneshot)) flags |= EV_ONESHOT;
  return flags;
}

// Not EV_SET: on some systems it is a C compound literal, which -Wpedantic refuses in C++.
Kevent change(Handle fd, Interest filter, unsigned flags) {
  Kevent kev{};
  kev.ident = static_cast<decltype(kev.ident)>(fd);
  kev.filter =
      static_cast<decltype(kev.filter)>(filter == Interest::read ? EVFILT_READ : EVFILT_WRITE);
  kev.flags = static_cast<decltype(kev.flags)>(flags);
  return kev;
}

Interest filter_of(const Kevent& kev) {
  return kev.filter == EVFILT_READ ? Interest::read : Interest::write;
}

Readiness readiness_of(const Kevent& kev) {
  const bool read = kev.filter == EVFILT_READ;
  Readiness r = read ? Readiness::readable : Readiness::writable;
  if (kev.flags & EV_EOF) {
    r |= read ? Readiness::read_closed : Readiness::write_closed;
    if (kev.fflags != 0) r |= Readiness::error;
  }
  return r;
}

timespec to_timespec(Duration d) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(d.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(d.count() % 1'000'000'000);
  return ts;
}

bool closed_underneath(int err) {
  return err == EBADF || err == ENOENT;
}

struct Registration {
  bool registered = false;
  std::uint64_t token = 0;
  Trigger trigger = Trigger::level;
  Interest knotes = Interest::none;  // the filters the kernel has a knote for
  Interest armed = Interest::none;   // those of them that are enabled
  std::uint64_t pass = 0;            // the collect() that last reported it...
  std::size_t slot = 0;              // ...and its place in that wait's output
};

class KqueueBackend final : public Backend {
 public:
  explicit KqueueBackend(int kq) : kq_(kq) {}
  ~KqueueBackend() override { ::close(kq_); }

  const Capabilities& capabilities() const override { return kCapabilities; }

  Status add(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    if (h < 0) return Error(Errc::bad_handle, fmt::format("kevent(EV_ADD) fd {}", h));
    if (!is_valid_registration(interest))
      return Error(Errc::invalid_argument,
                   fmt::format("kqueue add: fd {}: {}", h, invalid_registration_text(interest)));
    if (find(h)) return Error(Errc::already_registered, fmt::format("kqueue: fd {}", h));
    const std::size_t own = changes_.size();
    for (Interest f : kFilters) {
      unsigned flags = EV_ADD | trigger_flags(trigger);
      flags |= has(interest, f) ? EV_ENABLE : EV_DISABLE;
      changes_.push_back(change(h, f, flags));
    }
    const Answers answers = apply(own);
    if (answers.error != 0) {
      // Both filters fail together in practice (EBADF); if one got in, take it out again.
      for (Interest f : kFilters)
        if (has(answers.done, f)) changes_.push_back(change(h, f, EV_DELETE));
      apply(0);
      return errno_error(answers.error, fmt::format("kevent(EV_ADD) fd {}", h));
    }
    Registration& r = slot(h);
    r = Registration{};
    r.registered = true;
    r.token = token;
    r.trigger = trigger;
    r.knotes = Interest::read_write;
    r.armed = interest & Interest::read_write;
    return {};
  }

  Status modify(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    if (h < 0) return Error(Errc::bad_handle, fmt::format("kevent(modify) fd {}", h));
    if (!is_valid_registration(interest))
      return Error(Errc::invalid_argument,
                   fmt::format("kqueue modify: fd {}: {}", h, invalid_registration_text(interest)));
    Registration* r = find(h);
    if (!r) return Error(Errc::not_registered, fmt::format("kqueue: fd {}", h));
    if (trigger != r->trigger) {
      for (Interest f : kFilters)
        if (has(r->knotes, f)) changes_.push_back(change(h, f, EV_DELETE));
      r->knotes = r->armed = Interest::none;
    }
    for (Interest f : kFilters) {
      if (has(interest, f)) {
        unsigned flags = EV_ENABLE;
        if (!has(r->knotes, f)) flags |= EV_ADD | trigger_flags(trigger);  // a fired one-shot
        changes_.push_back(change(h, f, flags));
      } else if (has(r->armed, f)) {
        changes_.push_back(change(h, f, EV_DISABLE));
      }
    }
    r->token = token;
    r->trigger = trigger;
    r->knotes |= interest & Interest::read_write;
    r->armed = interest & Interest::read_write;
    return {};
  }

  Status remove(Handle h) override {
    Registration* r = find(h);
    if (!r) return Error(Errc::not_registered, fmt::format("kqueue: fd {}", h));
    const Interest knotes = r->knotes;
    r->registered = false;
    if (knotes == Interest::none) {  // both one-shot knotes fired: only the fd can tell
      if (::fcntl(h, F_GETFD) < 0 && errno == EBADF)
        return Error(Errc::not_registered, fmt::format("kqueue: fd {} was closed", h));
      return {};
    }
    const std::size_t own = changes_.size();
    for (Interest f : kFilters)
      if (has(knotes, f)) changes_.push_back(change(h, f, EV_DELETE));
    const Answers answers = apply(own);
    if (answers.done != Interest::none || answers.error == 0) return {};
    if (closed_underneath(answers.error))
      return Error(Errc::not_registered,
                   fmt::format("kqueue: fd {} was closed, and its knotes with it", h));
    return errno_error(answers.error, fmt::format("kevent(EV_DELETE) fd {}", h));
  }

  Result<std::size_t> wait(std::span<Event> out, Duration timeout) override {
    if (out.empty()) return Error(Errc::invalid_argument, "wait needs room for at least one event");
    const int capacity = static_cast<int>(std::min<std::size_t>(out.size(), INT_MAX));
    // A failed change comes back as an EV_ERROR entry in the event list; without room for all
    // of them the kernel would stop half-way, so a long changelist goes on its own first.
    if (changes_.size() > static_cast<std::size_t>(capacity)) apply(changes_.size());
    if (native_.size() < static_cast<std::size_t>(capacity))
      native_.resize(static_cast<std::size_t>(capacity));
    WaitDeadline deadline(timeout);
    for (;;) {
      if (failure_) return take_failure();
      const timespec ts = to_timespec(deadline.remaining());
      const int n = ::kevent(kq_, changes_.data(), static_cast<int>(changes_.size()),
                             native_.data(), capacity, deadline.is_infinite() ? nullptr : &ts);
      changes_.clear();  // applied before the kernel waits, so also when the wait is interrupted
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error(errno, "kevent");
      }
      const std::size_t count =
          collect(std::span<const Kevent>(native_.data(), static_cast<std::size_t>(n)), out);
      if (count > 0) return count;
      if (n == 0 && !deadline.timed_out_early()) return count;
      // Only answers to changes (a BSD kernel reports those without waiting), or a wait longer
      // than one call can take that timed out early: wait on.
    }
  }

 private:
  struct Answers {
    int error = 0;                   // the first errno among the caller's own changes
    Interest done = Interest::none;  // the filters whose own change succeeded
  };

  // Sends every queued change now, each with EV_RECEIPT: the kernel answers each one, in order,
  // with EV_ERROR and data 0 or an errno, and looks for no events. Changes from index `own` on
  // are the caller's; the earlier ones were queued by modify() and are judged here.
  Answers apply(std::size_t own) {
    Answers answers;
    if (changes_.empty()) return answers;
    for (Kevent& c : changes_)
      c.flags |= EV_RECEIPT;
    receipts_.resize(changes_.size());
    const timespec zero{};
    const int n = ::kevent(kq_, changes_.data(), static_cast<int>(changes_.size()),
                           receipts_.data(), static_cast<int>(receipts_.size()), &zero);
    if (n < 0) answers.error = errno;
    for (int i = 0; i < n; ++i) {
      const Kevent& receipt = receipts_[static_cast<std::size_t>(i)];
      const int err = (receipt.flags & EV_ERROR) ? static_cast<int>(receipt.data) : 0;
      if (static_cast<std::size_t>(i) < own) {
        if (err != 0) change_failed(static_cast<Handle>(receipt.ident), err);
      } else if (err == 0) {
        answers.done |= filter_of(receipt);
      } else if (answers.error == 0) {
        answers.error = err;
      }
    }
    changes_.clear();
    return answers;
  }

  // A queued change failed. EBADF or ENOENT: its fd was closed, and its knotes went with it.
  void change_failed(Handle fd, int err) {
    if (Registration* r = find(fd)) r->registered = false;
    if (!closed_underneath(err) && !failure_)
      failure_ = errno_error(err, fmt::format("kevent: a queued change for fd {}", fd));
  }

  Error take_failure() {
    Error e = std::move(*failure_);
    failure_.reset();
    return e;
  }

  // Turns the kernel's events into out's Events, one per fd, and returns how many.
  std::size_t collect(std::span<const Kevent> native, std::span<Event> out) {
    ++pass_;
    std::size_t n = 0;
    for (const Kevent& kev : native) {
      const auto fd = static_cast<Handle>(kev.ident);
      if (kev.flags & EV_ERROR) {  // the answer to a change this call carried
        if (kev.data != 0) change_failed(fd, static_cast<int>(kev.data));
        continue;
      }
      Registration* r = find(fd);
      if (!r) {  // a knote the table no longer knows: delete it, so it cannot keep waking us
        changes_.push_back(change(fd, filter_of(kev), EV_DELETE));
        continue;
      }
      if (r->pass != pass_) {
        r->pass = pass_;
        r->slot = n;
        out[n++] = Event{fd, Readiness::none, r->token};
      }
      Event& event = out[r->slot];
      event.readiness |= readiness_of(kev);
      (kev.filter == EVFILT_READ ? event.read_data : event.write_data) =
          static_cast<std::int64_t>(kev.data);
    }
    // One-shot: the kernel deleted the knotes that fired; disable the other, until modify().
    for (std::size_t i = 0; i < n; ++i) {
      Registration* r = find(out[i].handle);
      if (!r || !has(r->trigger, Trigger::oneshot)) continue;
      Interest fired = Interest::none;
      if (has(out[i].readiness, Readiness::readable)) fired |= Interest::read;
      if (has(out[i].readiness, Readiness::writable)) fired |= Interest::write;
      r->knotes = r->knotes & ~fired;
      for (Interest f : kFilters)
        if (has(r->armed & r->knotes, f)) changes_.push_back(change(out[i].handle, f, EV_DISABLE));
      r->armed = Interest::none;
    }
    return n;
  }

  Registration* find(Handle h) {
    if (h < 0 || static_cast<std::size_t>(h) >= table_.size()) return nullptr;
    Registration& r = table_[static_cast<std::size_t>(h)];
    return r.registered ? &r : nullptr;
  }

  Registration& slot(Handle h) {
    if (static_cast<std::size_t>(h) >= table_.size())
      table_.resize(static_cast<std::size_t>(h) + 1);
    return table_[static_cast<std::size_t>(h)];
  }

  int kq_;
  std::vector<Registration> table_;  // indexed by fd
  std::vector<Kevent> changes_;      // queued for the next kevent() call
  std::vector<Kevent> receipts_;     // apply()'s answers
  std::vector<Kevent> native_;       // wait()'s events
  std::optional<Error> failure_;     // a queued change's failure, for the next wait()
  std::uint64_t pass_ = 0;
};

}  // namespace

Result<std::unique_ptr<Backend>> make_kqueue_backend() {
  const int kq = ::kqueue();
  if (kq < 0) return errno_error(errno, "kqueue");
  if (::fcntl(kq, F_SETFD, FD_CLOEXEC) != 0) {
    const int err = errno;
    ::close(kq);
    return errno_error(err, "fcntl(FD_CLOEXEC) on the kqueue");
  }
  return std::unique_ptr<Backend>(std::make_unique<KqueueBackend>(kq));
}

}  // namespace muxlab::posix
