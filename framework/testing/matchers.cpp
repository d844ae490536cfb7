// The matchers' words: descriptions and explanations, formatted with fmt so they read like the
// rest of muxlab's messages.
#include "muxlab/testing/matchers.hpp"

#include <cstdlib>
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

const char* scenario_root_setting() {
  const char* root = std::getenv("MUXLAB_SCENARIO_ROOT");
  return root != nullptr && *root != '\0' ? root : nullptr;
}

std::optional<std::filesystem::path> caller_folder(
    std::string_view caller_file, const std::vector<std::filesystem::path>& starts) {
  const std::filesystem::path file(caller_file);
  if (file.parent_path().empty()) return std::nullopt;
  // Rooted, not absolute: a Windows build cross-compiled on Linux has "/src/x_test.cpp",
  // which is on the current drive but not is_absolute() there.
  if (file.has_root_directory()) return file.parent_path();
  std::error_code ignored;
  for (const std::filesystem::path& start : starts) {
    for (std::filesystem::path base = start; !base.empty(); base = base.parent_path()) {
      if (std::filesystem::is_regular_file(base / file, ignored))
        return (base / file).parent_path().lexically_normal();
      if (base == base.parent_path()) break;
    }
  }
  return std::nullopt;
}

namespace {

// Where a relative source path may have been compiled from: the compiler ran in the build
// folder, and the test runs in it or below (ctest), or its program file is there.
std::vector<std::filesystem::path> compile_folder_candidates() {
  std::vector<std::filesystem::path> starts;
  std::error_code failed;
  if (std::filesystem::path here = std::filesystem::current_path(failed); !failed)
    starts.push_back(std::move(here));
  // Linux names the running program here; elsewhere the link is missing and the error ignored.
  if (std::filesystem::path program = std::filesystem::read_symlink("/proc/self/exe", failed);
      !failed)
    starts.push_back(program.parent_path());
  return starts;
}

}  // namespace

std::vector<ScenarioFolder> scenario_folders(const char* root, std::string_view caller_file,
                                             const char* installed) {
  std::vector<ScenarioFolder> folders;
  if (root != nullptr && *root != '\0') folders.push_back({root, "MUXLAB_SCENARIO_ROOT"});
  const std::vector<std::filesystem::path> starts = compile_folder_candidates();
  std::vector<std::string> start_names;
  for (const std::filesystem::path& start : starts)
    start_names.push_back(start.string());
  if (const std::optional<std::filesystem::path> source = caller_folder(caller_file, starts))
    folders.push_back({*source, "the test's source folder"});
  else if (const std::filesystem::path as_compiled =
               std::filesystem::path(caller_file).parent_path();
           !as_compiled.empty())
    // Not the working directory's business: a relative folder would be looked for from there.
    folders.push_back({as_compiled,
                       fmt::format("the test's source folder as compiled, relative and not found "
                                   "from {} or above: not looked in",
                                   fmt::join(start_names, " or ")),
                       false});
  if (installed != nullptr && *installed != '\0')
    folders.push_back({installed, "muxlab's shipped scenarios"});
  return folders;
}

std::optional<std::filesystem::path> find_scenario(const std::filesystem::path& file,
                                                   const std::vector<ScenarioFolder>& folders) {
  if (file.has_root_directory()) return file;
  for (const ScenarioFolder& f : folders) {
    if (!f.searched) continue;
    std::error_code ignored;  // an unreadable folder is one that does not hold the file
    if (std::filesystem::is_regular_file(f.folder / file, ignored)) return f.folder / file;
  }
  return std::nullopt;
}

ScenarioOutcome run_scenario_file(const std::filesystem::path& file,
                                  const std::vector<ScenarioFolder>& folders,
                                  const std::string& environment, const RunOptions& options) {
  if (const std::optional<std::filesystem::path> found = find_scenario(file, folders))
    return run_scenario_file(*found, environment, options);
  std::vector<std::string> looked_in;
  for (const ScenarioFolder& f : folders)
    looked_in.push_back(fmt::format("  {} ({})", f.folder.string(), f.source));
  if (looked_in.empty()) looked_in.push_back("  no folder at all");
  return {false, fmt::format("{}: no such scenario file; looked in, in order:\n{}", file.string(),
                             fmt::join(looked_in, "\n"))};
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
