// Runs a parsed Scenario on one environment. The script's own sockets are driven directly
// through the environment's Net; its waits and the built-in programs share one Scheduler, so a
// script that waits lets every program run (in virtual time on the fake kernel).
//
// Time: the fake kernel runs durations as written. A real kernel runs them multiplied by
// RunOptions::time_scale, and judges elapsed times with packetdrill's tolerance: the larger of
// the script's own, 4 ms, and 12.5 % of the interval.
#include <algorithm>
#include <deque>
#include <functional>

#include <fmt/format.h>

#include "muxlab/format.hpp"
#include "muxlab/program.hpp"
#include "muxlab/scenario.hpp"
#include "muxlab/scheduler.hpp"

namespace muxlab {
namespace {

constexpr Duration kRealMinimumTolerance = std::chrono::milliseconds(4);

struct SocketState {
  Handle handle = invalid_handle;
  bool open = false;
  Readiness last_report = Readiness::none;
  std::uint64_t reports = 0;
};

// A step that cannot run at all (its socket has no handle): the runner turns it into that step's
// failure, so no lookup can end the process.
struct StepCannotRun {
  std::string expected;
  std::string actual;
};

// The run reached one of RunOptions' bounds: the step that was running fails with this message.
struct LimitReached {
  std::string message;
};

// A step that does not apply to this environment: the rest of the run is skipped, with why.
struct StepUnsupported {
  std::string reason;
};

struct RunningProgram {
  Scheduler::ProgramId id = 0;
  std::unique_ptr<ProgramContext> context;
};

double ms(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::string duration_text(Duration d) {
  return fmt::format("{:.3f} ms", ms(d));
}

// A bound as a script or the command line writes it: 60min, 10s, 250ms.
std::string script_duration(Duration d) {
  using namespace std::chrono;
  if (d % minutes(1) == Duration::zero()) return fmt::format("{}min", d / minutes(1));
  if (d % seconds(1) == Duration::zero()) return fmt::format("{}s", d / seconds(1));
  if (d % milliseconds(1) == Duration::zero()) return fmt::format("{}ms", d / milliseconds(1));
  return fmt::format("{}us", duration_cast<microseconds>(d).count());
}

// A payload of `size` bytes that shows where a byte was lost or reordered.
std::string generated_payload(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return bytes;
}

std::string printable(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '"')
      out += "\\\"";
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  if (out.size() > 200) out = out.substr(0, 200) + fmt::format("... ({} bytes)", bytes.size());
  return out;
}

// What a step expected and what it got, when the two differ.
struct Difference {
  std::string expected;
  std::string actual;
};
using Mismatch = std::optional<Difference>;

class ScriptRunner {
 public:
  ScriptRunner(const Scenario& scenario, const RunOptions& options)
      : scenario_(scenario), options_(options) {}

  ScenarioRun run(std::string_view env_name) {
    ScenarioRun result;
    result.environment = std::string(env_name);
    result.trace = trace_;
    auto inner = make_environment(env_name, EnvironmentOptions{options_.seed});
    if (!inner) {
      fail(result, {scenario_.file, 0, 0}, "", "an environment", inner.error().message(), "");
      return result;
    }
    auto selects = [&](const std::string& s) { return selects_environment(s, **inner); };
    if ((!scenario_.only_on.empty() &&
         std::none_of(scenario_.only_on.begin(), scenario_.only_on.end(), selects)) ||
        std::any_of(scenario_.skip_on.begin(), scenario_.skip_on.end(), selects)) {
      result.skipped = true;
      return result;
    }
    env_ = make_traced_environment(std::move(inner).value(), trace_);
    auto backend = env_->make_backend();
    if (!backend) {
      fail(result, {scenario_.file, 0, 0}, "", "a backend", backend.error().message(), "");
      return result;
    }
    scheduler_ = std::make_unique<Scheduler>(*env_, std::move(backend).value());
    trace_->set_program_source([this] { return std::string(scheduler_->current_program()); });
    start_ = env_->clock().now();

    for (const Step& step : scenario_.steps) {
      const std::size_t trace_mark = trace_->records().size();
      Mismatch mismatch;
      std::string limit;
      ++steps_;
      try {
        mismatch = execute(step);
      } catch (const StepCannotRun& e) {
        mismatch = Difference{e.expected, e.actual};
      } catch (const LimitReached& e) {
        limit = e.message;
      } catch (const StepUnsupported& e) {
        result.skipped = true;
        result.skip_reason = fmt::format("{}:{}:{}: {}", step.where.file, step.where.line,
                                         step.where.column, e.reason);
        break;
      } catch (const std::exception& e) {  // a runner bug: this script fails, the run goes on
        mismatch = Difference{"the step to run", fmt::format("internal error: {}", e.what())};
      }
      // A step that makes many records itself (watch_many) is over the bound once it is done.
      if (limit.empty() && !mismatch) limit = limit_reached();
      if (!limit.empty()) mismatch = Difference{"the run to stay within its limits", limit};
      if (mismatch) {
        // Past a bound the trace is long: show its end, where the run was going.
        const std::size_t end = trace_->records().size();
        const std::size_t from =
            !limit.empty() ? (end > 40 ? end - 40 : 0) : (trace_mark > 12 ? trace_mark - 12 : 0);
        const std::size_t to = !limit.empty() ? end : std::min(end, trace_mark + 40);
        fail(result, step.where, step.source, mismatch->expected, mismatch->actual,
             trace_->to_text(from, to));
        result.failure->limit = limit;
        break;
      }
    }
    result.virtual_time = env_->clock().now() - start_;
    clean_up();
    return result;
  }

