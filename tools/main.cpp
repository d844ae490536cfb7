// The muxlab command: run scenario scripts on the environments this build has, list those
// environments and the built-in programs.
//
// Exit codes: 0 all passed, 1 an expectation failed, 2 a malformed script or bad usage.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "muxlab/environment.hpp"
#include "muxlab/format.hpp"
#include "muxlab/program.hpp"
#include "muxlab/scenario.hpp"
#include "muxlab/trace.hpp"

#ifndef _WIN32
#include <pthread.h>
#include <signal.h>
#endif

#ifdef MUXLAB_HAVE_EXEC
#include "../backends/posix/exec_session.hpp"
#endif

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kRunUsage =
    R"(  muxlab run PATH... [--env NAME|fake|real|all]... [--seed N] [--time-scale X]
                     [--trace FILE] [--junit FILE]
                     [--max-time DURATION] [--max-steps N] [--max-trace-records N]
      Runs scenario scripts (a folder runs every *.scenario below it, sorted) on each chosen
      environment. --env defaults to all; repeat it or give a list (--env fake:epoll,poll) to
      choose several. --time-scale (default 0.1) scales the scripts' durations on real kernels;
      the fake kernel runs them as written, in virtual time.
      --seed (default: $MUXLAB_SEED, else 1) seeds the fake kernel. --trace writes each run's
      trace: FILE.json as Chrome trace events (Perfetto), FILE.svg as a timeline, otherwise
      text; with several runs, one file each (FILE's stem.SCRIPT.ENV), each named as written. --junit writes a JUnit XML report.
      Each run stops as a failure of the step it is at when it reaches a bound: --max-time
      (default 60min; the environment's clock, virtual on the fake kernel), --max-steps (default
      10000000: script steps and scheduler turns) or --max-trace-records (default 4000000,
      about 800 MB).
      0 lifts a bound. An option's value may also follow '=': --env=fake.
      Stopped by SIGINT or SIGTERM, it still writes the --junit report of the runs that
      finished, and ends with 130 or 143.
)";

constexpr std::string_view kExecUsage =
    R"(  muxlab exec [--env fake:epoll|fake:poll|fake:select|fake:win32-select] [--seed N]
              [--trace FILE] [--fault NAME=VALUE]... [--timeout DURATION] [--background N]
              [--wall-limit DURATION] -- PROGRAM ARGS... [::: PROGRAM ARGS... | :::& ...]...
      Runs unmodified programs (dynamically linked, Linux) on one fake kernel, in virtual time,
      through the preload shim (docs/exec.md). A program after :::& (or the Nth, with
      --background N) runs in the background and is stopped once every other one has ended.
      Faults: short_send=P, refuse_connect=P, spurious_wakeup=P (chances 0 to 1), jitter=DURATION,
      reset_after=BYTES. --timeout bounds the run in virtual time; --wall-limit (default 60s, 0
      lifts it) the real time one process may run between two calls while the others wait.
      exit status: the first failing foreground program's own, 3 on a deadlock (every process
      waits and nothing is due; each waiting call is printed), 124 at --timeout or
      --wall-limit, 2 bad usage
)";

constexpr std::string_view kOtherUsage =
    R"(  muxlab envs       the environments this build can run, with what each backend reports
  muxlab programs   the built-in programs scripts can start
  muxlab --help     this text; muxlab help COMMAND (or COMMAND --help) only that command's

exit status: 0 all passed, 1 an expectation failed, 2 a malformed script or bad usage
)";

std::string full_usage() {
  return fmt::format("usage:\n{}{}{}", kRunUsage, kExecUsage, kOtherUsage);
}

// `muxlab help run`, `muxlab run --help`: one command's part of the text.
int print_usage_of(std::string_view command) {
  fmt::print("usage:\n{}", command == "run" ? kRunUsage : kExecUsage);
  return 0;
}

int usage_error(std::string_view message) {
  fmt::print(stderr, "muxlab: {}\n\n{}", message, full_usage());
  return 2;
}

