#include "muxlab/scheduler.hpp"

#include <algorithm>
#include <exception>

#include <fmt/format.h>

#include "muxlab/format.hpp"

namespace muxlab {
namespace {

constexpr Readiness kTrouble = Readiness::read_closed | Readiness::write_closed | Readiness::error;

std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

}  // namespace

Scheduler::Scheduler(Environment& env, std::unique_ptr<Backend> backend)
    : env_(env), backend_(std::move(backend)) {}

Scheduler::~Scheduler() {
  // Registrations go first, while every handle is still open: the programs' frames may close
  // their sockets as they are destroyed.
  for (auto& [h, w] : watches_)
    if (w.registered != Interest::none) (void)backend_->remove(h);
  watches_.clear();
  // Unfinished programs are destroyed with their whole chain of awaited tasks: each frame owns
  // the Task it awaits, so destroying the root frees them all.
  for (RunningProgram& p : programs_)
    if (p.root) p.root.destroy();
}

std::string_view Scheduler::current_program() const {
  return current_ == kNoProgram ? std::string_view("main") : programs_[current_].info.name;
}

Scheduler::ProgramId Scheduler::spawn(std::string name, Task<> program) {
  const ProgramId id = programs_.size();
  programs_.push_back({Program{std::move(name), false, {}, now(), {}}, program.release()});
  make_ready(programs_[id].root, id);
  return id;
}

// --- registrations --------------------------------------------------------------------------

Status Scheduler::sync_registration(Handle h, Watch& w, bool force) {
  Interest wanted = w.callback_interest;
  if (w.reader.coroutine) wanted |= Interest::read;
  if (w.writer.coroutine) wanted |= Interest::write;
  if (wanted == w.registered && (!force || wanted == Interest::none)) return {};
  const auto token = static_cast<std::uint64_t>(h);
  Status s = wanted == Interest::none         ? backend_->remove(h)
             : w.registered == Interest::none ? backend_->add(h, wanted, token, w.trigger)
                                              : backend_->modify(h, wanted, token, w.trigger);
  if (s) w.registered = wanted;
  return s;
}

Status Scheduler::watch(Handle h, Interest interest, std::function<void(Readiness)> on_ready,
                        Trigger trigger) {
  Watch& w = watches_[h];
  const Interest previous_interest = w.callback_interest;
  const Trigger previous_trigger = w.trigger;
  w.callback_interest = interest;
  w.trigger = trigger;
  Status s = sync_registration(h, w, /*force=*/true);
  if (!s) {
    w.callback_interest = previous_interest;
    w.trigger = previous_trigger;
    if (w.registered == Interest::none && !w.reader.coroutine && !w.writer.coroutine)
      watches_.erase(h);
    return s;
  }
  w.callback = std::move(on_ready);
  w.owner = current_;
  return {};
}

Status Scheduler::unwatch(Handle h) {
  auto it = watches_.find(h);
  if (it == watches_.end() || !it->second.callback)
    return Error(Errc::not_registered, fmt::format("scheduler: handle {} is not watched", h));
  Watch& w = it->second;
  w.callback_interest = Interest::none;
  w.callback = nullptr;
  Status s = sync_registration(h, w);
  if (w.registered == Interest::none) watches_.erase(it);
  return s;
}

Status Scheduler::add_waiter(Handle h, Interest interest, Waiter waiter) {
  Watch& w = watches_[h];
  Waiter& slot = interest == Interest::write ? w.writer : w.reader;
  if (slot.coroutine)
    return Error(Errc::already_registered,
                 fmt::format("scheduler: a program already waits on handle {} for {}", h,
                             to_string(interest)));
  slot = waiter;
  Status s = sync_registration(h, w);
  if (!s) {
    slot = Waiter{};
    if (w.registered == Interest::none && !w.callback) watches_.erase(h);
  }
  return s;
}

// --- timers ---------------------------------------------------------------------------------

Scheduler::TimerId Scheduler::after(Duration delay, std::function<void()> fn) {
  const TimerId id = next_timer_++;
  const Time due = now() + delay;
  timers_.emplace(std::pair{due, id}, Timer{std::move(fn), current_});
  timer_due_.emplace(id, due);
  return id;
}

bool Scheduler::cancel(TimerId id) {
  auto it = timer_due_.find(id);
  if (it == timer_due_.end()) return false;
  timers_.erase({it->second, id});
  timer_due_.erase(it);
  return true;
}

void Scheduler::fire_due_timers() {
  const Time t = now();
  while (!timers_.empty() && timers_.begin()->first.first <= t) {
    auto node = timers_.extract(timers_.begin());
    timer_due_.erase(node.key().second);
    const ProgramId saved = std::exchange(current_, node.mapped().owner);
    node.mapped().fn();
    current_ = saved;
  }
}

// --- running coroutines ---------------------------------------------------------------------

void Scheduler::make_ready(std::coroutine_handle<> c, ProgramId program) {
  ready_.emplace_back(c, program);
}

void Scheduler::resume(std::coroutine_handle<> c, ProgramId program) {
  const ProgramId saved = std::exchange(current_, program);
  c.resume();
  if (program != kNoProgram) {
    RunningProgram& p = programs_[program];
    if (p.root && p.root.done()) {
      auto root = std::coroutine_handle<detail::TaskPromise<void>>::from_address(p.root.address());
      if (root.promise().exception) p.info.failure = describe(root.promise().exception);
      p.info.finished = true;
      p.info.ended = now();
      root.destroy();
      p.root = nullptr;
    }
  }
  current_ = saved;
}

void Scheduler::run_ready_queue() {
  // Only what is queued now: a program that yields goes behind the next poll for events.
  for (std::size_t n = ready_.size(); n > 0; --n) {
    auto [c, program] = ready_.front();
    ready_.pop_front();
    resume(c, program);
  }
}

void Scheduler::dispatch(const Event& e) {
  auto it = watches_.find(e.handle);
  if (it == watches_.end()) return;
  Watch& w = it->second;
  const bool trouble = any(e.readiness & kTrouble);
  auto wake = [&](Waiter& waiter, Readiness wanted) {
    if (!waiter.coroutine || (!has(e.readiness, wanted) && !trouble)) return;
    *waiter.result = e.readiness;
    make_ready(waiter.coroutine, waiter.program);
    waiter = Waiter{};
  };
  wake(w.reader, Readiness::readable);
  wake(w.writer, Readiness::writable);
  if (w.callback) {
    const ProgramId saved = std::exchange(current_, w.owner);
    auto callback = w.callback;  // it may unwatch (and so destroy) itself
    callback(e.readiness);
    current_ = saved;
  }
  it = watches_.find(e.handle);
  if (it == watches_.end()) return;
  (void)sync_registration(e.handle, it->second);
  if (it->second.registered == Interest::none && !it->second.callback) watches_.erase(it);
}

bool Scheduler::all_programs_finished() const {
  return std::all_of(programs_.begin(), programs_.end(),
                     [](const RunningProgram& p) { return p.info.finished; });
}

Duration Scheduler::next_timeout(Time deadline) const {
  if (!ready_.empty()) return Duration::zero();
  Time until = deadline;
  if (!timers_.empty()) until = std::min(until, timers_.begin()->first.first);
  if (until == Time::max()) return infinite;
  const Time t = now();
  return until > t ? until - t : Duration::zero();
}

Status Scheduler::run(Duration limit) {
  return run_until([this] { return all_programs_finished(); }, limit);
}

Status Scheduler::run_for(Duration d) {
  const Status ran = run_until([] { return false; }, d);
  return ran.code() == Errc::timed_out ? Status{} : ran;
}

Status Scheduler::run_until(const std::function<bool()>& done, Duration limit) {
  const Time deadline = limit == infinite ? Time::max() : now() + limit;
  for (;;) {
    run_ready_queue();
    if (done()) return {};
    if (now() >= deadline)
      return Error(
          Errc::timed_out,
          fmt::format("scheduler: not done after {} ms",
                      std::chrono::duration_cast<std::chrono::milliseconds>(limit).count()));
    const Duration timeout = next_timeout(deadline);
    if (timeout == infinite && watches_.empty()) {
      std::vector<std::string> waiting;
      for (const RunningProgram& p : programs_)
        if (!p.info.finished) waiting.push_back(p.info.name);
      return Error(Errc::invalid_argument,
                   fmt::format("scheduler: nothing can make progress: no handle is watched, no "
                               "timer is set, and these programs have not finished: {}",
                               fmt::join(waiting, ", ")));
    }
    Result<std::size_t> n = backend_->wait(events_, timeout);
    if (!n) return n.error();
    for (std::size_t i = 0; i < *n; ++i)
      dispatch(events_[i]);
    fire_due_timers();
  }
}

// --- blocking-style and busy-polling socket calls -------------------------------------------

Task<Result<Handle>> Scheduler::accept(Handle listener) {
  for (;;) {
    co_await yield();
    Result<Handle> r = net().accept(listener);
    if (r.code() != Errc::would_block) co_return r;
    Result<Readiness> ready = co_await this->ready(listener, Interest::read);
    if (!ready) co_return ready.error();
  }
}

Task<Status> Scheduler::connect(Handle h, Endpoint to) {
  co_await yield();
  Status started = net().connect(h, to);
  if (started || started.code() != Errc::in_progress) co_return started;
  Result<Readiness> ready = co_await this->ready(h, Interest::write);
  if (!ready) co_return ready.error();
  Result<std::error_code> pending = net().pending_error(h);
  if (!pending) co_return pending.error();
  if (*pending) co_return Error(*pending, fmt::format("connect handle {} to {}", h, to));
  co_return Status{};
}

Task<Result<std::size_t>> Scheduler::recv(Handle h, std::span<std::byte> into) {
  for (;;) {
    co_await yield();
    Result<std::size_t> r = net().recv(h, into);
    if (r.code() != Errc::would_block) co_return r;
    Result<Readiness> ready = co_await this->ready(h, Interest::read);
    if (!ready) co_return ready.error();
  }
}

Task<Status> Scheduler::send_all(Handle h, std::span<const std::byte> data) {
  while (!data.empty()) {
    co_await yield();
    Result<std::size_t> r = net().send(h, data);
    if (r) {
      data = data.subspan(*r);
      continue;
    }
    if (r.code() != Errc::would_block) co_return r.error();
    Result<Readiness> ready = co_await this->ready(h, Interest::write);
    if (!ready) co_return ready.error();
  }
  co_return Status{};
}

Task<Result<Handle>> Scheduler::try_accept(Handle listener) {
  co_await yield();
  co_return net().accept(listener);
}

Task<Status> Scheduler::try_connect(Handle h, Endpoint to) {
  co_await yield();
  co_return net().connect(h, to);
}

Task<Result<std::size_t>> Scheduler::try_recv(Handle h, std::span<std::byte> into) {
  co_await yield();
  co_return net().recv(h, into);
}

Task<Result<std::size_t>> Scheduler::try_send(Handle h, std::span<const std::byte> data) {
  co_await yield();
  co_return net().send(h, data);
}

}  // namespace muxlab