 private:
  // Field by field: GCC 12 at -O3 warns (maybe-uninitialized) on an aggregate temporary here.
  static void fail(ScenarioRun& run, SourceLocation where, std::string step, std::string expected,
                   std::string actual, std::string trace_excerpt) {
    StepFailure& f = run.failure.emplace();
    f.where = std::move(where);
    f.step = std::move(step);
    f.expected = std::move(expected);
    f.actual = std::move(actual);
    f.trace_excerpt = std::move(trace_excerpt);
  }

  // Which bound the run has reached, if any ("the run reached its limit of ..."); empty if none.
  std::string limit_reached() const {
    if (options_.max_steps != 0 && steps_ > options_.max_steps)
      return fmt::format("the run reached its limit of {} steps (--max-steps)", options_.max_steps);
    if (options_.max_trace_records != 0 && trace_->records().size() > options_.max_trace_records)
      return fmt::format("the run reached its limit of {} trace records (--max-trace-records)",
                         options_.max_trace_records);
    return {};
  }

  std::string time_limit_text() const {
    return fmt::format("the run reached its limit of {} of {}time (--max-time)",
                       script_duration(options_.max_time), env_->is_fake() ? "virtual " : "");
  }

  // The scheduler's run_until within RunOptions' bounds: every turn counts as a step, and a
  // `limit` that would take the clock past max_time is cut there. A bound reached throws
  // LimitReached after the scheduler has returned (never from inside its loop).
  // Runs everything for `d`: ok when the time passed, else why it could not.
  Status pause(Duration d) {
    const Status r = run_bounded([] { return false; }, d);
    if (r.code() == Errc::timed_out) return {};
    if (r.ok()) return Error(Errc::other, "the scheduler ended a pause early");
    return r;
  }

  Status run_bounded(const std::function<bool()>& done, Duration limit = infinite) {
    bool cut = false;
    if (options_.max_time != infinite && options_.max_time > Duration::zero()) {
      const Duration used = env_->clock().now() - start_;
      const Duration left = used < options_.max_time ? options_.max_time - used : Duration::zero();
      if (limit == infinite || limit > left) {
        limit = left;
        cut = true;
      }
    }
    bool over = false;
    const Status r = scheduler_->run_until(
        [&] {
          ++steps_;
          over = !limit_reached().empty();
          return over || done();
        },
        limit);
    if (over) throw LimitReached{limit_reached()};
    if (cut && r.code() == Errc::timed_out) throw LimitReached{time_limit_text()};
    return r;
  }

  Duration scaled(Duration d) const {
    if (env_->is_fake()) return d;
    return std::chrono::duration_cast<Duration>(d * options_.time_scale);
  }

  const Expected& expected_for(const Step& step) const {
    for (const Alternative& alt : step.alternatives)
      for (const std::string& selector : alt.environments)
        if (selects_environment(selector, *env_)) return alt.expected;
    return step.expected;
  }

  Net& net() { return env_->net(); }