int list_environments() {
  for (const auto& name : muxlab::environment_names()) {
    auto env = muxlab::make_environment(name);
    if (!env) {
      fmt::print("{:<20} unavailable: {}\n", name, env.error());
      continue;
    }
    auto backend = (*env)->make_backend();
    if (!backend) {
      fmt::print("{:<20} unavailable: {}\n", name, backend.error());
      continue;
    }
    const muxlab::Capabilities& caps = (*backend)->capabilities();
    std::string limit = "no handle limit";
    if (caps.limit == muxlab::Capabilities::Limit::fd_value)
      limit = fmt::format("fd values below {}", caps.handle_limit);
    else if (caps.limit == muxlab::Capabilities::Limit::count)
      limit = fmt::format("at most {} handles", caps.handle_limit);
    fmt::print(
        "{:<20} {:<5} reports {}; triggers: level{}; {}\n", name,
        (*env)->is_fake() ? "fake" : "real", caps.reports,
        caps.triggers == muxlab::Trigger::level ? "" : "|" + muxlab::to_string(caps.triggers),
        limit);
  }
  return 0;
}

int list_programs() {
  for (const muxlab::ProgramInfo& p : muxlab::builtin_programs())
    fmt::print("{:<28} {}\n{:<28} arguments: {}\n", p.name, p.summary, "",
               p.arguments.empty() ? "none" : p.arguments_text());
  return 0;
}

struct RunCommand {
  std::vector<std::string> paths;
  std::vector<std::string> envs;  // selectors, as given: names, fake, real, all
  std::string trace_file;
  std::string junit_file;
  muxlab::RunOptions options;
};

// Every *.scenario under the given files and folders, folders sorted so runs are repeatable.
bool collect_scripts(const std::vector<std::string>& paths, std::vector<fs::path>& out) {
  for (const std::string& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::recursive_directory_iterator(p, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".scenario")
          found.push_back(entry.path());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      out.emplace_back(p);
    } else {
      fmt::print(stderr, "muxlab: {}: no such file or folder\n", p);
      return false;
    }
  }
  return true;
}

// Does `selector` ("all", a whole name, or a group: fake or real) choose the environment named
// `name`? A mechanism alone names the real one here (`--env epoll`), where a script's
// `on epoll:` also covers fake:epoll.
bool chooses(std::string_view selector, const std::string& name) {
  if (selector == "fake" || selector == "real")
    return muxlab::EnvironmentSelector::parse(selector).value().matches_name(name);
  return selector == "all" || selector == name;
}

// Every environment some selector chooses, in the build's order, each once.
std::vector<std::string> chosen_environments(const std::vector<std::string>& selectors) {
  std::vector<std::string> chosen;
  for (const std::string& name : muxlab::environment_names())
    if (std::any_of(selectors.begin(), selectors.end(),
                    [&](const std::string& s) { return chooses(s, name); }))
      chosen.push_back(name);
  return chosen;
}

// One testcase of the report: a run of a script on an environment, or a malformed script, which
// runs nowhere.
struct Outcome {
  fs::path script;
  std::string environment;  // empty for a malformed script
  enum class Verdict : std::uint8_t { passed, failed, skipped, malformed } verdict{};
  std::string message;  // why it failed or was skipped, one line
  std::string report;   // the failure text, as printed
  double seconds = 0;   // the run's real time
};

// "scenarios.documents.000_delay": the script's folders and name joined by dots, each without
// dots of its own (Jenkins splits a classname at dots), and without "." or "..".
std::string junit_classname(const fs::path& script) {
  std::vector<std::string> parts;
  for (const fs::path& part : script.parent_path().relative_path()) {
    std::string text = part.string();
    if (text.empty() || text == "." || text == "..") continue;
    std::replace(text.begin(), text.end(), '.', '_');
    parts.push_back(std::move(text));
  }
  std::string name = script.stem().string();
  std::replace(name.begin(), name.end(), '.', '_');
  parts.push_back(std::move(name));
  return fmt::format("{}", fmt::join(parts, "."));
}

