#pragma once
// EnvironmentTest: a GoogleTest fixture that gives each test a fresh, traced Environment, and the
// helpers that run one suite over every environment this build has, or only the fake or only the
// real ones:
//
//   class EchoTest : public muxlab::testing::EnvironmentTest {};
//   TEST_P(EchoTest, EchoesWhatItGets) { ... env(), net(), scheduler() ... }
//   MUXLAB_INSTANTIATE_ENVIRONMENTS(EchoTest, muxlab::testing::all_environments());
//
// Tests are named after the environment with ':' and '-' made '_' (GoogleTest filters split on
// ':'): On/EchoTest.EchoesWhatItGets/fake_win32_select.
//
// When a test fails, the fixture prints the trace of that test (every socket call and readiness
// report) and the seed to rerun it with. Two environment variables steer it:
//   MUXLAB_SEED=N                the fake kernel's seed (default 1), reported on failure;
//   MUXLAB_CHECK_DETERMINISM=1   check_determinism(body) runs the body a second time on a fresh
//                                fake environment and fails when the traces differ.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "muxlab/environment.hpp"
#include "muxlab/scheduler.hpp"
#include "muxlab/testing/printers.hpp"
#include "muxlab/trace.hpp"

namespace muxlab::testing {

// Environment names this build can run ("epoll", "fake:epoll", ...), for
// MUXLAB_INSTANTIATE_ENVIRONMENTS.
std::vector<std::string> all_environments();
std::vector<std::string> fake_environments();  // the fake kernel's personalities
std::vector<std::string> real_environments();  // this operating system's mechanisms

// "fake:win32-select" -> "fake_win32_select": a name GoogleTest accepts in a test's name.
std::string environment_test_name(const ::testing::TestParamInfo<std::string>& info);

// The seed the fake kernel runs with: MUXLAB_SEED when set, otherwise 1.
struct SeedSetting {
  std::uint64_t value = 1;
  bool from_environment = false;  // MUXLAB_SEED was set
  std::string problem;            // MUXLAB_SEED was set but is not a whole number
};
SeedSetting seed_setting();

// MUXLAB_CHECK_DETERMINISM=1 (any value but empty and "0").
bool determinism_check_requested();

// The shell command that runs the current test again with `seed`:
// "MUXLAB_SEED=7 /path/to/tests --gtest_filter=On/EchoTest.Echoes/fake_epoll". `variables`
// ("MUXLAB_RUNS=10") are set before the binary as well.
std::string replay_command(std::uint64_t seed, std::string_view variables = "");

class EnvironmentTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The environment's name, as make_environment knows it: "epoll", "fake:epoll".
  const std::string& environment_name() const { return GetParam(); }
  Environment& env() { return *env_; }
  Net& net() { return env_->net(); }
  // One backend of this test's environment, made on first use.
  Backend& backend();
  // A scheduler on this test's environment (with a backend of its own), made on first use.
  Scheduler& scheduler();
  // Everything this test's environment did so far.
  Trace& trace() { return *trace_; }
  std::uint64_t seed() const { return seed_; }
  bool is_fake() const { return env_->is_fake(); }

  // Runs `body`, which works through env(), net(), backend() and scheduler(). When the
  // determinism check is on and the environment is fake, it then runs `body` again on a fresh
  // environment of the same name and seed, and fails the test if the two traces differ in any
  // record, times included: the same test on the same seed must do the same things at the same
  // virtual moments. The failure shows the first differing record with its neighbours.
  //
  // A test opts in by wrapping its body; running every TEST_P body twice behind its back would
  // also repeat what the test set up outside the fixture (members, files, counters).
  void check_determinism(const std::function<void()>& body);
  // The toolkit's own tests turn the check on and off without the environment variable.
  void set_determinism_check(bool on) { determinism_check_ = on; }

  // What TearDown prints when the test failed: the seed and the command to rerun with, then the
  // trace.
  std::string failure_report() const;

 private:
  // A new traced environment of this test's name, seeded, replacing the current one.
  void make_fresh_environment();

  std::shared_ptr<Trace> trace_;
  std::unique_ptr<Environment> env_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Scheduler> scheduler_;
  std::uint64_t seed_ = 1;
  bool seed_from_environment_ = false;
  bool determinism_check_ = false;
};

}  // namespace muxlab::testing

// Instantiates a TEST_P suite derived from EnvironmentTest once per environment in
// `environment_names` (all_environments(), fake_environments(), real_environments(), or any
// vector of names): On/Suite.Case/fake_epoll.
#define MUXLAB_INSTANTIATE_ENVIRONMENTS(Suite, environment_names)             \
  INSTANTIATE_TEST_SUITE_P(On, Suite, ::testing::ValuesIn(environment_names), \
                           ::muxlab::testing::environment_test_name)