  // Compares a call that either succeeds or fails with an error.
  static Mismatch judge_status(const Expected& want, const Status& got) {
    if (want.kind == Expected::Kind::ok && got.ok()) return {};
    if (want.kind == Expected::Kind::error && got.code() == want.error) return {};
    return Difference{want.to_string(), got.ok() ? "ok" : got.error().message()};
  }

  template <class T>
  static Status as_status(const Result<T>& r) {
    return r ? Status{} : Status(r.error());
  }

  Mismatch execute(const Step& step) {
    const Expected& want = expected_for(step);
    switch (step.kind) {
      case StepKind::socket: {
        Result<Handle> r = net().socket();
        created(step, r);
        return judge_status(want, as_status(r));
      }
      case StepKind::listen: {
        Result<Handle> r = net().listen(Endpoint{}, static_cast<int>(step.size));
        created(step, r);
        if (r)
          if (auto at = net().local_endpoint(*r)) endpoints_[step.name] = *at;
        return judge_status(want, as_status(r));
      }
      case StepKind::connect: {
        auto it = endpoints_.find(step.target);
        if (it == endpoints_.end())
          return Difference{fmt::format("'{}' to have an address", step.target),
                            "it never listened (a server publishes its address when it starts)"};
        return judge_status(want, net().connect(socket(step.name), it->second));
      }
      case StepKind::accept: {
        Result<Handle> r = net().accept(socket(step.target));
        created(step, r);
        return judge_status(want, as_status(r));
      }
      case StepKind::send:
        return execute_send(step, want);
      case StepKind::recv:
        return execute_recv(step, want);
      case StepKind::fill:
        return execute_fill(step, want);
      case StepKind::drain: {
        std::string buffer(step.size, '\0');
        std::uint64_t total = 0;
        Result<std::size_t> r = 0;
        while ((r = net().recv(socket(step.name), as_writable(buffer))) && *r > 0)
          total += *r;
        if (!r && r.code() != Errc::would_block) return judge_status(want, as_status(r));
        if (want.kind == Expected::Kind::count && total != want.count)
          return Difference{fmt::format("{} bytes", want.count), fmt::format("{} bytes", total)};
        if (want.kind == Expected::Kind::error)
          return Difference{want.to_string(), fmt::format("{} bytes", total)};
        return {};
      }
      case StepKind::shutdown:
        return judge_status(want, net().shutdown(socket(step.name), step.direction));
      case StepKind::close:
      case StepKind::abort: {
        SocketState& s = socket_state(step.name);
        Status r = step.kind == StepKind::close ? net().close(s.handle) : net().abort(s.handle);
        if (r) s.open = false;
        return judge_status(want, r);
      }
      case StepKind::set_buffers: {
        Status r;
        if (step.send_buffer) r = net().set_send_buffer(socket(step.name), *step.send_buffer);
        if (r && step.receive_buffer)
          r = net().set_receive_buffer(socket(step.name), *step.receive_buffer);
        return judge_status(want, r);
      }
      case StepKind::fault: {
        // The parser admits faults only in scripts limited to fake environments.
        fake::KernelControls* kernel = env_->fake_kernel();
        if (kernel == nullptr)
          return Difference{"a fake kernel", fmt::format("{} injects no faults", env_->name())};
        if (step.name == "all") {
          kernel->config().faults = step.faults;
          return {};
        }
        return judge_status(want, kernel->set_faults(socket(step.name), step.faults));
      }
      case StepKind::kernel: {
        // A real kernel's calls take the time they take: the step states a fake-kernel setting.
        if (fake::KernelControls* kernel = env_->fake_kernel())
          kernel->config().system_call_cost = step.duration;
        return {};
      }
      case StepKind::pending_error: {
        Result<std::error_code> r = net().pending_error(socket(step.name));
        if (!r) return judge_status(want, as_status(r));
        if ((want.kind == Expected::Kind::ok && !*r) ||
            (want.kind == Expected::Kind::error && *r == want.error))
          return {};
        return Difference{want.to_string(), *r ? error_name(*r) : "ok"};
      }
      case StepKind::watch: {
        SocketState* state = &socket_state(step.name);
        return judge_status(want, scheduler_->watch(
                                      state->handle, step.interest,
                                      [state](Readiness r) {
                                        state->last_report = r;
                                        ++state->reports;
                                      },
                                      step.trigger));
      }
      case StepKind::watch_many:
        return execute_watch_many(step, want);
      case StepKind::open_until_fd:
        return execute_open_until_fd(step, want);
      case StepKind::unwatch:
        return judge_status(want, scheduler_->unwatch(socket(step.name)));
      case StepKind::wait:
        return execute_wait(step, want);
      case StepKind::sleep: {
        const Status r = pause(scaled(step.duration));
        if (r) return {};
        return Difference{"the time to pass", r.error().message()};
      }
      case StepKind::start:
        return execute_start(step);
      case StepKind::run_until: {
        const RunningProgram& p = program(step.name);
        const Status r = run_bounded([&] { return scheduler_->program(p.id).finished; },
                                     deadline(step.duration));
        if (!r)
          return Difference{fmt::format("{} to finish within {}", step.name,
                                        duration_text(deadline(step.duration))),
                            r.error().message()};
        return program_failure(step.name);
      }
      case StepKind::expect_output: {
        const std::string& output = program(step.name).context->output;
        if (output == step.payload) return program_failure(step.name);
        return Difference{fmt::format("output \"{}\"", printable(step.payload)),
                          fmt::format("output \"{}\"", printable(output))};
      }
      case StepKind::expect_finished: {
        const Scheduler::Program& p = scheduler_->program(program(step.name).id);
        if (p.finished == (step.number == 1)) return program_failure(step.name);
        return Difference{step.number ? "finished" : "running",
                          p.finished ? "finished" : "running"};
      }
      case StepKind::expect_failed: {
        // The one step a program's failure passes instead of failing.
        const Scheduler::Program& p = scheduler_->program(program(step.name).id);
        const std::string want = fmt::format("a failure saying \"{}\"", printable(step.payload));
        if (!p.finished) return Difference{want, "it is still running"};
        if (p.failure.empty()) return Difference{want, "it finished without failure"};
        if (p.failure.find(step.payload) == std::string::npos)
          return Difference{want, fmt::format("failed: {}", p.failure)};
        return {};
      }
      case StepKind::expect_elapsed: {
        const Scheduler::Program& p = scheduler_->program(program(step.name).id);
        if (!p.finished) return Difference{"a finished program", "it is still running"};
        return judge_time(step, p.ended - p.started);
      }
      case StepKind::expect_time:
        return judge_time(step, env_->clock().now() - start_);
      case StepKind::expect_calls: {
        const std::uint64_t n = count_calls(step.name, step.would_block_only);
        if (compare(n, step.comparison, step.number)) return {};
        return Difference{
            fmt::format("{} {}", comparison_text(step.comparison), step.number),
            fmt::format("{} {}", n, step.would_block_only ? "would_block results" : "calls")};
      }
      case StepKind::expect_calls_ratio: {
        const std::uint64_t mine = count_calls(step.name, step.would_block_only);
        const std::uint64_t theirs = count_calls(step.target, step.would_block_only);
        if (compare(mine, step.comparison, step.number * theirs)) return {};
        return Difference{fmt::format("{} {}x {}'s {} = {}", comparison_text(step.comparison),
                                      step.number, step.target, theirs, step.number * theirs),
                          fmt::format("{}", mine)};
      }
      case StepKind::expect_open_handles: {
        const std::uint64_t n = trace_->open_handles().size();
        if (n == step.number) return {};
        return Difference{fmt::format("{} open handles", step.number), fmt::format("{} open", n)};
      }
    }
    return Difference{"a known step", "an unknown one"};
  }

