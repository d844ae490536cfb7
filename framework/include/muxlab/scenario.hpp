#pragma once
// Scenario scripts: one step a line, in the spirit of packetdrill, readable by anyone who knows
// sockets. docs/scenarios.md is the language reference. A script parses into a Scenario (or a
// located error), and runs on one Environment at a time.
//
//   socket c
//   listen l
//   connect c l            -> in_progress
//   watch c read|write
//   wait c                 -> writable
//   send c "hello"         -> 5
//   start selectors_echo_server as server
//   expect server output "HELLO_SB"
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "muxlab/environment.hpp"
#include "muxlab/fake.hpp"
#include "muxlab/readiness.hpp"
#include "muxlab/trace.hpp"

namespace muxlab {

struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// "file:line:col: error: message", the form compilers use, so editors can jump to it.
struct ScriptError {
  SourceLocation where;
  std::string message;
  std::string to_string() const;
};

// What a step states about its result, after "->".
struct Expected {
  enum class Kind : std::uint8_t {
    ok,         // succeeded (the default when a step states nothing)
    count,      // a byte count or a number of events
    partial,    // a send that took some but not all
    data,       // a recv that returned bytes, any
    text,       // a recv that returned exactly these bytes
    eof,        // a recv that returned 0
    error,      // a portable error, by name
    readiness,  // a readiness set (none = no report)
  };
  Kind kind = Kind::ok;
  std::uint64_t count = 0;
  std::string text;
  std::error_code error;
  Readiness readiness = Readiness::none;

  std::string to_string() const;
};

// "on select, win32-select: readable|writable": what the step states for some environments.
struct Alternative {
  std::vector<std::string> environments;  // env names, mechanism names, "fake", "real"
  Expected expected;
  SourceLocation where;
};

enum class StepKind : std::uint8_t {
  socket,
  listen,
  connect,
  accept,
  send,
  fill,
  recv,
  drain,
  shutdown,
  close,
  abort,
  set_buffers,
  fault,
  kernel,  // kernel call_cost=DURATION: the fake kernel's settings; no effect on a real one
  pending_error,
  watch,
  watch_many,
  open_until_fd,
  unwatch,
  wait,
  sleep,
  start,
  run_until,
  expect_output,
  expect_elapsed,
  expect_calls,
  expect_calls_ratio,
  expect_time,
  expect_open_handles,
  expect_finished,
  expect_failed,
};

enum class Comparison : std::uint8_t { eq, le, ge, lt, gt };

struct Step {
  StepKind kind{};
  SourceLocation where;
  std::string source;  // the line as written, for failure messages

  std::string name;     // the socket or program the step is about
  std::string target;   // connect/accept: the listener or server; ratios: the other program
  std::string program;  // start: the built-in program's name
  std::map<std::string, std::string> arguments;  // start: key=value
  std::string payload;                           // send: the bytes
  std::uint64_t size = 0;  // send: a generated payload's size; recv: buffer size
  Direction direction = Direction::both;
  Interest interest = Interest::none;
  Trigger trigger = Trigger::level;
  std::optional<std::size_t> send_buffer, receive_buffer;
  fake::FaultPlan faults;  // fault: the socket's plan, or the kernel-wide one (name "all")
  Duration duration{};     // sleep; wait/run_until: "within"; expect_elapsed/time: the value;
                           // kernel: call_cost
  Duration tolerance{};    // expect_elapsed / expect_time: "±1ms"
  Comparison comparison = Comparison::eq;
  std::uint64_t number = 0;       // expect_calls / ratio / open handles; open_until_fd: the fd
  bool would_block_only = false;  // expect NAME would_block ...: count only would_block calls

  Expected expected;
  std::vector<Alternative> alternatives;
};

struct Scenario {
  std::string file;
  std::string title;
  // "only on epoll, kqueue": the environments it is about, with the script's stated reason.
  std::vector<std::string> only_on;
  // "skip on wine": environments it does not apply to, with the reason in a comment beside it.
  std::vector<std::string> skip_on;
  std::vector<Step> steps;
};

struct ParseResult {
  std::optional<Scenario> scenario;
  std::vector<ScriptError> errors;  // every error found, in order; empty when scenario is set
};

ParseResult parse_scenario(std::string_view text, std::string file_name);

// Does `selector` ("epoll", "fake", "real", "fake:epoll", a mechanism) name this environment?
bool selects_environment(std::string_view selector, const Environment& env);

struct RunOptions {
  // Real kernels run the script's durations multiplied by this (a 1 s pause becomes 100 ms at
  // 0.1). The fake kernel always runs them as written: its time is virtual.
  double time_scale = 0.1;
  std::uint64_t seed = 1;

  // Bounds of one run, so that a script that would run forever or fill the memory (a client
  // told to make 10^12 requests once took 23 GB) ends as that step's located failure instead.
  // Time is the environment's clock since the script started (virtual on the fake kernel); a
  // step is one script step or one turn of the scheduler while a step runs (every program's
  // progress counts); trace records are the calls and reports recorded. `infinite` or 0: none.
  Duration max_time = std::chrono::hours(1);
  std::uint64_t max_steps = 10'000'000;
  std::uint64_t max_trace_records = 4'000'000;
};

struct StepFailure {
  SourceLocation where;
  std::string step;  // the source line
  std::string expected;
  std::string actual;
  std::string trace_excerpt;  // the trace around the failing step
  // Set when the run stopped at one of RunOptions' bounds: "the run reached its limit of 1000000
  // trace records"; `actual` says the same.
  std::string limit;
};

struct ScenarioRun {
  std::string environment;
  bool skipped = false;  // "only on" excludes this environment, or a step does not apply here
  // Set when a step skipped the rest of the run: "t.scenario:3:1: open_until_fd is unsupported
  // on win32-select (...)". Empty for a skip by "only on" / "skip on".
  std::string skip_reason;
  std::optional<StepFailure> failure;
  Time virtual_time{};  // the environment's clock at the end
  std::shared_ptr<Trace> trace;
  bool passed() const { return !failure.has_value(); }
};

ScenarioRun run_scenario(const Scenario& scenario, std::string_view environment,
                         const RunOptions& options);

}  // namespace muxlab
