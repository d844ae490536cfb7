#pragma once
// GoogleMock matchers for what sockets report, with messages that name the flags and counts:
//
//   EXPECT_THAT(event, IsReadable());                  // Readiness or Event
//   EXPECT_THAT(event, ReadyWith(Readiness::readable | Readiness::writable));  // exactly
//   EXPECT_THAT(net().send(h, payload), IsPartialSendOf(payload.size()));
//   EXPECT_THAT(net().recv(h, buffer), WouldBlock());  // any Result or Status
//   EXPECT_THAT("conformance/reset.scenario", ScenarioPasses(environment_name()));
//
// A failure reads, for example:
//   Expected: is ready with exactly readable|writable
//     Actual: {handle 5 readable|writable|read_closed token 1}, handle 5 reported
//             readable|writable|read_closed: read_closed is extra
#include <gmock/gmock.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "muxlab/backend.hpp"
#include "muxlab/error.hpp"
#include "muxlab/readiness.hpp"
#include "muxlab/result.hpp"
#include "muxlab/scenario.hpp"
#include "muxlab/testing/printers.hpp"

namespace muxlab::testing {

namespace matcher_detail {

// What a readiness matcher looks at, and how its explanation names it.
inline Readiness readiness_of(Readiness r) {
  return r;
}
inline Readiness readiness_of(const Event& e) {
  return e.readiness;
}
inline std::string reporter_of(Readiness) {
  return "";
}
std::string reporter_of(const Event& e);  // "handle 5 "

// "reported readable|writable|read_closed: read_closed is extra, error is missing"
std::string explain_readiness(Readiness got, Readiness wanted, bool exactly);
// "sent 6144 of 1048576 bytes", "sent all 5 bytes", "failed: would_block: ..."
std::string explain_send(const Result<std::size_t>& sent, std::size_t requested);
// "failed with connection_reset: ...", or "succeeded" (error is null)
std::string explain_outcome(const Error* error);

struct ScenarioOutcome {
  bool passed = false;
  std::string report;  // what `muxlab run` prints for the run: PASS/SKIP line, or the failure
};
ScenarioOutcome run_scenario_file(const std::filesystem::path& file, const std::string& environment,
                                  const RunOptions& options);

// A folder a relative scenario path is looked for in, and why it is on the list.
struct ScenarioFolder {
  std::filesystem::path folder;
  std::string source;    // "MUXLAB_SCENARIO_ROOT", "the test's source folder", ...
  bool searched = true;  // false: named in the message only (a source folder not found)
};

// MUXLAB_SCENARIO_ROOT, or null when it is unset or empty.
const char* scenario_root_setting();

// The folder of the test's source file `caller_file`, absolute. The compiler may have been given
// a relative path (ccache's base_dir, -ffile-prefix-map): then it is the folder under the first
// of `starts` or their parents where `caller_file` exists. nullopt when there is none.
std::optional<std::filesystem::path> caller_folder(
    std::string_view caller_file, const std::vector<std::filesystem::path>& starts);

// The folders a relative scenario path is looked for in, in order: `root` (MUXLAB_SCENARIO_ROOT),
// the folder of `caller_file` (the test's source; a relative one found from the working
// directory or the test program's folder up, as caller_folder does), then `installed` (muxlab's
// shipped scenarios). Empty or null ones are left out.
std::vector<ScenarioFolder> scenario_folders(const char* root, std::string_view caller_file,
                                             const char* installed);

// The file `file` names: itself when absolute, else the first of `folders` that holds it.
std::optional<std::filesystem::path> find_scenario(const std::filesystem::path& file,
                                                   const std::vector<ScenarioFolder>& folders);

// Finds `file` among `folders`, then runs it; a file in none of them fails with every folder
// looked in, in order.
ScenarioOutcome run_scenario_file(const std::filesystem::path& file,
                                  const std::vector<ScenarioFolder>& folders,
                                  const std::string& environment, const RunOptions& options);

// muxlab's shipped scenarios, as the build that compiles the caller sees them: the source tree's
// scenarios/ inside muxlab's build, the installed share/muxlab/scenarios through find_package
// (cmake/muxlabConfig.cmake.in defines MUXLAB_SCENARIO_DIR on muxlab::testing).
inline const char* installed_scenario_dir() {
#ifdef MUXLAB_SCENARIO_DIR
  return MUXLAB_SCENARIO_DIR;
#else
  return nullptr;
#endif
}

}  // namespace matcher_detail

// Readiness or Event: the reported set has every flag of `flags` (contains), or is exactly it.
class ReadinessMatcher {
 public:
  enum class Mode : std::uint8_t { contains, exactly };
  ReadinessMatcher(Readiness flags, Mode mode) : flags_(flags), mode_(mode) {}

  template <class Reported>
  bool MatchAndExplain(const Reported& reported, ::testing::MatchResultListener* listener) const {
    const Readiness got = matcher_detail::readiness_of(reported);
    const bool exactly = mode_ == Mode::exactly;
    *listener << matcher_detail::reporter_of(reported)
              << matcher_detail::explain_readiness(got, flags_, exactly);
    return exactly ? got == flags_ : has(got, flags_);
  }
  void DescribeTo(std::ostream* out) const { *out << description(true); }
  void DescribeNegationTo(std::ostream* out) const { *out << description(false); }