  // A socket step names a socket an earlier step made (the parser checks that); if that step's
  // call failed, there is no handle to use, and this step cannot run.
  SocketState& socket_state(const std::string& name) {
    if (auto it = sockets_.find(name); it != sockets_.end()) return it->second;
    const auto failed = failed_creations_.find(name);
    if (failed == failed_creations_.end())
      throw StepCannotRun{fmt::format("'{}' to be a socket", name), "no step made it"};
    throw StepCannotRun{
        fmt::format("'{}' to be a socket", name),
        fmt::format("it has no handle: its {} at line {} failed ({})", failed->second.call,
                    failed->second.line, failed->second.error)};
  }
  Handle socket(const std::string& name) { return socket_state(name).handle; }

  void created(const Step& step, const Result<Handle>& r) {
    if (r) {
      sockets_[step.name] = SocketState{*r, true};
      failed_creations_.erase(step.name);
      return;
    }
    sockets_.erase(step.name);
    failed_creations_[step.name] =
        FailedCreation{step.where.line,
                       step.kind == StepKind::accept          ? "accept"
                       : step.kind == StepKind::listen        ? "listen"
                       : step.kind == StepKind::open_until_fd ? "open_until_fd"
                                                              : "socket",
                       error_name(r.code())};
  }

  const RunningProgram& program(const std::string& name) const {
    if (auto it = programs_.find(name); it != programs_.end()) return it->second;
    throw StepCannotRun{fmt::format("'{}' to be a started program", name), "it never started"};
  }

