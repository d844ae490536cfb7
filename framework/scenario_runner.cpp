// Runs a parsed Scenario on one environment. The script's own sockets are driven directly
// through the environment's Net; its waits and the built-in programs share one Scheduler, so a
// script that waits lets every program run (in virtual time on the fake kernel). Each step runs
// through its verb's row (scenario_steps.hpp); here are the run's loop, its bounds, its time and
// the names a script's steps share.
//
// Time: the fake kernel runs durations as written. A real kernel runs them multiplied by
// RunOptions::time_scale, and judges elapsed times with packetdrill's tolerance: the larger of
// the script's own, 4 ms, and 12.5 % of the interval.
#include <algorithm>

#include <fmt/format.h>

#include "muxlab/format.hpp"
#include "muxlab/scenario.hpp"
#include "scenario_steps.hpp"
#include "scenario_values.hpp"

namespace muxlab {
namespace script {
namespace {

constexpr Duration kRealMinimumTolerance = std::chrono::milliseconds(4);

// The trace records a failure shows: the last ones before it, the failing call's among them.
constexpr std::size_t kFailureWindow = 40;

// The run reached one of RunOptions' bounds: the step that was running fails with this message.
struct LimitReached {
  std::string message;
};

// Field by field: GCC 12 at -O3 warns (maybe-uninitialized) on an aggregate temporary here.
void fail(ScenarioRun& run, SourceLocation where, std::string step, std::string expected,
          std::string actual, std::string trace_excerpt) {
  StepFailure& f = run.failure.emplace();
  f.where = std::move(where);
  f.step = std::move(step);
  f.expected = std::move(expected);
  f.actual = std::move(actual);
  f.trace_excerpt = std::move(trace_excerpt);
}

}  // namespace

ScenarioRun ScriptRunner::run(std::string_view env_name) {
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
    Mismatch mismatch;
    std::string limit;
    ++steps_;
    try {
      mismatch = run_step(step);
    } catch (const StepCannotRun& e) {
      mismatch = e.difference;
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
      // A step stops at the call that failed, so the trace's end is the failing point: its last
      // records, with the steps before when this one made few. A step's start can be a million
      // records earlier (a wait that spun for a second), far from what went wrong.
      const std::size_t end = trace_->records().size();
      const std::size_t from = end > kFailureWindow ? end - kFailureWindow : 0;
      fail(result, step.where, step.source, mismatch->expected, mismatch->actual,
           trace_->to_text(from, end));
      result.failure->limit = limit;
      break;
    }
  }
  result.virtual_time = env_->clock().now() - start_;
  clean_up();
  return result;
}

// The step's expected result on this environment (its first `on` line that selects it), then
// its row's run.
Mismatch ScriptRunner::run_step(const Step& step) {
  step_ = &step;
  const Expected* want = &step.expected;
  for (const Alternative& alt : step.alternatives)
    if (std::any_of(alt.environments.begin(), alt.environments.end(),
                    [&](const std::string& s) { return selects_environment(s, *env_); })) {
      want = &alt.expected;
      break;
    }
  return verb_of(step).run(*this, step, *want);
}

// Which bound the run has reached, if any ("the run reached its limit of ..."); empty if none.
std::string ScriptRunner::limit_reached() const {
  if (options_.max_steps != 0 && steps_ > options_.max_steps)
    return fmt::format("the run reached its limit of {} steps (--max-steps)", options_.max_steps);
  if (options_.max_trace_records != 0 && trace_->records().size() > options_.max_trace_records)
    return fmt::format("the run reached its limit of {} trace records (--max-trace-records)",
                       options_.max_trace_records);
  return {};
}

std::string ScriptRunner::time_limit_text() const {
  return fmt::format("the run reached its limit of {} of {}time (--max-time)",
                     script_duration(options_.max_time), env_->is_fake() ? "virtual " : "");
}

// Scheduler::run_for, within RunOptions' bounds.
Status ScriptRunner::pause(Duration d) {
  const Status r = run_bounded([] { return false; }, d);
  return r.code() == Errc::timed_out ? Status{} : r;
}

// Every turn counts as a step, and a `limit` that would take the clock past max_time is cut
// there. A bound reached throws LimitReached after the scheduler has returned (never from inside
// its loop).
Status ScriptRunner::run_bounded(const std::function<bool()>& done, Duration limit) {
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

Duration ScriptRunner::scaled(Duration d) const {
  if (env_->is_fake()) return d;
  return std::chrono::duration_cast<Duration>(d * options_.time_scale);
}

// On a real kernel a time can be late but not early: a timer never fires before its time, while
// a loaded machine delays every wake-up. So the early side keeps packetdrill's tolerance and the
// late side adds late_allowance(). The fake kernel judges exactly what the script says.
Mismatch ScriptRunner::judge_time(const TimeBound& bound, Duration actual) const {
  const Duration expected = scaled(bound.value);
  Duration early = bound.tolerance;
  Duration late = bound.tolerance;
  if (!env_->is_fake()) {
    early = std::max({scaled(bound.tolerance), kRealMinimumTolerance, expected / 8});
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
Duration ScriptRunner::late_allowance(Duration interval) const {
  using std::chrono::milliseconds;
  if (env_->is_fake()) return Duration::zero();
  if (env_->under_wine()) return std::max<Duration>(milliseconds(150), interval / 2);
  return std::max<Duration>(milliseconds(60), interval / 4);
}

Duration ScriptRunner::deadline(Duration within) const {
  const Duration d = scaled(within);
  return d + late_allowance(d);
}

// A socket step names a socket an earlier step made (the parser checks that); if that step's
// call failed, there is no handle to use, and this step cannot run.
ScriptSocket& ScriptRunner::socket_state(const std::string& name) {
  if (auto it = sockets_.find(name); it != sockets_.end()) return it->second;
  const auto failed = failed_creations_.find(name);
  const std::string expected = fmt::format("'{}' to be a socket", name);
  if (failed == failed_creations_.end()) throw StepCannotRun{{expected, "no step made it"}};
  throw StepCannotRun{
      {expected, fmt::format("it has no handle: its {} at line {} failed ({})", failed->second.call,
                             failed->second.line, failed->second.error)}};
}

void ScriptRunner::created(const std::string& name, const Result<Handle>& r) {
  if (r) {
    sockets_[name] = ScriptSocket{*r, true, {}};
    failed_creations_.erase(name);
    return;
  }
  sockets_.erase(name);
  failed_creations_[name] =
      FailedCreation{step_->where.line, std::string(step_->verb()), error_name(r.code())};
}

const RunningProgram& ScriptRunner::program(const std::string& name) const {
  if (auto it = programs_.find(name); it != programs_.end()) return it->second;
  throw StepCannotRun{{fmt::format("'{}' to be a started program", name), "it never started"}};
}

void ScriptRunner::started(const std::string& name, RunningProgram program) {
  programs_[name] = std::move(program);
}

Mismatch ScriptRunner::program_failure(const std::string& name) {
  const Scheduler::Program& p = scheduler_->program(program(name).id);
  if (p.failure.empty()) return {};
  return Difference{fmt::format("{} without failure", name),
                    fmt::format("{} failed: {}", name, p.failure)};
}

// Whatever the script and its programs left open is closed, so a long `muxlab run` over many
// scripts on a real kernel leaks nothing. The programs go first (their sockets close as their
// frames are destroyed, and the trace records it); then what is still open.
void ScriptRunner::clean_up() {
  trace_->set_program_source(nullptr);
  scheduler_.reset();
  for (Handle h : trace_->open_handles())
    (void)net().close(h);
  trace_->set_enabled(false);
}

}  // namespace script

ScenarioRun run_scenario(const Scenario& scenario, std::string_view environment,
                         const RunOptions& options) {
  return script::ScriptRunner(scenario, options).run(environment);
}

}  // namespace muxlab
