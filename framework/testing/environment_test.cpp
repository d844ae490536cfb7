// EnvironmentTest: a fresh traced environment per test, its trace and seed printed on failure,
// and the determinism check.
#include "muxlab/testing/environment_test.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include <fmt/format.h>

#include "seed.hpp"

namespace muxlab::testing {
namespace {

bool is_fake_name(const std::string& name) {
  return name.rfind("fake:", 0) == 0;
}

std::vector<std::string> environments_where(bool fake) {
  std::vector<std::string> chosen;
  for (std::string& name : environment_names())
    if (is_fake_name(name) == fake) chosen.push_back(std::move(name));
  return chosen;
}

std::string test_binary() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) return self.string();
  // Elsewhere (macOS, Windows): the path the binary was started by.
  const std::vector<std::string> argv = ::testing::internal::GetArgvs();
  if (argv.empty()) return "<test binary>";
  const std::filesystem::path absolute = std::filesystem::absolute(argv[0], error);
  return error ? argv[0] : absolute.lexically_normal().string();
}

}  // namespace

std::string replay_command(std::uint64_t seed, std::string_view variables) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string filter =
      test ? fmt::format("{}.{}", test->test_suite_name(), test->name()) : "*";
  return fmt::format("MUXLAB_SEED={} {}{}{} --gtest_filter={}", seed, variables,
                     variables.empty() ? "" : " ", test_binary(), filter);
}

std::vector<std::string> all_environments() {
  return environment_names();
}

std::vector<std::string> fake_environments() {
  return environments_where(true);
}

std::vector<std::string> real_environments() {
  return environments_where(false);
}

std::string environment_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace_if(
      name.begin(), name.end(), [](unsigned char c) { return !std::isalnum(c); }, '_');
  return name;
}

void EnvironmentTest::SetUp() {
  const SeedSetting setting = seed_setting();
  ASSERT_TRUE(setting.problem.empty()) << setting.problem;
  seed_ = setting.value;
  seed_from_environment_ = setting.from_environment;
  determinism_check_ = determinism_check_requested();
  make_fresh_environment();
}

void EnvironmentTest::make_fresh_environment() {
  // The old scheduler and backend belong to the old environment: they go first.
  scheduler_.reset();
  backend_.reset();
  env_.reset();
  trace_ = std::make_shared<Trace>();
  auto made = make_seeded_environment(environment_name(), seed_);
  ASSERT_TRUE(made.ok()) << made.error().message();
  env_ = make_traced_environment(std::move(made).value(), trace_);
}

void EnvironmentTest::TearDown() {
  if (HasFailure() && trace_) std::cout << failure_report() << std::flush;
  scheduler_.reset();
  backend_.reset();
  env_.reset();
}

std::string EnvironmentTest::failure_report() const {
  // The seed only steers the fake kernel, but a real run names it too: the same test's fake
  // runs used it.
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return fmt::format(
      "muxlab: {} failed on {} with seed {}{}; rerun with MUXLAB_SEED={}:\n  {}\n"
      "trace of {} ({} records):\n{}",
      test ? fmt::format("{}.{}", test->test_suite_name(), test->name()) : "the test",
      environment_name(), seed_, seed_from_environment_ ? " (from MUXLAB_SEED)" : "", seed_,
      replay_command(seed_), environment_name(), trace_->records().size(), trace_->to_text());
}

Backend& EnvironmentTest::backend() {
  if (!backend_) {
    auto made = env_->make_backend();
    // A reference cannot be returned empty, and ASSERT only leaves void functions: GoogleTest
    // reports an exception escaping the test body as that test's failure.
    if (!made) throw std::runtime_error("make_backend failed: " + made.error().message());
    backend_ = std::move(made).value();
  }
  return *backend_;
}

Scheduler& EnvironmentTest::scheduler() {
  if (!scheduler_) {
    auto made = env_->make_backend();
    if (!made) throw std::runtime_error("make_backend failed: " + made.error().message());
    scheduler_ = std::make_unique<Scheduler>(*env_, std::move(made).value());
  }
  return *scheduler_;
}

void EnvironmentTest::check_determinism(const std::function<void()>& body) {
  body();
  if (!determinism_check_ || !env_->is_fake() || HasFailure()) return;
  const std::shared_ptr<Trace> first = trace_;
  make_fresh_environment();
  if (HasFatalFailure()) return;
  body();
  const std::string difference = first_difference(*first, *trace_);
  if (!difference.empty()) {
    ADD_FAILURE() << fmt::format(
        "not deterministic: two runs on {} with seed {} gave different traces; {}replay: {}",
        environment_name(), seed_, difference, replay_command(seed_, "MUXLAB_CHECK_DETERMINISM=1"));
  }
}

}  // namespace muxlab::testing