  static std::span<std::byte> as_writable(std::string& s) {
    return {reinterpret_cast<std::byte*>(s.data()), s.size()};
  }

  Mismatch execute_send(const Step& step, const Expected& want) {
    const std::string data = step.payload.empty() ? generated_payload(step.size) : step.payload;
    Result<std::size_t> r = net().send(socket(step.name), as_bytes(data));
    if (!r || want.kind == Expected::Kind::error) return judge_status(want, as_status(r));
    using Kind = Expected::Kind;
    const bool ok = (want.kind == Kind::ok && *r == data.size()) ||
                    (want.kind == Kind::count && *r == want.count) ||
                    (want.kind == Kind::partial && *r > 0 && *r < data.size());
    if (ok) return {};
    return Difference{want.to_string(), fmt::format("{} of {} bytes", *r, data.size())};
  }

  // Sends until the kernel takes no more. Loopback goes on moving bytes into the peer's receive
  // buffer for a moment after the first would_block, so "full" means: a pause changed nothing.
  Mismatch execute_fill(const Step& step, const Expected& want) {
    const std::string chunk = generated_payload(64 * 1024);
    std::uint64_t total = 0;
    for (int round = 0; round < 1000; ++round) {
      std::uint64_t this_round = 0;
      Result<std::size_t> r = 0;
      while ((r = net().send(socket(step.name), as_bytes(chunk))))
        this_round += *r;
      if (r.code() != Errc::would_block) return judge_status(want, as_status(r));
      total += this_round;
      if (round > 0 && this_round == 0) {
        if (want.kind == Expected::Kind::count && want.count != total)
          return Difference{fmt::format("{} bytes", want.count), fmt::format("{} bytes", total)};
        if (want.kind == Expected::Kind::error)
          return Difference{want.to_string(), fmt::format("{} bytes", total)};
        return {};
      }
      if (const Status paused = pause(scaled(std::chrono::milliseconds(20))); !paused)
        return Difference{"a pause", paused.error().message()};
    }
    return Difference{"the send buffer to fill", fmt::format("still taking bytes after {}", total)};
  }

  // Opens `number` sockets and watches each for read: how many handles a backend takes, and
  // what it says about the first one it refuses.
  Mismatch execute_watch_many(const Step& step, const Expected& want) {
    for (std::uint64_t i = 1; i <= step.number; ++i) {
      Result<Handle> h = net().socket();
      if (!h) return judge_status(want, as_status(h));
      Status s = scheduler_->watch(*h, Interest::read, [](Readiness) {});
      if (s) continue;
      if (want.kind == Expected::Kind::error && s.code() == want.error) return {};
      return Difference{want.to_string(), fmt::format("socket {} of {} (handle {}): {}", i,
                                                      step.number, *h, s.error().message())};
    }
    return judge_status(want, Status{});
  }

  // Opens sockets until one gets handle number step.number and names that one; the others stay
  // open, holding the numbers below it. POSIX gives the lowest free number, so a socket above it
  // means the number is taken. Windows' SOCKETs are not small integers: there the step does not
  // apply, and the rest of the run is skipped (select's limit there is a count: watch_many).
  Mismatch execute_open_until_fd(const Step& step, const Expected& want) {
    if (env_->mechanism() == "win32-select")
      throw StepUnsupported{fmt::format(
          "open_until_fd is unsupported on {}: a Windows SOCKET is not a small integer, so no "
          "handle number can be aimed at (its select limit is a count: watch_many)",
          env_->name())};
    for (std::uint64_t opened = 1;; ++opened) {
      Result<Handle> h = net().socket();
      if (!h) {
        created(step, h);
        if (want.kind == Expected::Kind::error && h.code() == want.error) return {};
        return Difference{want.to_string(), fmt::format("socket {} on the way to handle {}: {}",
                                                        opened, step.number, h.error().message())};
      }
      const auto number = static_cast<std::uint64_t>(*h);
      if (number == step.number) {
        created(step, h);
        return judge_status(want, Status{});
      }
      if (number > step.number)
        return Difference{fmt::format("a socket with handle {}", step.number),
                          fmt::format("handle {} is taken: socket {} got handle {}", step.number,
                                      opened, number)};
    }
  }

