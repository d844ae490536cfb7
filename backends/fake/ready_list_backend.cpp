// Fake epoll and kqueue. Like the real ones they keep a ready list: a socket's wake-up puts the
// registrations it concerns on the list, and a wait looks only at the list, so it costs O(ready),
// not O(registered). What the list holds is re-checked when a wait takes it off:
//   level-triggered  reported, then back on the list; off it at the first wait that finds it idle
//   edge-triggered   reported, then off the list until the next wake-up
//   one-shot         reported, then disarmed (wake-ups ignored) until modify()
// That is how Linux's ep_poll_callback() and ep_send_events() work, and it gives EPOLLET's fine
// print without special cases: every arrival of data wakes (an event), a partial read does not
// (none), modify() checks readiness afresh (re-reports), and a report carries everything ready now
// (with IN|OUT|ET every event has OUT).
//
// kqueue differs in what a wake-up concerns. A registration stands for two knotes, one per filter
// (FreeBSD's soo_kqfilter() puts EVFILT_READ on the receive buffer's knote list and EVFILT_WRITE on
// the send buffer's), and a wake-up runs only the filters of the buffer that changed
// (rules::kqueue_filters_woken: sowakeup() on so_rcv or so_snd). The registration remembers which
// filters fired since its last report (`fired`: the knotes KNOTE() activated), and an EV_CLEAR or
// EV_ONESHOT report checks those alone (filt_soread(), filt_sowrite() once more, as kqueue_scan()
// does) and forgets them: so with both filters an arrival of data reports readable only, and
// writable comes when an acknowledgment frees send space. EV_ADD and EV_ENABLE check both filters
// (a modify() re-reports what is true). A level-triggered knote stays queued while its filter is
// true, so a level report is every filter true now. FreeBSD hands out an EV_ONESHOT knote without
// checking it again; macOS checks it like the others (knote_process() runs f_process), which is
// what this does: docs/kqueue.md.
//
// A registration belongs to the socket, not the number: when the handle is closed it goes away
// silently (epoll) or is removed (kqueue), as the table says.
#include <cstddef>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "aligned_slots.hpp"
#include "fake_environment.hpp"
#include "readiness_rules.hpp"
#include "socket.hpp"

namespace muxlab::fake {
namespace {

template <ReadinessRule kRule>
class ReadyListBackend final : public Backend {
 public:
  explicit ReadyListBackend(std::shared_ptr<FakeKernel> kernel)
      : kernel_(std::move(kernel)), personality_(kernel_->personality()) {}

  ~ReadyListBackend() override {
    for (const Chunk& chunk : chunks_) {
      if (!chunk) continue;
      for (std::size_t i = 0; i < kChunkSize; ++i) {
        Registration* r = (*chunk)[i];
        if (r->in_use) kernel_->unwatch(*r->socket, r);
        r->~Registration();
      }
    }
  }

  const Capabilities& capabilities() const override { return personality_.capabilities; }

  Status add(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    return kernel_->system_call([&] { return add_registration(h, interest, token, trigger); });
  }

  Status modify(Handle h, Interest interest, std::uint64_t token, Trigger trigger) override {
    return kernel_->system_call([&] { return modify_registration(h, interest, token, trigger); });
  }

  Status remove(Handle h) override {
    kernel_->begin_call();
    // epoll_ctl(DEL) looks up the fd before the registration; kqueue reports the registration.
    if (personality_.closed_while_registered == ClosedWhileRegistered::dropped &&
        !kernel_->is_open(h))
      return refusal(Errc::bad_handle, "remove", h, "is not an open socket");
    if (registration_of(h) == nullptr)
      return refusal(Errc::not_registered, "remove", h, "is not registered");
    forget(h);
    return {};
  }

  Result<std::size_t> wait(std::span<Event> out, Duration timeout) override {
    if (out.empty()) return Error(Errc::invalid_argument, "wait needs room for at least one event");
    return kernel_->system_call(
        [&] { return kernel_->wait_for(timeout, [&] { return collect(out); }); });
  }