// The common JUnit schema's shape: testsuites > testsuite > testcase, with failure and skipped.
std::string junit_text(const std::vector<Outcome>& outcomes) {
  using Verdict = Outcome::Verdict;
  std::size_t failures = 0, skipped = 0;
  double seconds = 0;
  std::string cases;
  for (const Outcome& o : outcomes) {
    failures += o.verdict == Verdict::failed || o.verdict == Verdict::malformed ? 1 : 0;
    skipped += o.verdict == Verdict::skipped ? 1 : 0;
    seconds += o.seconds;
    const std::string name = o.environment.empty()
                                 ? o.script.stem().string()
                                 : fmt::format("{} on {}", o.script.stem().string(), o.environment);
    cases += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3f}\"",
                         muxlab::escape_xml(name), muxlab::escape_xml(junit_classname(o.script)),
                         o.seconds);
    if (o.verdict == Verdict::passed) {
      cases += "/>\n";
      continue;
    }
    if (o.verdict == Verdict::skipped)
      cases += fmt::format("><skipped message=\"{}\"/>", muxlab::escape_xml(o.message));
    else
      cases +=
          fmt::format("><failure type=\"{}\" message=\"{}\">{}</failure>",
                      o.verdict == Verdict::malformed ? "malformed script" : "failed expectation",
                      muxlab::escape_xml(o.message), muxlab::escape_xml(o.report));
    cases += "</testcase>\n";
  }
  const std::string counts =
      fmt::format("tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\"",
                  outcomes.size(), failures, skipped, seconds);
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"muxlab\" {}>\n"
      "  <testsuite name=\"muxlab run\" {}>\n{}  </testsuite>\n</testsuites>\n",
      counts, counts, cases);
}

void write_junit(const std::string& file, const std::vector<Outcome>& outcomes) {
  std::ofstream(file, std::ios::binary) << junit_text(outcomes);
}

// The runs that have finished, shared with what stops the command on SIGINT or SIGTERM.
struct FinishedRuns {
  std::mutex mutex;
  std::vector<Outcome> outcomes;
  std::string junit_file;
};

FinishedRuns* g_finished_runs = nullptr;

// A stopped run still writes the report of what finished, then ends as the signal would have.
[[noreturn]] void stop_by_signal(int signal) {
  FinishedRuns& runs = *g_finished_runs;
  const std::lock_guard lock(runs.mutex);  // not while a run is being recorded
  if (!runs.junit_file.empty()) write_junit(runs.junit_file, runs.outcomes);
  std::fflush(stdout);
  fmt::print(stderr, "muxlab: stopped by {} after {} finished run(s){}\n",
             signal == SIGINT ? "SIGINT" : "SIGTERM", runs.outcomes.size(),
             runs.junit_file.empty() ? "" : fmt::format("; {} has them", runs.junit_file));
  std::_Exit(128 + signal);
}

// A signal handler may neither lock nor write a file, so on POSIX a thread of its own takes the
// signals (sigwait) and stops the command as ordinary code; Windows runs a console handler on a
// thread of its own already. The record lives until the process ends, as that thread may.
FinishedRuns& report_finished_runs_when_stopped(const std::string& junit_file) {
  g_finished_runs = new FinishedRuns;
  g_finished_runs->junit_file = junit_file;
#ifdef _WIN32
  std::signal(SIGINT, [](int signal) { stop_by_signal(signal); });
#else
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals] {
    int signal = 0;
    if (sigwait(&signals, &signal) == 0) stop_by_signal(signal);
  }).detach();
#endif
  return *g_finished_runs;
}

// --trace FILE for one run, or FILE's stem + script + environment when there are several.
fs::path trace_target(const std::string& file, const fs::path& script, const std::string& env,
                      bool only_one) {
  fs::path target(file);
  if (only_one) return target;
  std::string safe_env = env;
  std::replace(safe_env.begin(), safe_env.end(), ':', '_');
  return target.parent_path() / fmt::format("{}.{}.{}{}", target.stem().string(),
                                            script.stem().string(), safe_env,
                                            target.extension().string());
}

// Can `file` be written? Tried before any run, so a report that cannot be written is bad usage,
// not a run that ends without it. A file made for the test is removed again.
bool check_writable(std::string_view option, const fs::path& file) {
  std::error_code ec;
  const bool existed = fs::exists(file, ec);
  std::FILE* probe = std::fopen(file.string().c_str(), "a");
  if (probe == nullptr) {
    const int error = errno;
    fmt::print(stderr, "muxlab: {} {}: cannot be written ({})\n", option, file.string(),
               std::strerror(error));
    return false;
  }
  std::fclose(probe);
  if (!existed) fs::remove(file, ec);
  return true;
}

