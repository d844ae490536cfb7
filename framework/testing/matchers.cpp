// The matchers' words: descriptions and explanations, formatted with fmt so they read like the
// rest of muxlab's messages.
#include "muxlab/testing/matchers.hpp"

#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "muxlab/format.hpp"
#include "muxlab/testing/environment_test.hpp"

namespace muxlab::testing {

namespace matcher_detail {

std::string reporter_of(const Event& e) {
  return fmt::format("handle {} ", e.handle);
}

std::string explain_readiness(Readiness got, Readiness wanted, bool exactly) {
  std::vector<std::string> differences;
  if (const Readiness missing = wanted & ~got; any(missing))
    differences.push_back(fmt::format("{} is missing", missing));
  if (const Readiness extra = got & ~wanted; exactly && any(extra))
    differences.push_back(fmt::format("{} is extra", extra));
  if (differences.empty()) return fmt::format("reported {}", got);
  return fmt::format("reported {}: {}", got, fmt::join(differences, ", "));
}

std::string explain_send(const Result<std::size_t>& sent, std::size_t requested) {
  if (!sent) return fmt::format("failed: {}", sent.error());
  if (*sent == requested) return fmt::format("sent all {} bytes", requested);
  if (*sent == 0) return fmt::format("sent nothing of {} bytes", requested);
  return fmt::format("sent {} of {} bytes", *sent, requested);
}

std::string explain_outcome(const Error* error) {
  if (error == nullptr) return "succeeded";
  return fmt::format("failed with {}", error->message());
}

ScenarioOutcome run_scenario_file(const std::filesystem::path& file, const std::string& environment,
                                  const RunOptions& options) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {false, fmt::format("{}: cannot read the scenario file", file.string())};
  std::stringstream text;
  text << in.rdbuf();
  ParseResult parsed = parse_scenario(text.str(), file.string());
  if (!parsed.scenario) {
    std::vector<std::string> errors;
    for (const ScriptError& e : parsed.errors)
      errors.push_back(e.to_string());
    return {false, fmt::format("malformed:\n{}", fmt::join(errors, "\n"))};
  }
  const ScenarioRun run = run_scenario(*parsed.scenario, environment, options);
  if (run.skipped && !run.skip_reason.empty())
    return {true, fmt::format("SKIP  {}  {}  ({})", file.string(), environment, run.skip_reason)};
  if (run.skipped)
    return {true, fmt::format("SKIP  {}  {}  (only on {})", file.string(), environment,
                              fmt::join(parsed.scenario->only_on, ", "))};
  if (run.passed()) return {true, fmt::format("PASS  {}  {}", file.string(), environment)};
  // The same text `muxlab run` prints for a failed expectation.
  const StepFailure& f = *run.failure;
  return {
      false,
      fmt::format("\n{}:{}:{}: on {}: {}\n  expected: {}\n  actual:   {}\n  trace around it:\n{}",
                  f.where.file, f.where.line, f.where.column, environment, f.step, f.expected,
                  f.actual, f.trace_excerpt)};
}

}  // namespace matcher_detail

std::string ReadinessMatcher::description(bool positive) const {
  const char* is = positive ? "is" : "is not";
  if (mode_ == Mode::exactly) return fmt::format("{} ready with exactly {}", is, flags_);
  // IsReadable, IsWritable read as adjectives; the hang-up and error flags as "has".
  if (flags_ == Readiness::readable || flags_ == Readiness::writable)
    return fmt::format("{} {}", is, flags_);
  return fmt::format("{} {}", positive ? "has" : "has no", flags_);
}

void PartialSendMatcher::DescribeTo(std::ostream* out) const {
  *out << fmt::format("is a partial send: more than 0 and fewer than {} bytes", requested_);
}
void PartialSendMatcher::DescribeNegationTo(std::ostream* out) const {
  *out << fmt::format("is not a partial send of {} bytes", requested_);
}

void FailureCodeMatcher::DescribeTo(std::ostream* out) const {
  *out << fmt::format("fails with {}", error_name(make_error_code(code_)));
}
void FailureCodeMatcher::DescribeNegationTo(std::ostream* out) const {
  *out << fmt::format("does not fail with {}", error_name(make_error_code(code_)));
}

void ScenarioMatcher::DescribeTo(std::ostream* out) const {
  *out << fmt::format("is a scenario that passes on {}", environment_);
}
void ScenarioMatcher::DescribeNegationTo(std::ostream* out) const {
  *out << fmt::format("is a scenario that fails on {}", environment_);
}

RunOptions default_scenario_options() {
  RunOptions options;
  options.seed = seed_setting().value;
  return options;
}

}  // namespace muxlab::testing