 private:
  // One cache line each (see registration_of()).
  struct alignas(64) Registration final : Watcher {
    ReadyListBackend* backend = nullptr;
    Socket* socket = nullptr;  // valid while registered: the registration goes when h closes
    std::uint64_t token = 0;
    // Its place on the ready list, which is threaded through the registrations themselves so
    // that putting one on the list, as every level-triggered report does, allocates nothing.
    Registration* previous = nullptr;
    Registration* next = nullptr;
    Handle handle = invalid_handle;
    Interest interest = Interest::none;
    Trigger trigger = Trigger::level;
    bool in_use = false;  // a slot of chunks_ holds a registration only while this is set
    bool armed = true;
    bool queued = false;
    Interest fired = Interest::none;  // kqueue: the filters woken since the last report

    void on_wakeup(Wakeup why) override { backend->woken(*this, why); }
    void on_closed() override { backend->forget(handle); }
  };

  Error refusal(Errc code, const char* call, Handle h, std::string_view why) const {
    return Error(code, fmt::format("{} {}: fd {} {}", personality_.mechanism, call, h, why));
  }

  Error invalid_interest(const char* call, Handle h, Interest interest) const {
    return Error(Errc::invalid_argument, fmt::format("{} {}: fd {}: {}", personality_.mechanism,
                                                     call, h, invalid_registration_text(interest)));
  }

  Status add_registration(Handle h, Interest interest, std::uint64_t token, Trigger trigger) {
    if (!is_valid_registration(interest)) return invalid_interest("add", h, interest);
    Socket* const socket = kernel_->socket_at(h);
    if (socket == nullptr) return refusal(Errc::bad_handle, "add", h, "is not an open socket");
    if (registration_of(h) != nullptr)
      return refusal(Errc::already_registered, "add", h, "is registered already");
    Registration& added = slot_for(h);
    added.backend = this;
    added.handle = h;
    added.socket = socket;
    added.interest = interest;
    added.token = token;
    added.trigger = trigger;
    added.in_use = true;
    kernel_->watch(*socket, &added);
    // A new registration is checked once, as ep_insert() does, so what is ready now is reported.
    check_afresh(added);
    return {};
  }

  Status modify_registration(Handle h, Interest interest, std::uint64_t token, Trigger trigger) {
    if (!is_valid_registration(interest)) return invalid_interest("modify", h, interest);
    if (!kernel_->is_open(h))
      return refusal(Errc::bad_handle, "modify", h, "is not an open socket");
    Registration* const found = registration_of(h);
    if (found == nullptr) return refusal(Errc::not_registered, "modify", h, "is not registered");
    Registration& r = *found;
    r.interest = interest;
    r.token = token;
    r.trigger = trigger;
    r.armed = true;
    check_afresh(r);
    return {};
  }

  // What the registration would report now: nothing while disarmed.
  static Readiness ready_now(const Registration& r) {
    return r.armed ? readiness_of<kRule>(r.socket->facts(), r.interest) : Readiness::none;
  }

  // What is ready now goes on the ready list; for kqueue that is which filters EV_ADD activates.
  void check_afresh(Registration& r) {
    if constexpr (kRule == ReadinessRule::kqueue)
      r.fired = rules::kqueue_filters_true(r.socket->facts(), r.interest);
    if (ready_now(r) != Readiness::none) enqueue(r);
  }

  // A wake-up that concerns nothing the registration asked for is ignored; errors and changes of
  // state concern everyone (the kernel adds EPOLLERR|EPOLLHUP to every registration). On kqueue a
  // wake-up concerns the filters of the buffer that changed.
  void woken(Registration& r, Wakeup why) {
    if (!r.armed) return;
    if constexpr (kRule == ReadinessRule::kqueue) {
      const Interest filters = rules::kqueue_filters_woken(why) & r.interest;
      if (filters == Interest::none) return;
      r.fired |= filters;
      enqueue(r);
      return;
    }
    const bool concerns = why == Wakeup::readable   ? has(r.interest, Interest::read)
                          : why == Wakeup::writable ? has(r.interest, Interest::write)
                                                    : true;
    if (concerns) enqueue(r);
  }

