// The scenario runner on the fake kernel: the bounds that end a run (RunOptions), and steps
// whose effect only a run shows.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "muxlab/scenario.hpp"

namespace muxlab {
namespace {

ScenarioRun run_on(std::string_view environment, std::string_view text,
                   const RunOptions& options = {}) {
  ParseResult parsed = parse_scenario(text, "t.scenario");
  for (const ScriptError& e : parsed.errors)
    ADD_FAILURE() << e.to_string();
  if (!parsed.scenario) return {};
  return run_scenario(*parsed.scenario, environment, options);
}

ScenarioRun run_on_fake(std::string_view text, const RunOptions& options = {}) {
  return run_on("fake:epoll", text, options);
}

// A client told to make 10^12 requests: without bounds it runs for days and fills the memory.
constexpr std::string_view kEndless = R"(start delay_http_server as server delay=0
start blocking_http_client as client server=server requests=1000000000000
run until client finished within 1440min
)";

TEST(ScenarioRunnerBounds, TraceRecordsEndTheRunAtTheStep) {
  RunOptions options;
  options.max_trace_records = 5000;
  const ScenarioRun run = run_on_fake(kEndless, options);
  ASSERT_TRUE(run.failure.has_value());
  EXPECT_EQ(run.failure->where.line, 3);
  EXPECT_EQ(run.failure->where.column, 1);
  EXPECT_EQ(run.failure->limit,
            "the run reached its limit of 5000 trace records (--max-trace-records)");
  EXPECT_EQ(run.failure->actual, run.failure->limit);
  // The check runs every scheduler turn, so the trace stops just past the bound.
  EXPECT_LT(run.trace->records().size(), 5100u);
}

TEST(ScenarioRunnerBounds, StepsEndTheRun) {
  RunOptions options;
  options.max_steps = 300;
  const ScenarioRun run = run_on_fake(kEndless, options);
  ASSERT_TRUE(run.failure.has_value());
  EXPECT_EQ(run.failure->limit, "the run reached its limit of 300 steps (--max-steps)");
}

TEST(ScenarioRunnerBounds, TimeEndsTheRunAtExactlyTheBound) {
  RunOptions options;
  options.max_time = std::chrono::milliseconds(250);
  const ScenarioRun run = run_on_fake("sleep 100ms\nsleep 1s\n", options);
  ASSERT_TRUE(run.failure.has_value());
  EXPECT_EQ(run.failure->where.line, 2);
  EXPECT_EQ(run.failure->limit, "the run reached its limit of 250ms of virtual time (--max-time)");
  // The bound cuts the sleep's deadline; the last wait call's 1 us cost is past it.
  EXPECT_GE(run.virtual_time, std::chrono::milliseconds(250));
  EXPECT_LT(run.virtual_time, std::chrono::microseconds(250'010));
}

TEST(ScenarioRunnerBounds, AStepThatEndsAtTheBoundPasses) {
  RunOptions options;
  options.max_time = std::chrono::milliseconds(250);
  EXPECT_TRUE(run_on_fake("sleep 250ms\n", options).passed());
}

TEST(ScenarioRunnerBounds, ZeroLiftsABound) {
  RunOptions options;
  options.max_time = Duration::zero();
  options.max_steps = 0;
  options.max_trace_records = 0;
  EXPECT_TRUE(run_on_fake("sleep 1440min\nsleep 1440min\n", options).passed());
}

// 200 requests one after another, each answered after 10 ms: 2000 ms of pauses, plus the fake
// kernel's 1 us for every call the two programs make (2005.801 ms with the default cost).
std::string sequential_requests(std::string_view kernel_step) {
  return fmt::format(R"({}
start delay_http_server as server delay=10ms
start blocking_http_client as client server=server requests=200
run until client finished within 10s
expect client elapsed 2000ms
)",
                     kernel_step);
}

TEST(ScenarioRunnerKernel, CallCostZeroMakesTimingsExact) {
  EXPECT_TRUE(run_on_fake(sequential_requests("kernel call_cost=0")).passed());
}

TEST(ScenarioRunnerKernel, TheDefaultCallCostAddsUp) {
  const ScenarioRun run = run_on_fake(sequential_requests("# the default cost"));
  ASSERT_TRUE(run.failure.has_value());
  EXPECT_EQ(run.failure->where.line, 5);
  EXPECT_EQ(run.failure->expected, "2000.000 ms ± 0.000 ms");
  EXPECT_EQ(run.failure->actual, "2005.801 ms");
}

TEST(ScenarioRunnerKernel, CallCostSetsWhatEachCallTakes) {
  // Two socket calls at 1 ms each; nothing else runs.
  EXPECT_TRUE(run_on_fake(R"(kernel call_cost=1ms
socket c
socket d
expect time 2ms
)")
                  .passed());
}

TEST(ScenarioRunnerOpenUntilFd, NamesTheSocketWithThatNumber) {
  // fake:select refuses handle values from FD_SETSIZE (1024) on; fake:epoll takes them.
  constexpr std::string_view script = R"(open_until_fd 1023 as last
open_until_fd 1024 as past
watch last read
watch past read -> ok
  on select: too_many_handles
)";
  EXPECT_TRUE(run_on("fake:select", script).passed());
  EXPECT_TRUE(run_on("fake:epoll", script).passed());
  const ScenarioRun wrong = run_on("fake:select", "open_until_fd 1024 as past\nwatch past read\n");
  ASSERT_TRUE(wrong.failure.has_value());
  EXPECT_EQ(wrong.failure->where.line, 2);
  EXPECT_EQ(wrong.failure->actual.rfind("too_many_handles", 0), 0u) << wrong.failure->actual;
}

TEST(ScenarioRunnerOpenUntilFd, ATakenNumberIsTheStepsFailure) {
  const ScenarioRun run = run_on_fake("open_until_fd 10 as a\nopen_until_fd 10 as b\n");
  ASSERT_TRUE(run.failure.has_value());
  EXPECT_EQ(run.failure->where.line, 2);
  EXPECT_EQ(run.failure->actual, "handle 10 is taken: socket 1 got handle 11");
}

TEST(ScenarioRunnerOpenUntilFd, TheFileLimitIsTheStepsResult) {
  // The fake kernel's open-file limit is 20000: handle 20000 is never given.
  EXPECT_TRUE(run_on_fake("open_until_fd 20000 as s -> too_many_handles\n").passed());
  const ScenarioRun run = run_on_fake("open_until_fd 20000 as s\nwatch s read\n");
  ASSERT_TRUE(run.failure.has_value());
  EXPECT_EQ(run.failure->where.line, 1);
}

TEST(ScenarioRunnerOpenUntilFd, OnWin32SelectTheRunIsSkippedWhereTheStepIs) {
  const ScenarioRun run = run_on("fake:win32-select", "socket c\nopen_until_fd 1024 as s\n");
  EXPECT_TRUE(run.skipped);
  EXPECT_FALSE(run.failure.has_value());
  EXPECT_EQ(run.skip_reason.rfind("t.scenario:2:1: open_until_fd is unsupported on "
                                  "fake:win32-select: a Windows SOCKET is not a small integer",
                                  0),
            0u)
      << run.skip_reason;
}

}  // namespace
}  // namespace muxlab
