// EnvironmentTest: a fresh traced environment per test, its trace and seed printed on failure,
// and the determinism check.
#include "muxlab/testing/environment_test.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <sstream>
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

// The first line where two texts differ, numbered from 1, with both versions.
std::string first_difference(const std::string& first, const std::string& second) {
  std::istringstream a(first), b(second);
  std::string line_a, line_b;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, line_a));
    const bool more_b = static_cast<bool>(std::getline(b, line_b));
    if (!more_a && !more_b) return "none";
    if (!more_a) line_a = "(end of trace)";
    if (!more_b) line_b = "(end of trace)";
    if (line_a != line_b)
      return fmt::format("line {}:\n  first run:  {}\n  second run: {}", line, line_a, line_b);
  }
}

}  // namespace

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
      "muxlab: {} failed on {} with seed {}{}; rerun with MUXLAB_SEED={}\n"
      "trace of {} ({} records):\n{}",
      test ? fmt::format("{}.{}", test->test_suite_name(), test->name()) : "the test",
      environment_name(), seed_, seed_from_environment_ ? " (from MUXLAB_SEED)" : "", seed_,
      environment_name(), trace_->records().size(), trace_->to_text());
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
  const std::string first = trace_->normalized();
  make_fresh_environment();
  if (HasFatalFailure()) return;
  body();
  const std::string second = trace_->normalized();
  if (first != second) {
    ADD_FAILURE() << fmt::format(
        "not deterministic: two runs on {} with seed {} gave different normalized traces; "
        "first difference at {}\nfirst run:\n{}second run:\n{}",
        environment_name(), seed_, first_difference(first, second), first, second);
  }
}

}  // namespace muxlab::testing