  // Registrations live by handle number in chunks of kChunkSize slots, which never move (the ready
  // list and the sockets' watcher lists point at them) and are reused as numbers are: finding one
  // is two indexings, and with many connections each costs one cache line, not a heap block of
  // its own plus a pointer to it.
  Registration* registration_of(Handle h) const {
    const auto number = static_cast<std::uint64_t>(h);  // a negative h is huge: never found
    if (number / kChunkSize >= chunks_.size()) return nullptr;
    const Chunk& chunk = chunks_[number / kChunkSize];
    if (!chunk) return nullptr;
    Registration* r = (*chunk)[number % kChunkSize];
    return r->in_use ? r : nullptr;
  }

  // The slot for handle h (an open socket's handle is a number), made if need be.
  Registration& slot_for(Handle h) {
    const auto number = static_cast<std::size_t>(h);
    if (number / kChunkSize >= chunks_.size()) chunks_.resize(number / kChunkSize + 1);
    Chunk& chunk = chunks_[number / kChunkSize];
    if (!chunk) {
      chunk.emplace();
      for (std::size_t i = 0; i < kChunkSize; ++i)
        ::new (static_cast<void*>((*chunk)[i])) Registration();
    }
    return *(*chunk)[number % kChunkSize];
  }

  // Onto the end of the ready list, unless it is on it already.
  void enqueue(Registration& r) {
    if (r.queued) return;
    r.queued = true;
    r.previous = ready_last_;
    r.next = nullptr;
    (ready_last_ ? ready_last_->next : ready_first_) = &r;
    ready_last_ = &r;
  }

  void unlink(Registration& r) {
    (r.previous ? r.previous->next : ready_first_) = r.next;
    (r.next ? r.next->previous : ready_last_) = r.previous;
    r.previous = r.next = nullptr;
    r.queued = false;
  }

  void forget(Handle h) {
    Registration* const r = registration_of(h);
    if (r == nullptr) return;
    kernel_->unwatch(*r->socket, r);
    if (r->queued) unlink(*r);
    *r = Registration();  // the slot is free again
  }

  // What a wait checks of a registration it takes off the list: its whole interest, except an
  // edge-triggered or one-shot kqueue registration, whose knotes not woken since are not queued.
  static Interest filters_to_check(Registration& r) {
    if constexpr (kRule == ReadinessRule::kqueue) {
      if (r.trigger != Trigger::level) return r.interest & std::exchange(r.fired, Interest::none);
    }
    return r.interest;
  }

  Result<std::size_t> collect(std::span<Event> out) {
    std::size_t n = 0;
    still_level_.clear();
    while (n < out.size() && ready_first_ != nullptr) {
      Registration& r = *ready_first_;
      unlink(r);
      if (!r.armed) continue;
      const SocketFacts facts = r.socket->facts();
      const Readiness readiness = readiness_of<kRule>(facts, filters_to_check(r));
      if (readiness == Readiness::none) continue;
      out[n++] = Event{r.handle, readiness, r.token};
      add_amounts<kRule>(facts, out[n - 1]);
      if (has(r.trigger, Trigger::oneshot))
        r.armed = false;
      else if (!has(r.trigger, Trigger::edge))
        still_level_.push_back(&r);
    }
    for (Registration* r : still_level_)
      enqueue(*r);
    return n;
  }

  std::shared_ptr<FakeKernel> kernel_;
  const Personality& personality_;
  static constexpr std::size_t kChunkSize = 64;
  using Chunk = std::optional<AlignedSlots<Registration, kChunkSize>>;
  // By handle number: handle numbers are small and dense (the lowest free one is taken).
  std::vector<Chunk> chunks_;
  Registration* ready_first_ = nullptr;  // the ready list, oldest first
  Registration* ready_last_ = nullptr;
  std::vector<Registration*> still_level_;  // collect()'s: back on the list once a wait is done
};

}  // namespace

std::unique_ptr<Backend> make_ready_list_backend(std::shared_ptr<FakeKernel> kernel) {
  return with_rule(kernel->personality().rule, [&](auto rule) -> std::unique_ptr<Backend> {
    return std::make_unique<ReadyListBackend<decltype(rule)::value>>(std::move(kernel));
  });
}

}  // namespace muxlab::fake