  Mismatch execute_recv(const Step& step, const Expected& want) {
    std::string buffer(step.size, '\0');
    Result<std::size_t> r = net().recv(socket(step.name), as_writable(buffer));
    if (!r || want.kind == Expected::Kind::error) return judge_status(want, as_status(r));
    buffer.resize(*r);
    using Kind = Expected::Kind;
    const bool ok = (want.kind == Kind::eof && *r == 0) || (want.kind == Kind::data && *r > 0) ||
                    (want.kind == Kind::count && *r == want.count) ||
                    (want.kind == Kind::text && buffer == want.text);
    if (ok) return {};
    return Difference{want.to_string(), *r == 0 ? "eof" : fmt::format("\"{}\"", printable(buffer))};
  }

  // Runs everything until the socket's reports settle on the expected set ("none": until the
  // time passes without a report). Transient states on the way are allowed; the last seen one
  // is what a mismatch shows.
  Mismatch execute_wait(const Step& step, const Expected& want) {
    SocketState& s = socket_state(step.name);
    s.last_report = Readiness::none;
    const std::uint64_t reports_before = s.reports;
    const Duration limit = scaled(step.duration);
    if (want.kind == Expected::Kind::readiness && want.readiness == Readiness::none) {
      const Status r = run_bounded([&] { return s.reports != reports_before; }, limit);
      if (r.code() == Errc::timed_out) return {};
      if (!r) return Difference{"none", r.error().message()};
      return Difference{
          "none", fmt::format("{} (reported within {})", s.last_report, duration_text(limit))};
    }
    if (want.kind == Expected::Kind::error) {
      // The wait itself fails (select with a closed handle in its set).
      const Status r = run_bounded([] { return false; }, limit);
      if (r.code() == want.error) return {};
      return Difference{want.to_string(),
                        r.code() == Errc::timed_out ? "the wait succeeded" : r.error().message()};
    }
    const Status r = run_bounded(
        [&] { return s.reports != reports_before && s.last_report == want.readiness; }, limit);
    if (r) return {};
    if (r.code() != Errc::timed_out) return Difference{want.to_string(), r.error().message()};
    return Difference{want.to_string(),
                      s.reports == reports_before
                          ? fmt::format("no report within {}", duration_text(limit))
                          : to_string(s.last_report)};
  }

  Mismatch execute_start(const Step& step) {
    const ProgramInfo* info = find_program(step.program);
    auto context =
        std::make_unique<ProgramContext>(ProgramContext{*scheduler_, step.name, {}, endpoints_});
    const ProgramArgs args(step.arguments, env_->is_fake() ? 1.0 : options_.time_scale);
    Result<Task<>> task = info->make(*context, args);
    if (!task) return Difference{fmt::format("{} to start", step.program), task.error().message()};
    if (const auto unused = args.unused(); !unused.empty())
      return Difference{fmt::format("arguments {} takes: {}", step.program, info->arguments),
                        fmt::format("unknown argument(s): {}", fmt::join(unused, ", "))};
    const Scheduler::ProgramId id = scheduler_->spawn(step.name, std::move(task).value());
    programs_[step.name] = RunningProgram{id, std::move(context)};
    // Let it run up to its first wait, so a server listens (and publishes) before the next step.
    const Status r = run_bounded([] { return true; });
    if (!r) return Difference{fmt::format("{} to start", step.name), r.error().message()};
    return program_failure(step.name);
  }

  Mismatch program_failure(const std::string& name) {
    const Scheduler::Program& p = scheduler_->program(program(name).id);
    if (p.failure.empty()) return {};
    return Difference{fmt::format("{} without failure", name),
                      fmt::format("{} failed: {}", name, p.failure)};
  }

