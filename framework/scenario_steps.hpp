#pragma once
// The table of verbs, packetdrill's way: one row per verb, with its usage, the results it may
// state, how its line parses and how it runs. Every other list of verbs (the parser's dispatch,
// the "steps: ..." of an unknown step's message, the runner's dispatch) is read from the table.
// A verb's parse and run functions live side by side in its family's file:
// scenario_socket_steps.cpp and scenario_program_steps.cpp. Private to the framework.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <variant>

#include "muxlab/program.hpp"
#include "muxlab/scenario.hpp"
#include "muxlab/scheduler.hpp"
#include "scenario_tokens.hpp"

namespace muxlab::script {

// The names a script has made by the line being parsed.
struct ScriptNames {
  std::set<std::string> sockets;
  std::set<std::string> programs;
  std::set<std::string> watched;  // sockets a watch line registered and no unwatch removed
};

// What a verb's parse function may use: the line's error reporting, the names made so far, and
// its own row's usage text for "missing arguments: ..." and "unexpected ...".
class StepParser {
 public:
  StepParser(LineParser& line, const Scenario& scenario, ScriptNames& names, std::string_view usage)
      : line_(line), scenario_(scenario), names_(names), usage_(usage) {}

  bool fail(int column, std::string message) { return line_.fail(column, std::move(message)); }
  bool need(const Words& w, std::size_t count) { return need(w, count, usage_); }
  bool need(const Words& w, std::size_t count, std::string_view usage) {
    return line_.need(w, count, usage);
  }
  bool no_more(const Words& w, std::size_t used) { return no_more(w, used, usage_); }
  bool no_more(const Words& w, std::size_t used, std::string_view usage) {
    return line_.no_more(w, used, usage);
  }
  std::string_view usage() const { return usage_; }

  // A name this line makes (a socket, or a started program): fresh and well formed.
  bool new_socket(const Token& t, std::string& out) { return new_name(t, names_.sockets, out); }
  bool new_program(const Token& t, std::string& out) { return new_name(t, names_.programs, out); }
  // A name an earlier line made.
  bool socket_name(const Token& t, std::string& out);
  bool program_name(const Token& t, std::string& out);
  bool is_socket(const std::string& name) const { return names_.sockets.count(name) != 0; }
  bool is_program(const std::string& name) const { return names_.programs.count(name) != 0; }
  std::set<std::string>& watched() { return names_.watched; }

  bool duration(const Token& t, Duration& out);
  const Scenario& scenario() const { return scenario_; }

 private:
  bool new_name(const Token& t, std::set<std::string>& names, std::string& out);

  LineParser& line_;
  const Scenario& scenario_;
  ScriptNames& names_;
  std::string_view usage_;
};

// What a step expected and what it got, when the two differ.
struct Difference {
  std::string expected;
  std::string actual;
};
using Mismatch = std::optional<Difference>;

// A step that cannot run at all (its socket has no handle): the runner turns it into that step's
// failure, so no lookup can end the process.
struct StepCannotRun {
  Difference difference;
};
// A step that does not apply to this environment: the rest of the run is skipped, with why.
struct StepUnsupported {
  std::string reason;
};

// What the backend has reported about a watched socket.
struct Watched {
  Readiness last_report = Readiness::none;
  std::uint64_t reports = 0;
};

struct ScriptSocket {
  Handle handle = invalid_handle;
  bool open = false;
  Watched watched;
};

struct RunningProgram {
  Scheduler::ProgramId id = 0;
  std::unique_ptr<ProgramContext> context;
};

// Runs a Scenario on one environment (scenario_runner.cpp); the public part below is what a
// verb's run function may use.
class ScriptRunner {
 public:
  ScriptRunner(const Scenario& scenario, const RunOptions& options)
      : scenario_(scenario), options_(options) {}
  ScenarioRun run(std::string_view env_name);

  Environment& env() { return *env_; }
  Net& net() { return env_->net(); }
  Scheduler& scheduler() { return *scheduler_; }
  const Trace& trace() const { return *trace_; }
  const RunOptions& options() const { return options_; }
  Time started() const { return start_; }

  // The socket a script's name stands for; StepCannotRun when the step that made it failed.
  ScriptSocket& socket_state(const std::string& name);
  Handle socket(const std::string& name) { return socket_state(name).handle; }
  // The running step made `name`, or failed to (then later steps on it cannot run, and say why).
  void created(const std::string& name, const Result<Handle>& r);
  std::map<std::string, Endpoint>& endpoints() { return endpoints_; }

