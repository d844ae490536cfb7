// The scenario runner on the fake kernel: the bounds that end a run (RunOptions), and steps
// whose effect only a run shows.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "muxlab/scenario.hpp"

namespace muxlab {
namespace {

ScenarioRun run_on_fake(std::string_view text, const RunOptions& options = {}) {
  ParseResult parsed = parse_scenario(text, "t.scenario");
  for (const ScriptError& e : parsed.errors)
    ADD_FAILURE() << e.to_string();
  if (!parsed.scenario) return {};
  return run_scenario(*parsed.scenario, "fake:epoll", options);
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

}  // namespace
}  // namespace muxlab