  // On a real kernel a time can be late but not early: a timer never fires before its time, while
  // a loaded machine delays every wake-up. So the early side keeps packetdrill's tolerance and the
  // late side adds late_allowance(). The fake kernel judges exactly what the script says.
  Mismatch judge_time(const Step& step, Duration actual) {
    const Duration expected = scaled(step.duration);
    Duration early = step.tolerance;
    Duration late = step.tolerance;
    if (!env_->is_fake()) {
      early = std::max({scaled(step.tolerance), kRealMinimumTolerance, expected / 8});
      late = early + late_allowance(expected);
    }
    if (actual >= expected - early && actual <= expected + late) return {};
    const std::string window =
        early == late ? fmt::format("± {}", duration_text(early))
                      : fmt::format("- {} + {}", duration_text(early), duration_text(late));
    return Difference{fmt::format("{} {}", duration_text(expected), window), duration_text(actual)};
  }

  // The longest a deadline or a time may run late on a real kernel: below one more pause at the
  // default --time-scale (100 ms). Beside two busy loops on this project's 2-core machine, native
  // runs of the documents' flows were at most 24 ms late, Wine's up to 132 ms (every socket call
  // goes through wineserver), so Wine gets more, still below the two pauses that tell a
  // serialising client from an overlapping one (docs/scenarios.md has the figures).
  Duration late_allowance(Duration interval) const {
    using std::chrono::milliseconds;
    if (env_->is_fake()) return Duration::zero();
    if (env_->under_wine()) return std::max<Duration>(milliseconds(150), interval / 2);
    return std::max<Duration>(milliseconds(60), interval / 4);
  }

  // A `within` bound for running: as written on the fake kernel; scaled and allowed to run late
  // on a real one.
  Duration deadline(Duration within) const {
    const Duration d = scaled(within);
    return d + late_allowance(d);
  }

  std::uint64_t count_calls(const std::string& program, bool would_block_only) const {
    std::uint64_t n = 0;
    for (const TraceRecord& r : trace_->records()) {
      // A server's per-connection programs ("server/1") count as the server's.
      const bool mine =
          r.program == program ||
          (r.program.size() > program.size() &&
           r.program.compare(0, program.size(), program) == 0 && r.program[program.size()] == '/');
      if (!mine || r.call == "ready") continue;
      if (!would_block_only || r.result_class == "would_block") ++n;
    }
    return n;
  }

  static bool compare(std::uint64_t a, Comparison c, std::uint64_t b) {
    switch (c) {
      case Comparison::eq:
        return a == b;
      case Comparison::le:
        return a <= b;
      case Comparison::ge:
        return a >= b;
      case Comparison::lt:
        return a < b;
      case Comparison::gt:
        return a > b;
    }
    return false;
  }

  static std::string_view comparison_text(Comparison c) {
    switch (c) {
      case Comparison::eq:
        return "==";
      case Comparison::le:
        return "<=";
      case Comparison::ge:
        return ">=";
      case Comparison::lt:
        return "<";
      case Comparison::gt:
        return ">";
    }
    return "?";
  }

  // Whatever the script and its programs left open is closed, so a long `muxlab run` over many
  // scripts on a real kernel leaks nothing. The programs go first (their sockets close as their
  // frames are destroyed, and the trace records it); then what is still open.
  void clean_up() {
    trace_->set_program_source(nullptr);
    scheduler_.reset();
    for (Handle h : trace_->open_handles())
      (void)net().close(h);
    trace_->set_enabled(false);
  }

  const Scenario& scenario_;
  const RunOptions& options_;
  std::shared_ptr<Trace> trace_ = std::make_shared<Trace>();
  std::unique_ptr<Environment> env_;
  std::unique_ptr<Scheduler> scheduler_;
  Time start_{};
  std::uint64_t steps_ = 0;  // script steps and scheduler turns, against RunOptions::max_steps
  std::map<std::string, SocketState> sockets_;
  struct FailedCreation {
    int line = 0;
    std::string call;  // "accept", "socket", "listen"
    std::string error;
  };
  std::map<std::string, FailedCreation> failed_creations_;  // names whose making call failed
  std::map<std::string, Endpoint> endpoints_;  // listeners' and servers' addresses, by name
  std::map<std::string, RunningProgram> programs_;
};

}  // namespace

ScenarioRun run_scenario(const Scenario& scenario, std::string_view environment,
                         const RunOptions& options) {
  return ScriptRunner(scenario, options).run(environment);
}

}  // namespace muxlab
