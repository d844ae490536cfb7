// The program steps, each verb's parse and run side by side: the built-in programs a script
// starts, the time it lets pass, and what it expects of them (output, times, calls, handles).
// Their rows are at the end. docs/scenarios.md is the reference.
#include <algorithm>

#include <fmt/format.h>

#include "muxlab/format.hpp"
#include "muxlab/program.hpp"
#include "scenario_steps.hpp"
#include "scenario_values.hpp"

namespace muxlab::script {
namespace {

// --- sleep DURATION ----------------------------------------------------------------------------

bool parse(StepParser& p, const Words& w, SleepStep& s) {
  return p.need(w, 2) && p.duration(w[1], s.duration) && p.no_more(w, 2);
}

Mismatch run(ScriptRunner& r, const SleepStep& s, const Expected&) {
  const Status slept = r.pause(r.scaled(s.duration));
  if (slept) return {};
  return Difference{"the time to pass", slept.error().message()};
}

// --- start PROGRAM as NAME [key=value ...] -----------------------------------------------------

// The program the script started as `name` on an earlier line, if any.
const ProgramInfo* started_program(const Scenario& scenario, const std::string& name) {
  for (const Step& step : scenario.steps)
    if (const auto* start = std::get_if<StartStep>(&step.args); start && start->name == name)
      return find_program(start->program);
  return nullptr;
}

// A key the program takes, with a value of its kind: a typo or a wrong value is the script's
// mistake, found here rather than when the line runs.
bool check_argument(StepParser& p, const ProgramInfo& info, const Token& pair,
                    const std::string& key, const std::string& value) {
  const ProgramArgument* argument = info.argument(key);
  if (argument == nullptr)
    return p.fail(pair.column,
                  fmt::format("{} takes no argument '{}' (it takes: {})", info.name, key,
                              info.arguments.empty() ? "none" : info.arguments_text()));
  const int value_column = pair.column + static_cast<int>(key.size()) + 1;
  if (argument->kind == ArgumentKind::server) {
    std::vector<std::string> servers;
    for (const Step& step : p.scenario().steps)
      if (const auto* start = std::get_if<StartStep>(&step.args);
          start && find_program(start->program)->is_server())
        servers.push_back(start->name);
    const std::string started =
        servers.empty() ? "none" : fmt::format("{}", fmt::join(servers, ", "));
    const ProgramInfo* named = started_program(p.scenario(), value);
    if (named == nullptr)
      return p.fail(value_column, fmt::format("{}={}: no server named '{}' was started above "
                                              "(servers started: {})",
                                              key, value, value, started));
    if (!named->is_server())
      return p.fail(value_column, fmt::format("{}={}: '{}' runs {}, which is not a server "
                                              "(servers started: {})",
                                              key, value, value, named->name, started));
    return true;
  }
  if (const std::string error = argument_kind_error(argument->kind, value); !error.empty())
    return p.fail(value_column, fmt::format("{}={}: {}", key, value, error));
  return true;
}

bool parse(StepParser& p, const Words& w, StartStep& s) {
  if (!p.need(w, 4)) return false;
  if (!find_program(w[1].text)) {
    std::string known;
    for (const ProgramInfo& info : builtin_programs())
      known += (known.empty() ? "" : ", ") + std::string(info.name);
    return p.fail(w[1].column,
                  fmt::format("no built-in program named '{}' (programs: {})", w[1].text, known));
  }
  s.program = w[1].text;
  if (w[2].text != "as") return p.fail(w[2].column, fmt::format("expected: {}", p.usage()));
  if (!p.new_program(w[3], s.name)) return false;
  const ProgramInfo& info = *find_program(s.program);
  for (std::size_t i = 4; i < w.size(); ++i) {
    const auto eq = w[i].text.find('=');
    if (w[i].quoted || eq == std::string::npos || eq == 0)
      return p.fail(w[i].column, "program arguments are key=value (a quoted value follows '=')");
    const Token& pair = w[i];
    std::string key = pair.text.substr(0, eq);
    std::string value = pair.text.substr(eq + 1);
    // key="quoted value": the tokenizer split the string off as the next token.
    if (value.empty() && i + 1 < w.size() && w[i + 1].quoted &&
        w[i + 1].column == pair.column + static_cast<int>(pair.text.size()))
      value = w[++i].text;
    if (s.arguments.count(key))
      return p.fail(pair.column, fmt::format("argument '{}' given twice", key));
    if (!check_argument(p, info, pair, key, value)) return false;
    s.arguments[key] = value;
  }
  return true;
}

Mismatch run(ScriptRunner& r, const StartStep& s, const Expected&) {
  const ProgramInfo* info = find_program(s.program);
  auto context =
      std::make_unique<ProgramContext>(ProgramContext{r.scheduler(), s.name, {}, r.endpoints()});
  const ProgramArgs args(s.arguments, r.env().is_fake() ? 1.0 : r.options().time_scale);
  Result<Task<>> task = info->make(*context, args);
  if (!task) return Difference{fmt::format("{} to start", s.program), task.error().message()};
  if (const auto unused = args.unused(); !unused.empty())
    return Difference{fmt::format("arguments {} takes: {}", s.program, info->arguments_text()),
                      fmt::format("unknown argument(s): {}", fmt::join(unused, ", "))};
  const Scheduler::ProgramId id = r.scheduler().spawn(s.name, std::move(task).value());
  r.started(s.name, RunningProgram{id, std::move(context)});
  // Let it run up to its first wait, so a server listens (and publishes) before the next step.
  const Status ran = r.run_bounded([] { return true; });
  if (!ran) return Difference{fmt::format("{} to start", s.name), ran.error().message()};
  return r.program_failure(s.name);
}

// --- run until PROGRAM finished [within DURATION] ----------------------------------------------

bool parse(StepParser& p, const Words& w, RunUntilStep& s) {
  const std::string expected = fmt::format("expected: {}", p.usage());
  if (!p.need(w, 4)) return false;
  if (w[1].text != "until") return p.fail(w[1].column, expected);
  if (!p.program_name(w[2], s.program)) return false;
  if (w[3].text != "finished") return p.fail(w[3].column, expected);
  if (w.size() > 4) {
    if (w[4].text != "within") return p.fail(w[4].column, expected);
    if (!p.need(w, 6) || !p.duration(w[5], s.within)) return false;
  }
  return p.no_more(w, 6);
}

Mismatch run(ScriptRunner& r, const RunUntilStep& s, const Expected&) {
  const Scheduler::ProgramId id = r.program(s.program).id;
  const Duration limit = r.deadline(s.within);
  const Status ran = r.run_bounded([&] { return r.scheduler().program(id).finished; }, limit);
  if (!ran)
    return Difference{fmt::format("{} to finish within {}", s.program, duration_text(limit)),
                      ran.error().message()};
  return r.program_failure(s.program);
}

// --- expect ... --------------------------------------------------------------------------------

// "DURATION [±TOLERANCE]" from word i.
bool parse_time(StepParser& p, const Words& w, std::size_t i, TimeBound& out) {
  if (!p.duration(w[i], out.value)) return false;
  if (++i >= w.size()) return true;
  std::string_view t = w[i].text;
  if (t.rfind("±", 0) == 0)
    t.remove_prefix(std::string_view("±").size());
  else if (t.rfind("+-", 0) == 0)
    t.remove_prefix(2);
  else
    return p.fail(w[i].column, "expected a tolerance like ±1ms (or +-1ms)");
  if (!parse_duration(t, out.tolerance))
    return p.fail(w[i].column, fmt::format("'{}' is not a tolerance like ±1ms", w[i].text));
  return p.no_more(w, i + 1, "expect ... DURATION [±TOLERANCE]");
}

// "calls|would_block OP N" or "... OP Nx OTHER" after PROGRAM.
bool parse_calls(StepParser& p, const Words& w, const std::string& program, ExpectStep& s) {
  const bool would_block_only = w[2].text == "would_block";
  Comparison comparison{};
  if (!p.need(w, 5)) return false;
  if (!parse_comparison(w[3].text, comparison))
    return p.fail(w[3].column, "expected a comparison: ==, <=, >=, < or >");
  std::string_view n = w[4].text;
  if (!n.empty() && n.back() == 'x') {
    // "calls >= 100x other": a ratio to another program's count.
    ExpectCallsRatio& ratio = s.what.emplace<ExpectCallsRatio>();
    ratio = {program, would_block_only, comparison, 0, {}};
    if (!parse_number(n.substr(0, n.size() - 1), ratio.factor))
      return p.fail(w[4].column, "expected a factor like 100x");
    return p.need(w, 6) && p.program_name(w[5], ratio.other) && p.no_more(w, 6);
  }
  ExpectCalls& calls = s.what.emplace<ExpectCalls>();
  calls = {program, would_block_only, comparison, 0};
  if (!parse_number(n, calls.count)) return p.fail(w[4].column, "expected a count");
  return p.no_more(w, 5);
}

bool parse(StepParser& p, const Words& w, ExpectStep& s) {
  if (!p.need(w, 3)) return false;
  if (w[1].text == "time") return parse_time(p, w, 2, s.what.emplace<ExpectTime>().time);
  if (w[1].text == "open_handles") {
    if (!parse_number(w[2].text, s.what.emplace<ExpectOpenHandles>().count))
      return p.fail(w[2].column, "expected a number of handles");
    return p.no_more(w, 3);
  }
  std::string program;
  if (!p.program_name(w[1], program)) return false;
  const std::string& what = w[2].text;
  if (what == "output") {
    if (!p.need(w, 4)) return false;
    if (!w[3].quoted) return p.fail(w[3].column, "the expected output is a \"string\"");
    s.what = ExpectOutput{program, w[3].text};
    return p.no_more(w, 4);
  }
  if (what == "elapsed") {
    ExpectElapsed& elapsed = s.what.emplace<ExpectElapsed>(ExpectElapsed{program, {}});
    return p.need(w, 4) && parse_time(p, w, 3, elapsed.elapsed);
  }
  if (what == "finished" || what == "running") {
    s.what = ExpectFinished{program, what == "finished"};
    return p.no_more(w, 3);
  }
  if (what == "failed") {
    if (!p.need(w, 4)) return false;
    if (!w[3].quoted || w[3].text.empty())
      return p.fail(w[3].column, "the expected failure is a \"string\" its message contains");
    s.what = ExpectFailed{program, w[3].text};
    return p.no_more(w, 4);
  }
  if (what == "calls" || what == "would_block") return parse_calls(p, w, program, s);
  return p.fail(w[2].column, fmt::format("unknown expectation '{}': {}", what, p.usage()));
}

std::uint64_t count_calls(const Trace& trace, const std::string& program, bool would_block_only) {
  std::uint64_t n = 0;
  for (const TraceRecord& record : trace.records()) {
    // A server's per-connection programs ("server/1") count as the server's.
    const std::string& owner = record.program;
    const bool mine = owner == program || (owner.size() > program.size() &&
                                           owner.compare(0, program.size(), program) == 0 &&
                                           owner[program.size()] == '/');
    if (!mine || record.call == "ready") continue;
    if (!would_block_only || record.result_class == "would_block") ++n;
  }
  return n;
}

// Two outputs shown where they first differ: whole when both are short, else a few bytes either
// side of that offset from each, so the lines line up to the difference however long they are.
Difference output_difference(std::string_view expected, std::string_view actual) {
  constexpr std::size_t kWhole = 64, kContext = 16;
  const std::size_t offset = static_cast<std::size_t>(
      std::mismatch(expected.begin(), expected.end(), actual.begin(), actual.end()).first -
      expected.begin());
  const bool whole = expected.size() <= kWhole && actual.size() <= kWhole;
  auto around = [&](std::string_view bytes) {
    if (whole) return fmt::format("\"{}\"", printable(bytes));
    const std::size_t from = offset > kContext ? offset - kContext : 0;
    const std::size_t to = std::min(bytes.size(), offset + kContext);
    return fmt::format("{}\"{}\"{}", from > 0 ? "..." : "",
                       printable(bytes.substr(from, to - from)), to < bytes.size() ? "..." : "");
  };
  return Difference{fmt::format("output {} ({} bytes)", around(expected), expected.size()),
                    fmt::format("output {} ({} bytes), differing from byte {}", around(actual),
                                actual.size(), offset)};
}

Mismatch expect(ScriptRunner& r, const ExpectOutput& e) {
  const std::string& output = r.program(e.program).context->output;
  if (output == e.output) return r.program_failure(e.program);
  return output_difference(e.output, output);
}

Mismatch expect(ScriptRunner& r, const ExpectElapsed& e) {
  const Scheduler::Program& p = r.scheduler().program(r.program(e.program).id);
  if (!p.finished) return Difference{"a finished program", "it is still running"};
  return r.judge_time(e.elapsed, p.ended - p.started);
}

Mismatch expect(ScriptRunner& r, const ExpectCalls& e) {
  const std::uint64_t n = count_calls(r.trace(), e.program, e.would_block_only);
  if (compare(n, e.comparison, e.count)) return {};
  return Difference{fmt::format("{} {}", comparison_text(e.comparison), e.count),
                    fmt::format("{} {}", n, e.would_block_only ? "would_block results" : "calls")};
}

Mismatch expect(ScriptRunner& r, const ExpectCallsRatio& e) {
  const std::uint64_t mine = count_calls(r.trace(), e.program, e.would_block_only);
  const std::uint64_t theirs = count_calls(r.trace(), e.other, e.would_block_only);
  if (compare(mine, e.comparison, e.factor * theirs)) return {};
  return Difference{fmt::format("{} {}x {}'s {} = {}", comparison_text(e.comparison), e.factor,
                                e.other, theirs, e.factor * theirs),
                    fmt::format("{}", mine)};
}

Mismatch expect(ScriptRunner& r, const ExpectFinished& e) {
  const Scheduler::Program& p = r.scheduler().program(r.program(e.program).id);
  if (p.finished == e.finished) return r.program_failure(e.program);
  return Difference{e.finished ? "finished" : "running", p.finished ? "finished" : "running"};
}

// The one step a program's failure passes instead of failing.
Mismatch expect(ScriptRunner& r, const ExpectFailed& e) {
  const Scheduler::Program& p = r.scheduler().program(r.program(e.program).id);
  const std::string want = fmt::format("a failure saying \"{}\"", printable(e.message));
  if (!p.finished) return Difference{want, "it is still running"};
  if (p.failure.empty()) return Difference{want, "it finished without failure"};
  if (p.failure.find(e.message) == std::string::npos)
    return Difference{want, fmt::format("failed: {}", p.failure)};
  return {};
}

Mismatch expect(ScriptRunner& r, const ExpectTime& e) {
  return r.judge_time(e.time, r.env().clock().now() - r.started());
}

Mismatch expect(ScriptRunner& r, const ExpectOpenHandles& e) {
  const std::uint64_t n = r.trace().open_handles().size();
  if (n == e.count) return {};
  return Difference{fmt::format("{} open handles", e.count), fmt::format("{} open", n)};
}

Mismatch run(ScriptRunner& r, const ExpectStep& s, const Expected&) {
  return std::visit([&](const auto& what) { return expect(r, what); }, s.what);
}

constexpr Verb kProgramVerbs[] = {
    make_verb<SleepStep, parse, run>("sleep", "sleep DURATION", {}),
    make_verb<StartStep, parse, run>("start", "start PROGRAM as NAME [key=value ...]", {}),
    make_verb<RunUntilStep, parse, run>("run", "run until PROGRAM finished [within DURATION]", {}),
    make_verb<ExpectStep, parse, run>(
        "expect",
        "expect PROGRAM output \"text\" | PROGRAM elapsed DURATION [±TOL] | PROGRAM calls OP N[x "
        "OTHER] | PROGRAM would_block OP N | PROGRAM finished | PROGRAM running | PROGRAM failed "
        "\"text\" | time DURATION [±TOL] | open_handles N",
        {}),
};
static_assert(in_args_order(kProgramVerbs,
                            index_in<SleepStep>(static_cast<const StepArgs*>(nullptr))));

}  // namespace

std::span<const Verb> program_verbs() {
  return kProgramVerbs;
}

}  // namespace muxlab::script