// Writes the run's trace and says which file has it, as its name is made from the script's and
// the environment's when a command runs several.
void write_trace(const std::string& file, const fs::path& script, const std::string& env,
                 bool only_one, const muxlab::Trace& trace) {
  const fs::path target = trace_target(file, script, env, only_one);
  std::ofstream out(target);
  if (target.extension() == ".json")
    out << trace.to_chrome_json();
  else if (target.extension() == ".svg")
    out << trace.to_svg(fmt::format("{} on {}", script.string(), env));
  else
    out << trace.to_text();
  out.close();
  if (out)
    fmt::print("  trace: {}\n", target.string());
  else
    fmt::print(stderr, "muxlab: --trace {}: could not be written\n", target.string());
}

// A word as a POSIX shell reads it: as it is when it is plain, else in single quotes.
std::string shell_word(std::string_view word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("/._-:,=+@%", c) != nullptr;
  });
  if (plain) return std::string(word);
  std::string quoted = "'";
  for (char c : word)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A duration as --max-time reads it, in its largest whole unit; 0 for none.
std::string duration_word(muxlab::Duration d) {
  using namespace std::chrono;
  if (d == muxlab::infinite || d == muxlab::Duration::zero()) return "0";
  if (d % minutes(1) == muxlab::Duration::zero()) return fmt::format("{}min", d / minutes(1));
  if (d % seconds(1) == muxlab::Duration::zero()) return fmt::format("{}s", d / seconds(1));
  if (d % milliseconds(1) == muxlab::Duration::zero())
    return fmt::format("{}ms", d / milliseconds(1));
  if (d % microseconds(1) == muxlab::Duration::zero())
    return fmt::format("{}us", d / microseconds(1));
  return fmt::format("{}ns", d / nanoseconds(1));
}

// The command that runs this one script on this one environment again, with the seed it used
// and any bound or time scale that is not the default, since those change where a run fails.
std::string replay_command(const std::string& script, const std::string& env,
                           const muxlab::RunOptions& options) {
  const muxlab::RunOptions defaults;
  std::string command = fmt::format("muxlab run {} --env {} --seed {}", shell_word(script),
                                    shell_word(env), options.seed);
  if (options.time_scale != defaults.time_scale)
    command += fmt::format(" --time-scale {}", options.time_scale);
  if (options.max_time != defaults.max_time)
    command += fmt::format(" --max-time {}", duration_word(options.max_time));
  if (options.max_steps != defaults.max_steps)
    command += fmt::format(" --max-steps {}", options.max_steps);
  if (options.max_trace_records != defaults.max_trace_records)
    command += fmt::format(" --max-trace-records {}", options.max_trace_records);
  return command;
}