 private:
  std::string description(bool positive) const;
  Readiness flags_;
  Mode mode_;
};

// Has this flag, whatever else it has.
inline auto HasFlag(Readiness flag) {
  return ::testing::MakePolymorphicMatcher(
      ReadinessMatcher(flag, ReadinessMatcher::Mode::contains));
}
inline auto IsReadable() {
  return HasFlag(Readiness::readable);
}
inline auto IsWritable() {
  return HasFlag(Readiness::writable);
}
inline auto HasReadClosed() {
  return HasFlag(Readiness::read_closed);
}
inline auto HasError() {
  return HasFlag(Readiness::error);
}
// Exactly this set: no flag missing, none extra.
inline auto ReadyWith(Readiness flags) {
  return ::testing::MakePolymorphicMatcher(
      ReadinessMatcher(flags, ReadinessMatcher::Mode::exactly));
}

// Result<size_t> of a send of `requested` bytes: it took some, but not all.
class PartialSendMatcher {
 public:
  explicit PartialSendMatcher(std::size_t requested) : requested_(requested) {}

  bool MatchAndExplain(const Result<std::size_t>& sent,
                       ::testing::MatchResultListener* listener) const {
    *listener << matcher_detail::explain_send(sent, requested_);
    return sent.ok() && *sent > 0 && *sent < requested_;
  }
  void DescribeTo(std::ostream* out) const;
  void DescribeNegationTo(std::ostream* out) const;

 private:
  std::size_t requested_;
};

inline auto IsPartialSendOf(std::size_t requested) {
  return ::testing::MakePolymorphicMatcher(PartialSendMatcher(requested));
}

// Any Result<T> or Status: it failed with this portable error.
class FailureCodeMatcher {
 public:
  explicit FailureCodeMatcher(Errc code) : code_(code) {}

  template <class T>
  bool MatchAndExplain(const Result<T>& result, ::testing::MatchResultListener* listener) const {
    const Error* error = result.ok() ? nullptr : &result.error();
    *listener << matcher_detail::explain_outcome(error);
    if constexpr (!std::is_void_v<T>) {
      if (result.ok()) *listener << " with " << testing_detail::describe_value(result.value());
    }
    return error != nullptr && error->code == make_error_code(code_);
  }
  void DescribeTo(std::ostream* out) const;
  void DescribeNegationTo(std::ostream* out) const;

 private:
  Errc code_;
};

inline auto FailsWith(Errc code) {
  return ::testing::MakePolymorphicMatcher(FailureCodeMatcher(code));
}
inline auto WouldBlock() {
  return FailsWith(Errc::would_block);
}

// A scenario file (a path) passes on one environment. A failure explains like `muxlab run`:
// file:line:col, the step, expected, actual and the trace around it; a malformed script gives
// its parse errors. A script whose `only on` leaves this environment out passes as skipped.
//
// A relative path is looked for in `folders`, in order (scenario_folders), never in the working
// directory: ctest runs a test wherever it likes. A file in none of them fails with the list.
class ScenarioMatcher {
 public:
  ScenarioMatcher(std::string environment, RunOptions options,
                  std::vector<matcher_detail::ScenarioFolder> folders = {})
      : environment_(std::move(environment)), options_(options), folders_(std::move(folders)) {}

  template <class Path>
  bool MatchAndExplain(const Path& file, ::testing::MatchResultListener* listener) const {
    const matcher_detail::ScenarioOutcome outcome = matcher_detail::run_scenario_file(
        std::filesystem::path(file), folders_, environment_, options_);
    *listener << outcome.report;
    return outcome.passed;
  }
  void DescribeTo(std::ostream* out) const;
  void DescribeNegationTo(std::ostream* out) const;

 private:
  std::string environment_;
  RunOptions options_;
  std::vector<matcher_detail::ScenarioFolder> folders_;
};

// Runs with the test's seed (MUXLAB_SEED, else 1) and `muxlab run`'s time scale.
RunOptions default_scenario_options();

// `caller` is where ScenarioPasses is written: its file's folder is where a test's own scripts
// are looked for (the path the compiler was given, which CMake makes absolute).
inline auto ScenarioPasses(std::string environment, RunOptions options = default_scenario_options(),
                           std::source_location caller = std::source_location::current()) {
  return ::testing::MakePolymorphicMatcher(ScenarioMatcher(
      std::move(environment), options,
      matcher_detail::scenario_folders(matcher_detail::scenario_root_setting(), caller.file_name(),
                                       matcher_detail::installed_scenario_dir())));
}
inline auto ScenarioPasses(const Environment& environment,
                           RunOptions options = default_scenario_options(),
                           std::source_location caller = std::source_location::current()) {
  return ScenarioPasses(std::string(environment.name()), options, caller);
}

}  // namespace muxlab::testing
