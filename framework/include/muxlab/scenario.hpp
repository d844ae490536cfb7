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
#include <variant>
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

enum class Comparison : std::uint8_t { eq, le, ge, lt, gt };

// One struct per verb, holding what its line says; docs/scenarios.md describes each. A socket or
// program is named as the script names it.
struct SocketStep {  // socket NAME
  std::string name;
};
struct ListenStep {  // listen NAME [backlog=N]
  std::string name;
  std::uint64_t backlog = 64;
};
struct ConnectStep {  // connect SOCKET LISTENER|SERVER
  std::string socket;
  std::string target;  // a listening socket, or a server program that published its address
};
struct AcceptStep {  // accept NEW_SOCKET LISTENER
  std::string name;
  std::string listener;
};
struct SendStep {  // send SOCKET "text"|SIZE
  std::string socket;
  std::string payload;             // the bytes as written, or
  std::size_t generated_size = 0;  // a generated payload's size
};
struct FillStep {  // fill SOCKET
  std::string socket;
};
struct RecvStep {  // recv SOCKET [SIZE]
  std::string socket;
  std::size_t buffer_size = 65536;
};
struct DrainStep {  // drain SOCKET [SIZE]
  std::string socket;
  std::size_t buffer_size = 65536;
};
struct ShutdownStep {  // shutdown SOCKET read|write|both
  std::string socket;
  Direction direction = Direction::both;
};
struct CloseStep {  // close SOCKET
  std::string socket;
};
struct AbortStep {  // abort SOCKET
  std::string socket;
};
struct SetBuffersStep {  // set SOCKET sndbuf=SIZE rcvbuf=SIZE
  std::string socket;
  std::optional<std::size_t> send_buffer, receive_buffer;
};
struct FaultStep {     // fault SOCKET|all [KEY=VALUE...]
  std::string socket;  // "all": the kernel-wide plan
  fake::FaultPlan plan;
};
struct KernelStep {  // kernel call_cost=DURATION: a fake-kernel setting, none on a real one
  Duration call_cost{};
};
struct PendingErrorStep {  // pending_error SOCKET
  std::string socket;
};
struct WatchStep {  // watch SOCKET INTEREST [edge] [oneshot]
  std::string socket;
  Interest interest = Interest::none;
  Trigger trigger = Trigger::level;
};
struct WatchManyStep {  // watch_many COUNT
  std::uint64_t count = 0;
};
struct OpenUntilFdStep {  // open_until_fd FD as NAME
  std::uint64_t fd = 0;
  std::string name;
};
struct UnwatchStep {  // unwatch SOCKET
  std::string socket;
};
struct WaitStep {  // wait SOCKET [within DURATION] -> READINESS
  std::string socket;
  Duration within = std::chrono::seconds(1);
};
struct SleepStep {  // sleep DURATION
  Duration duration{};
};
struct StartStep {      // start PROGRAM as NAME [key=value ...]
  std::string program;  // the built-in program's name
  std::string name;
  std::map<std::string, std::string> arguments;
};
struct RunUntilStep {  // run until PROGRAM finished [within DURATION]
  std::string program;
  Duration within = std::chrono::seconds(60);
};

// A time as an expect line states it: "1s ±1ms".
struct TimeBound {
  Duration value{};
  Duration tolerance{};
};
struct ExpectOutput {  // expect PROGRAM output "text"
  std::string program;
  std::string output;
};
struct ExpectElapsed {  // expect PROGRAM elapsed DURATION [±TOLERANCE]
  std::string program;
  TimeBound elapsed;
};
struct ExpectCalls {  // expect PROGRAM calls|would_block OP N
  std::string program;
  bool would_block_only = false;  // would_block: count only the calls that would have blocked
  Comparison comparison = Comparison::eq;
  std::uint64_t count = 0;
};
struct ExpectCallsRatio {  // expect PROGRAM calls|would_block OP Nx OTHER
  std::string program;
  bool would_block_only = false;
  Comparison comparison = Comparison::eq;
  std::uint64_t factor = 0;
  std::string other;
};
struct ExpectFinished {  // expect PROGRAM finished|running
  std::string program;
  bool finished = true;
};
struct ExpectFailed {  // expect PROGRAM failed "text"
  std::string program;
  std::string message;  // what its failure contains
};
struct ExpectTime {  // expect time DURATION [±TOLERANCE]: the clock since the script began
  TimeBound time;
};
struct ExpectOpenHandles {  // expect open_handles N
  std::uint64_t count = 0;
};
struct ExpectStep {
  std::variant<ExpectOutput, ExpectElapsed, ExpectCalls, ExpectCallsRatio, ExpectFinished,
               ExpectFailed, ExpectTime, ExpectOpenHandles>
      what;
};

// A step's arguments, one alternative per verb, in the order of the verb table.
using StepArgs =
    std::variant<SocketStep, ListenStep, ConnectStep, AcceptStep, SendStep, FillStep, RecvStep,
                 DrainStep, ShutdownStep, CloseStep, AbortStep, SetBuffersStep, FaultStep,
                 KernelStep, PendingErrorStep, WatchStep, WatchManyStep, OpenUntilFdStep,
                 UnwatchStep, WaitStep, SleepStep, StartStep, RunUntilStep, ExpectStep>;

struct Step {
  SourceLocation where;
  std::string source;  // the line as written, for failure messages
  StepArgs args;
  Expected expected;
  std::vector<Alternative> alternatives;

  std::string_view verb() const;  // the line's first word: "listen"
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