  const RunningProgram& program(const std::string& name) const;
  void started(const std::string& name, RunningProgram program);
  // The program's failure as this step's, if it failed.
  Mismatch program_failure(const std::string& name);

  // Runs every program and wait for `d`: ok when the time passed, else why it could not.
  Status pause(Duration d);
  // The scheduler's run_until within RunOptions' bounds (LimitReached past one).
  Status run_bounded(const std::function<bool()>& done, Duration limit = infinite);
  // The script's durations as this environment runs them (RunOptions::time_scale on real ones).
  Duration scaled(Duration d) const;
  // A `within` bound: as written on the fake kernel; scaled and allowed to run late on a real one.
  Duration deadline(Duration within) const;
  Mismatch judge_time(const TimeBound& bound, Duration actual) const;

 private:
  struct FailedCreation {
    int line = 0;
    std::string call;  // "accept", "socket", "listen", "open_until_fd"
    std::string error;
  };

  Mismatch run_step(const Step& step);
  std::string limit_reached() const;
  std::string time_limit_text() const;
  Duration late_allowance(Duration interval) const;
  void clean_up();

  const Scenario& scenario_;
  const RunOptions& options_;
  std::shared_ptr<Trace> trace_ = std::make_shared<Trace>();
  std::unique_ptr<Environment> env_;
  std::unique_ptr<Scheduler> scheduler_;
  const Step* step_ = nullptr;  // the step running
  Time start_{};
  std::uint64_t steps_ = 0;  // script steps and scheduler turns, against RunOptions::max_steps
  std::map<std::string, ScriptSocket> sockets_;
  std::map<std::string, FailedCreation> failed_creations_;  // names whose making call failed
  std::map<std::string, Endpoint> endpoints_;  // listeners' and servers' addresses, by name
  std::map<std::string, RunningProgram> programs_;
};

// The result forms (Expected::Kind) a verb may state after "->".
class ResultKinds {
 public:
  constexpr ResultKinds() = default;  // none: the step states nothing after "->"
  constexpr ResultKinds(std::initializer_list<Expected::Kind> kinds) {
    for (Expected::Kind k : kinds)
      bits_ |= bit(k);
  }
  constexpr bool has(Expected::Kind k) const { return (bits_ & bit(k)) != 0; }

 private:
  static constexpr std::uint16_t bit(Expected::Kind k) {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(k));
  }
  std::uint16_t bits_ = 0;
};

struct Verb {
  std::string_view name;
  std::string_view usage;
  ResultKinds results;
  // The message for a line that states no "-> result", when the verb needs one.
  std::string_view needs_result;
  std::size_t args_index;  // its alternative in StepArgs
  bool (*parse)(StepParser&, const Words&, Step&);
  Mismatch (*run)(ScriptRunner&, const Step&, const Expected&);
  // Once the whole line parsed, result included: what the verb tells the lines after it.
  bool (*parsed)(StepParser&, const Words&, const Step&);
};

template <class T, class... Ts>
constexpr std::size_t index_in(const std::variant<Ts...>*) {
  std::size_t i = 0;
  (void)((std::is_same_v<T, Ts> ? true : (++i, false)) || ...);
  return i;
}

// A row from a verb's typed functions: parse fills its Args, run reads them.
template <class Args, bool (*Parse)(StepParser&, const Words&, Args&),
          Mismatch (*Run)(ScriptRunner&, const Args&, const Expected&)>
constexpr Verb make_verb(std::string_view name, std::string_view usage, ResultKinds results,
                         bool (*parsed)(StepParser&, const Words&, const Step&) = nullptr,
                         std::string_view needs_result = {}) {
  return Verb{name,
              usage,
              results,
              needs_result,
              index_in<Args>(static_cast<const StepArgs*>(nullptr)),
              [](StepParser& p, const Words& w, Step& step) {
                Args args;
                if (!Parse(p, w, args)) return false;
                step.args = std::move(args);
                return true;
              },
              [](ScriptRunner& r, const Step& step, const Expected& want) {
                return Run(r, std::get<Args>(step.args), want);
              },
              parsed};
}

// Rows in StepArgs' order from `first`, so that a step's row is found by its alternative.
constexpr bool in_args_order(std::span<const Verb> rows, std::size_t first) {
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i].args_index != first + i) return false;
  return true;
}

std::span<const Verb> socket_verbs();
std::span<const Verb> program_verbs();

// The whole table, socket verbs first, in the order "steps: ..." lists them.
std::span<const Verb> verbs();
const Verb* find_verb(std::string_view name);
const Verb& verb_of(const Step& step);

}  // namespace muxlab::script
