// libFuzzer target for the scenario runner: every script the parser accepts runs on fake:epoll
// within small bounds (RunOptions: virtual time, steps, trace records), and must end as a pass,
// a skip or a located failure, never a crash, a hang, a leak, undefined behaviour or an
// exception the runner had to catch as its own bug ("internal error"), which traps so that
// libFuzzer saves the input. The fake kernel opens no real sockets: runs are quick and repeatable.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "muxlab/scenario.hpp"

namespace {

constexpr std::string_view kFile = "fuzz.scenario";

[[noreturn]] void violated(std::string_view what, const muxlab::ScenarioRun& run) {
  const muxlab::StepFailure* f = run.failure ? &*run.failure : nullptr;
  // stderr, unbuffered: the message must be out before the trap ends the process.
  std::fprintf(stderr,
               "scenario_run_fuzz: contract broken: %.*s\n  at %d:%d: %s\n  expected: %s\n"
               "  actual:   %s\n",
               static_cast<int>(what.size()), what.data(), f ? f->where.line : 0,
               f ? f->where.column : 0, f ? f->step.c_str() : "", f ? f->expected.c_str() : "",
               f ? f->actual.c_str() : "");
  __builtin_trap();
}

muxlab::RunOptions small_bounds() {
  muxlab::RunOptions options;
  options.max_time = std::chrono::seconds(10);
  options.max_steps = 20'000;
  options.max_trace_records = 20'000;
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const muxlab::ParseResult parsed = muxlab::parse_scenario(text, std::string(kFile));
  if (!parsed.scenario) return -1;  // the parser's target covers malformed scripts
  static const muxlab::RunOptions options = small_bounds();
  const muxlab::ScenarioRun run = muxlab::run_scenario(*parsed.scenario, "fake:epoll", options);
  if (run.environment != "fake:epoll") violated("the run names another environment", run);
  if (run.skipped && run.failure) violated("a run both skipped and failed", run);
  if (!run.failure) return 0;
  const muxlab::StepFailure& f = *run.failure;
  // Every failure is a step's: on a line of the script, with its source and both sides.
  if (f.where.file != kFile || f.where.line < 1) violated("a failure without a step's place", run);
  if (f.step.empty() || f.expected.empty() || f.actual.empty())
    violated("a failure without its step, expected or actual", run);
  if (f.actual.rfind("internal error", 0) == 0)
    violated("an exception escaped a step (the runner caught it as its own bug)", run);
  return 0;
}
