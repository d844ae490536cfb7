// EnvironmentTest: a fresh traced environment per test, readable test names, the seed, the
// failure report and the determinism check.
#include "muxlab/testing/environment_test.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "scoped_variable.hpp"

namespace muxlab::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(EnvironmentLists, FakeAndRealSplitAll) {
  const std::vector<std::string> all = all_environments();
  const std::vector<std::string> fake = fake_environments();
  const std::vector<std::string> real = real_environments();
  EXPECT_EQ(fake.size() + real.size(), all.size());
  for (const std::string& name : fake)
    EXPECT_THAT(name, StartsWith("fake:"));
  for (const std::string& name : real)
    EXPECT_THAT(name, ::testing::Not(StartsWith("fake:")));
  EXPECT_NE(std::find(fake.begin(), fake.end(), "fake:epoll"), fake.end());
}

TEST(EnvironmentLists, TestNamesHaveNoColonOrDash) {
  EXPECT_EQ(environment_test_name({"fake:win32-select", 0}), "fake_win32_select");
  EXPECT_EQ(environment_test_name({"epoll", 3}), "epoll");
}

TEST(Seed, ComesFromMuxlabSeed) {
  {
    ScopedVariable unset("MUXLAB_SEED", nullptr);
    EXPECT_EQ(seed_setting().value, 1u);
    EXPECT_FALSE(seed_setting().from_environment);
  }
  {
    ScopedVariable seed("MUXLAB_SEED", "42");
    EXPECT_EQ(seed_setting().value, 42u);
    EXPECT_TRUE(seed_setting().from_environment);
  }
  ScopedVariable typo("MUXLAB_SEED", "4x2");
  EXPECT_EQ(seed_setting().problem, "MUXLAB_SEED=4x2 is not a whole number");
}

TEST(DeterminismCheck, IsOnWithAnyValueButZero) {
  {
    ScopedVariable on("MUXLAB_CHECK_DETERMINISM", "1");
    EXPECT_TRUE(determinism_check_requested());
  }
  {
    ScopedVariable off("MUXLAB_CHECK_DETERMINISM", "0");
    EXPECT_FALSE(determinism_check_requested());
  }
  ScopedVariable unset("MUXLAB_CHECK_DETERMINISM", nullptr);
  EXPECT_FALSE(determinism_check_requested());
}

class FixtureTest : public EnvironmentTest {
 protected:
  // A listener and a socket connecting to it: a few calls for the trace.
  void connect_once() {
    Result<Handle> listener = net().listen({}, 8);
    ASSERT_TRUE(listener.ok()) << listener.error().message();
    Result<Handle> client = net().socket();
    ASSERT_TRUE(client.ok()) << client.error().message();
    (void)net().connect(*client, *net().local_endpoint(*listener));
    EXPECT_TRUE(net().close(*client).ok());
    EXPECT_TRUE(net().close(*listener).ok());
  }
};

TEST_P(FixtureTest, GivesEachTestAFreshTracedEnvironment) {
  EXPECT_EQ(env().name(), environment_name());
  EXPECT_TRUE(trace().records().empty()) << "a fresh environment has done nothing yet";
  connect_once();
  ASSERT_FALSE(trace().records().empty());
  EXPECT_EQ(trace().records().front().call, "listen");
}

TEST_P(FixtureTest, SchedulerRunsProgramsOnTheTestsEnvironment) {
  bool woke = false;
  auto sleeper = [&]() -> Task<> {
    co_await scheduler().sleep(std::chrono::milliseconds(5));
    woke = true;
  };
  scheduler().spawn("sleeper", sleeper());
  const Status ran = scheduler().run(std::chrono::seconds(5));
  ASSERT_TRUE(ran.ok()) << ran.error().message();
  EXPECT_TRUE(woke);
}

TEST_P(FixtureTest, FailureReportNamesTheSeedAndHoldsTheTrace) {
  connect_once();
  const std::string report = failure_report();
  EXPECT_THAT(report,
              HasSubstr(fmt::format("failed on {} with seed {}", environment_name(), seed())));
  EXPECT_THAT(report, HasSubstr(fmt::format("rerun with MUXLAB_SEED={}", seed())));
  EXPECT_THAT(report, HasSubstr(fmt::format("MUXLAB_SEED={} ", seed())));
  EXPECT_THAT(
      report,
      HasSubstr("--gtest_filter=On/FixtureTest.FailureReportNamesTheSeedAndHoldsTheTrace/"));
  EXPECT_THAT(report, HasSubstr(trace().to_text()));
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(FixtureTest, all_environments());

class DeterminismTest : public FixtureTest {};

TEST_P(DeterminismTest, SameBodyTwiceGivesTheSameTrace) {
  set_determinism_check(true);
  int runs = 0;
  check_determinism([&] {
    ++runs;
    connect_once();
  });
  EXPECT_EQ(runs, 2) << "a fake environment runs the body a second time";
  EXPECT_FALSE(trace().records().empty()) << "the second run has a trace of its own";
}

TEST_P(DeterminismTest, DifferentSecondRunFailsWithTheFirstDifference) {
  set_determinism_check(true);
  int runs = 0;
  auto body = [&] {
    ++runs;
    connect_once();
    if (runs == 2) (void)net().socket();  // what a hidden source of randomness would do
  };
  EXPECT_NONFATAL_FAILURE(check_determinism(body), "not deterministic: two runs on");
  runs = 0;
  EXPECT_NONFATAL_FAILURE(check_determinism(body), "second run: (end of trace)");
  runs = 0;
  EXPECT_NONFATAL_FAILURE(check_determinism(body), "MUXLAB_CHECK_DETERMINISM=1");
}

// The same calls with the same results, only a different timeout and so other times: what a
// normalized trace leaves out, and the check still sees.
TEST_P(DeterminismTest, DifferentTimesFail) {
  set_determinism_check(true);
  int runs = 0;
  auto body = [&] {
    ++runs;
    std::vector<Event> events(1);
    const Duration timeout = runs == 1 ? Duration::zero() : std::chrono::milliseconds(1);
    ASSERT_TRUE(backend().wait(events, timeout).ok());
    connect_once();
  };
  EXPECT_NONFATAL_FAILURE(check_determinism(body), "first difference at record 1 of");
}

TEST_P(DeterminismTest, OffMeansOneRun) {
  set_determinism_check(false);
  int runs = 0;
  check_determinism([&] { ++runs; });
  EXPECT_EQ(runs, 1);
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(DeterminismTest, fake_environments());

class RealOnlyTest : public FixtureTest {};

TEST_P(RealOnlyTest, DeterminismCheckRunsOnceOnARealKernel) {
  EXPECT_FALSE(is_fake());
  set_determinism_check(true);
  int runs = 0;
  check_determinism([&] { ++runs; });
  EXPECT_EQ(runs, 1) << "a real kernel's timing is not reproducible: nothing to compare";
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(RealOnlyTest, real_environments());

}  // namespace
}  // namespace muxlab::testing