int run_scripts(const RunCommand& command) {
  std::vector<fs::path> scripts;
  if (!collect_scripts(command.paths, scripts)) return 2;
  if (scripts.empty()) return usage_error("no *.scenario files in the given paths");
  for (const std::string& selector : command.envs)
    if (chosen_environments({selector}).empty())
      return usage_error(fmt::format("no environment '{}' in this build (it has: {})", selector,
                                     fmt::join(muxlab::environment_names(), ", ")));
  const std::vector<std::string> envs = chosen_environments(command.envs);
  const bool one_run = scripts.size() * envs.size() == 1;
  if (!command.junit_file.empty() && !check_writable("--junit", command.junit_file)) return 2;
  if (!command.trace_file.empty() &&
      !check_writable("--trace", trace_target(command.trace_file, scripts[0], envs[0], one_run)))
    return 2;

  // Parse everything first, so every error is shown before anything runs. A malformed script
  // runs nowhere and is a failed testcase; the others still run.
  std::vector<muxlab::ParseResult> parsed;
  std::size_t malformed = 0;
  for (const fs::path& script : scripts) {
    std::ifstream in(script, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    parsed.push_back(muxlab::parse_scenario(text.str(), script.string()));
    for (const muxlab::ScriptError& e : parsed.back().errors)
      fmt::print(stderr, "{}\n", e.to_string());
    malformed += parsed.back().scenario ? 0 : 1;
  }

  std::size_t passed = 0, failed = 0, skipped = 0;
  std::vector<std::string> skipped_everywhere;  // scripts none of whose runs ran
  FinishedRuns& finished = report_finished_runs_when_stopped(command.junit_file);
  std::vector<Outcome>& outcomes = finished.outcomes;
  for (std::size_t i = 0; i < scripts.size(); ++i) {
    if (!parsed[i].scenario) {
      const std::lock_guard lock(finished.mutex);
      Outcome& o = outcomes.emplace_back();
      o.script = scripts[i];
      o.verdict = Outcome::Verdict::malformed;
      o.message = parsed[i].errors.front().to_string();
      for (const muxlab::ScriptError& e : parsed[i].errors)
        o.report += e.to_string() + "\n";
      continue;
    }
    const muxlab::Scenario& scenario = *parsed[i].scenario;
    std::size_t ran = 0;
    for (const std::string& env : envs) {
      const auto started = std::chrono::steady_clock::now();
      const muxlab::ScenarioRun run = muxlab::run_scenario(scenario, env, command.options);
      Outcome o{scenario.file, env, Outcome::Verdict::passed, {}, {}, 0};
      o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      // Recorded before it is printed: a run whose line was printed is in a stopped run's report.
      std::unique_lock lock(finished.mutex);
      if (run.skipped) {
        ++skipped;
        o.verdict = Outcome::Verdict::skipped;
        o.message = !run.skip_reason.empty() ? run.skip_reason
                    : scenario.only_on.empty()
                        ? fmt::format("skip on {}", fmt::join(scenario.skip_on, ", "))
                        : fmt::format("only on {}", fmt::join(scenario.only_on, ", "));
        fmt::print("SKIP  {}  {}  ({})\n", scenario.file, env, o.message);
      } else if (run.passed()) {
        ++passed;
        ++ran;
        fmt::print("PASS  {}  {}  ({:.3f} s {})\n", scenario.file, env,
                   std::chrono::duration<double>(run.virtual_time).count(),
                   env.rfind("fake:", 0) == 0 ? "virtual" : "real");
      } else {
        ++failed;
        ++ran;
        const muxlab::StepFailure& f = *run.failure;
        o.verdict = Outcome::Verdict::failed;
        o.message =
            f.limit.empty()
                ? fmt::format("{}:{}:{}: {}: expected {}, actual {}", f.where.file, f.where.line,
                              f.where.column, f.step, f.expected, f.actual)
                : fmt::format("{}:{}:{}: {}", f.where.file, f.where.line, f.where.column, f.limit);
        if (!f.limit.empty())
          o.report = fmt::format("{}:{}:{}: error: {}, on {}\n  at: {}\n  trace at its end:\n{}",
                                 f.where.file, f.where.line, f.where.column, f.limit, env, f.step,
                                 f.trace_excerpt);
        else
          o.report = fmt::format(
              "{}:{}:{}: on {}: {}\n  expected: {}\n  actual:   {}\n  trace around it:\n{}",
              f.where.file, f.where.line, f.where.column, env, f.step, f.expected, f.actual,
              f.trace_excerpt);
        o.report +=
            fmt::format("\n  replay: {}", replay_command(scenario.file, env, command.options));
        fmt::print("FAIL  {}  {}\n{}\n", scenario.file, env, o.report);
      }
      outcomes.push_back(std::move(o));
      lock.unlock();  // a trace of millions of records is written while a signal can stop it
      if (!command.trace_file.empty() && run.trace && !run.skipped)
        write_trace(command.trace_file, scenario.file, env, one_run, *run.trace);
      std::fflush(stdout);
    }
    if (ran == 0) skipped_everywhere.push_back(scenario.file);
  }
  const std::lock_guard lock(finished.mutex);
  if (!command.junit_file.empty()) write_junit(command.junit_file, outcomes);
  fmt::print("scenarios: {} passed, {} failed, {} skipped{}{}\n", passed, failed, skipped,
             malformed ? fmt::format(", {} malformed", malformed) : "",
             skipped_everywhere.empty()
                 ? ""
                 : fmt::format("; every run skipped: {}", fmt::join(skipped_everywhere, ", ")));
  return malformed ? 2 : failed ? 1 : 0;
}

bool parse_whole_number(std::string_view text, std::uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

// "--env=fake" is "--env fake": the option, and its value when it is attached.
struct OptionWord {
  std::string_view name;
  std::optional<std::string_view> attached;
};

OptionWord split_option(std::string_view arg) {
  const auto eq = arg.find('=');
  if (arg.rfind("--", 0) != 0 || eq == std::string_view::npos) return {arg, std::nullopt};
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

int run_command(int argc, char** argv) {
  RunCommand command;
  if (const char* seed = std::getenv("MUXLAB_SEED"); seed && *seed) {
    if (!parse_whole_number(seed, command.options.seed))
      return usage_error(fmt::format("MUXLAB_SEED={} is not a whole number", seed));
  }
  for (int i = 2; i < argc; ++i) {
    const auto [arg, attached] = split_option(argv[i]);
    if (arg == "--help" || arg == "-h") return print_usage_of("run");
    if (arg == "--env" || arg == "--seed" || arg == "--trace" || arg == "--junit" ||
        arg == "--time-scale" || arg == "--max-time" || arg == "--max-steps" ||
        arg == "--max-trace-records") {
      const char* v = attached ? attached->data() : i + 1 < argc ? argv[++i] : nullptr;
      if (!v || !*v) return usage_error(fmt::format("{} needs a value", arg));
      if (arg == "--env") {
        // Each --env adds its comma-separated names.
        for (std::string_view rest = v; !rest.empty();) {
          const std::string_view name = rest.substr(0, rest.find(','));
          if (!name.empty()) command.envs.emplace_back(name);
          rest.remove_prefix(std::min(rest.size(), name.size() + 1));
        }
      }
      if (arg == "--trace") command.trace_file = v;
      if (arg == "--junit") command.junit_file = v;
      if (arg == "--seed" && !parse_whole_number(v, command.options.seed))
        return usage_error(fmt::format("--seed {}: not a whole number", v));
      if (arg == "--max-steps" && !parse_whole_number(v, command.options.max_steps))
        return usage_error(fmt::format("--max-steps {}: not a whole number", v));
      if (arg == "--max-trace-records" && !parse_whole_number(v, command.options.max_trace_records))
        return usage_error(fmt::format("--max-trace-records {}: not a whole number", v));
      if (arg == "--max-time" && !muxlab::parse_duration(v, command.options.max_time))
        return usage_error(
            fmt::format("--max-time {}: not a duration such as 10s or 30min (at most a day)", v));
      if (arg == "--time-scale") {
        char* end = nullptr;
        command.options.time_scale = std::strtod(v, &end);
        if (*end != '\0' || !(command.options.time_scale > 0) || command.options.time_scale > 100)
          return usage_error(fmt::format("--time-scale {}: a number above 0, at most 100", v));
      }
    } else if (arg.rfind("-", 0) == 0 && arg != "-") {
      return usage_error(fmt::format("unknown option '{}'", argv[i]));
    } else {
      command.paths.emplace_back(argv[i]);
    }
  }
  if (command.paths.empty()) return usage_error("run needs at least one script or folder");
  if (command.envs.empty()) command.envs.emplace_back("all");
  return run_scripts(command);
}

#ifdef MUXLAB_HAVE_EXEC
bool parse_chance(std::string_view text, double& out) {
  const std::string copy(text);
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return !copy.empty() && *end == '\0' && out >= 0 && out <= 1;
}

// --fault NAME=VALUE into the plan every socket follows.
bool parse_fault(std::string_view text, muxlab::fake::FaultPlan& plan) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) return false;
  const std::string_view name = text.substr(0, eq), value = text.substr(eq + 1);
  if (name == "short_send") return parse_chance(value, plan.short_send);
  if (name == "refuse_connect") return parse_chance(value, plan.refuse_connect);
  if (name == "spurious_wakeup") return parse_chance(value, plan.spurious_wakeup);
  if (name == "jitter") return muxlab::parse_duration(value, plan.latency_jitter);
  if (name == "reset_after") {
    std::uint64_t bytes = 0;
    if (!parse_whole_number(value, bytes)) return false;
    plan.reset_after_bytes = bytes;
    return true;
  }
  return false;
}

int exec_command(int argc, char** argv) {
  muxlab::exec::ExecOptions options;
  std::vector<std::uint64_t> background;
  int i = 2;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") return print_usage_of("exec");
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg != "--env" && arg != "--seed" && arg != "--trace" && arg != "--fault" &&
        arg != "--timeout" && arg != "--background" && arg != "--wall-limit")
      return usage_error(fmt::format("exec: unknown option '{}' (the programs follow --)", arg));
    if (!v) return usage_error(fmt::format("{} needs a value", arg));
    ++i;
    if (arg == "--env") options.environment = v;
    if (arg == "--trace") options.trace_path = v;
    if (arg == "--seed" && !parse_whole_number(v, options.seed))
      return usage_error(fmt::format("--seed {}: not a whole number", v));
    if (arg == "--fault" && !parse_fault(v, options.faults))
      return usage_error(
          fmt::format("--fault {}: not one of short_send=P, refuse_connect=P, spurious_wakeup=P, "
                      "jitter=DURATION, reset_after=BYTES",
                      v));
    if (arg == "--timeout" && !muxlab::parse_duration(v, options.timeout))
      return usage_error(fmt::format("--timeout {}: not a duration such as 10s", v));
    if (arg == "--wall-limit" && !muxlab::parse_duration(v, options.wall_limit))
      return usage_error(fmt::format("--wall-limit {}: not a duration such as 60s", v));
    if (arg == "--background") {
      std::uint64_t n = 0;
      if (!parse_whole_number(v, n) || n == 0)
        return usage_error(fmt::format("--background {}: the number of a program, from 1", v));
      background.push_back(n);
    }
  }
  std::vector<muxlab::exec::ExecProgram> programs(1);
  for (++i; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == ":::" || arg == ":::&") {
      if (programs.back().argv.empty())
        return usage_error(fmt::format("exec: nothing before {}", arg));
      programs.emplace_back().background = arg == ":::&";
      continue;
    }
    programs.back().argv.emplace_back(arg);
  }
  if (programs.back().argv.empty()) return usage_error("exec needs a program after --");
  for (std::uint64_t n : background) {
    if (n > programs.size())
      return usage_error(fmt::format("--background {}: there are {} programs", n, programs.size()));
    programs[n - 1].background = true;
  }
  options.preload = muxlab::exec::find_preload_library();
  if (options.preload.empty()) {
    fmt::print(stderr,
               "muxlab exec: libmuxlab_preload.so is not beside muxlab nor in ../lib; set "
               "MUXLAB_PRELOAD to its path\n");
    return 2;
  }
  return muxlab::exec::run_exec(options, programs);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "run") return run_command(argc, argv);
#ifdef MUXLAB_HAVE_EXEC
  if (command == "exec") return exec_command(argc, argv);
#endif
  if ((command == "envs" || command == "programs") && argc > 2)
    return usage_error(fmt::format("{} takes no arguments (got '{}')", command, argv[2]));
  if (command == "envs") return list_environments();
  if (command == "programs") return list_programs();
  if (command == "--help" || command == "-h" || (command == "help" && argc == 2)) {
    fmt::print("{}", full_usage());
    return 0;
  }
  if (command == "help") {
    const std::string_view of = argv[2];
    if (of != "run" && of != "exec" && of != "envs" && of != "programs")
      return usage_error(fmt::format("no command '{}' (commands: run, exec, envs, programs)", of));
    if (argc > 3) return usage_error("help takes one command: muxlab help run");
    if (of == "envs" || of == "programs") {
      fmt::print("{}", full_usage());
      return 0;
    }
    return print_usage_of(of);
  }
  return usage_error(command.empty() ? "no command given"
                                     : fmt::format("unknown command '{}'", command));
}
