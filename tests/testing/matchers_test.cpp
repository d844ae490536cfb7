// The matchers match what they say, and their failure messages name the flags and counts.
#include "muxlab/testing/matchers.hpp"

#include <gtest/gtest-spi.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "muxlab/testing/environment_test.hpp"
#include "scoped_variable.hpp"

namespace muxlab::testing {
namespace {

using ::testing::DescribeMatcher;
using ::testing::ExplainMatchResult;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StringMatchResultListener;

// What a matcher says about a value that it does (or does not) match.
template <class Value, class M>
std::string explanation(const M& matcher, const Value& value) {
  StringMatchResultListener listener;
  (void)ExplainMatchResult(matcher, value, &listener);
  return listener.str();
}

constexpr Readiness readable_writable = Readiness::readable | Readiness::writable;

TEST(ReadinessMatchers, MatchFlagsInAReadinessOrAnEvent) {
  EXPECT_THAT(readable_writable, IsReadable());
  EXPECT_THAT(readable_writable, IsWritable());
  EXPECT_THAT(Readiness::writable, Not(IsReadable()));
  const Event hung_up{5, readable_writable | Readiness::read_closed | Readiness::error, 1};
  EXPECT_THAT(hung_up, HasReadClosed());
  EXPECT_THAT(hung_up, HasError());
  const Event idle{5, readable_writable, 1};
  EXPECT_THAT(idle, Not(HasError()));
  // A flag without a matcher of its own.
  EXPECT_THAT(readable_writable | Readiness::write_closed, HasFlag(Readiness::write_closed));
  EXPECT_THAT(hung_up, Not(HasFlag(Readiness::write_closed)));
}

TEST(ReadinessMatchers, ReadyWithWantsTheExactSet) {
  EXPECT_THAT(readable_writable, ReadyWith(readable_writable));
  EXPECT_THAT(Readiness::readable, Not(ReadyWith(readable_writable)));
  EXPECT_THAT(readable_writable | Readiness::read_closed, Not(ReadyWith(readable_writable)));
  EXPECT_THAT(Readiness::none, ReadyWith(Readiness::none));
}

TEST(ReadinessMatchers, DescriptionsReadAsSentences) {
  EXPECT_EQ(DescribeMatcher<Readiness>(IsReadable()), "is readable");
  EXPECT_EQ(DescribeMatcher<Readiness>(IsWritable(), true), "is not writable");
  EXPECT_EQ(DescribeMatcher<Event>(HasError()), "has error");
  EXPECT_EQ(DescribeMatcher<Event>(HasReadClosed(), true), "has no read_closed");
  EXPECT_EQ(DescribeMatcher<Readiness>(ReadyWith(readable_writable)),
            "is ready with exactly readable|writable");
}

TEST(ReadinessMatchers, ExplanationNamesMissingAndExtraFlags) {
  EXPECT_EQ(explanation(IsReadable(), Readiness::writable),
            "reported writable: readable is missing");
  const Event half_closed{5, Readiness::writable | Readiness::read_closed, 1};
  EXPECT_EQ(explanation(ReadyWith(readable_writable), half_closed),
            "handle 5 reported writable|read_closed: readable is missing, read_closed is extra");
}

TEST(ReadinessMatchers, FailureMessageShowsTheEventAndTheDifference) {
  const Event event{7, readable_writable | Readiness::error, 3};
  EXPECT_NONFATAL_FAILURE(
      EXPECT_THAT(event, ReadyWith(readable_writable)),
      "Expected: is ready with exactly readable|writable\n"
      "  Actual: {handle 7 readable|writable|error token 3} (of type muxlab::Event), "
      "handle 7 reported readable|writable|error: error is extra");
}

TEST(PartialSend, IsSomeButNotAll) {
  EXPECT_THAT(Result<std::size_t>(6144), IsPartialSendOf(1048576));
  EXPECT_THAT(Result<std::size_t>(5), Not(IsPartialSendOf(5)));
  EXPECT_THAT(Result<std::size_t>(0), Not(IsPartialSendOf(5)));
  EXPECT_THAT(Result<std::size_t>(Errc::would_block), Not(IsPartialSendOf(5)));
}

TEST(PartialSend, ExplanationGivesTheCounts) {
  EXPECT_EQ(explanation(IsPartialSendOf(1048576), Result<std::size_t>(6144)),
            "sent 6144 of 1048576 bytes");
  EXPECT_EQ(explanation(IsPartialSendOf(5), Result<std::size_t>(5)), "sent all 5 bytes");
  EXPECT_NONFATAL_FAILURE(
      EXPECT_THAT(Result<std::size_t>(Errc::broken_pipe, "peer gone"), IsPartialSendOf(5)),
      "Expected: is a partial send: more than 0 and fewer than 5 bytes\n"
      "  Actual: error broken_pipe: peer gone, failed: broken_pipe: peer gone");
}

TEST(WouldBlock, MatchesAnyResultThatFailedSo) {
  EXPECT_THAT(Status(Errc::would_block), WouldBlock());
  EXPECT_THAT(Result<std::size_t>(Errc::would_block), WouldBlock());
  EXPECT_THAT(Result<Handle>(Errc::would_block), WouldBlock());
  EXPECT_THAT(Status(), Not(WouldBlock()));
  EXPECT_THAT(Result<std::size_t>(Errc::connection_reset), Not(WouldBlock()));
  EXPECT_THAT(Result<std::size_t>(Errc::connection_reset), FailsWith(Errc::connection_reset));
}

TEST(WouldBlock, ExplanationSaysWhatHappenedInstead) {
  EXPECT_EQ(explanation(WouldBlock(), Result<std::size_t>(5)), "succeeded with 5");
  EXPECT_EQ(explanation(WouldBlock(), Status()), "succeeded");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Result<std::size_t>(Errc::connection_reset), WouldBlock()),
                          "Expected: fails with would_block\n"
                          "  Actual: error connection_reset, failed with connection_reset");
}

// A scenario file written for the test, in GoogleTest's temporary folder.
std::string write_scenario(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

constexpr const char* connect_steps =
    "listen l\n"
    "socket c\n"
    "connect c l -> in_progress\n"
    "watch c read|write\n";

TEST(ScenarioPasses, PassesAScriptThatHolds) {
  const std::string file =
      write_scenario("holds.scenario", std::string(connect_steps) + "wait c -> writable\n");
  EXPECT_THAT(file, ScenarioPasses("fake:epoll"));
}

TEST(ScenarioPasses, FailurePrintsWhatMuxlabRunPrints) {
  // A send count that cannot hold fails at once (a failing wait would spin until its timeout).
  const std::string file = write_scenario(
      "wrong.scenario", std::string(connect_steps) + "wait c -> writable\nsend c \"hello\" -> 3\n");
  const std::string why = explanation(ScenarioPasses("fake:epoll"), file);
  EXPECT_THAT(why, HasSubstr(file + ":6:1: on fake:epoll: send c \"hello\" -> 3\n"
                                    "  expected: 3\n"
                                    "  actual:   5 of 5 bytes\n"
                                    "  trace around it:\n"))
      << why;
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(file, ScenarioPasses("fake:epoll")),
                          "Expected: is a scenario that passes on fake:epoll");
}

TEST(ScenarioPasses, MalformedScriptGivesItsLocatedErrors) {
  const std::string file = write_scenario("malformed.scenario", "listen l\nfrobnicate l\n");
  const std::string why = explanation(ScenarioPasses("fake:poll"), file);
  EXPECT_THAT(why, HasSubstr(file + ":2:1: error: ")) << why;
  const std::string missing = ::testing::TempDir() + "no_such.scenario";
  EXPECT_EQ(explanation(ScenarioPasses("fake:poll"), missing),
            missing + ": cannot read the scenario file");
}

// Where a relative scenario path is looked for (docs/getting-started.md, step 5).
namespace fs = std::filesystem;

// A fresh folder of GoogleTest's temporary one, with `files` in it (relative paths).
fs::path folder_with(const std::string& name, const std::vector<std::string>& files) {
  const fs::path folder = fs::path(::testing::TempDir()) / "scenario_folders" / name;
  fs::remove_all(folder);
  for (const std::string& file : files) {
    fs::create_directories((folder / file).parent_path());
    std::ofstream(folder / file) << "# " << name << "\n";
  }
  return folder;
}

std::vector<std::string> folder_names(const std::vector<matcher_detail::ScenarioFolder>& folders) {
  std::vector<std::string> names;
  for (const matcher_detail::ScenarioFolder& f : folders)
    names.push_back(fmt::format("{} ({})", f.folder.generic_string(), f.source));
  return names;
}

TEST(ScenarioFolders, RootThenTestSourceFolderThenShipped) {
  EXPECT_THAT(folder_names(matcher_detail::scenario_folders("/root", "/src/tests/a_test.cpp",
                                                            "/usr/share/muxlab/scenarios")),
              ::testing::ElementsAre("/root (MUXLAB_SCENARIO_ROOT)",
                                     "/src/tests (the test's source folder)",
                                     "/usr/share/muxlab/scenarios (muxlab's shipped scenarios)"));
}

TEST(ScenarioFolders, LeavesOutWhatIsNotSet) {
  EXPECT_THAT(folder_names(matcher_detail::scenario_folders(nullptr, "/src/a_test.cpp", "")),
              ::testing::ElementsAre("/src (the test's source folder)"));
  EXPECT_THAT(folder_names(matcher_detail::scenario_folders("", "a_test.cpp", nullptr)),
              ::testing::IsEmpty());
}

TEST(ScenarioFolders, ARelativeSourcePathIsFoundFromTheWorkingDirectoryUp) {
  // ccache's base_dir makes the compiler see ../src/x_test.cpp, relative to the build folder,
  // and ctest runs the test in a folder below it.
  const fs::path base = folder_with("relative", {"src/x_test.cpp", "build/tests/keep"});
  using Starts = std::vector<fs::path>;
  EXPECT_EQ(matcher_detail::caller_folder("../src/x_test.cpp", Starts{base / "build" / "tests"}),
            base / "src");
  // Run by hand from elsewhere: found from the second start, the program's folder.
  EXPECT_EQ(matcher_detail::caller_folder("../src/x_test.cpp",
                                          Starts{"/no/such/folder", base / "build" / "tests"}),
            base / "src");
  EXPECT_EQ(matcher_detail::caller_folder("/abs/src/x_test.cpp", Starts{base}),
            fs::path("/abs/src"));
  EXPECT_EQ(matcher_detail::caller_folder("../src/y_test.cpp", Starts{base / "build"}),
            std::nullopt);
  EXPECT_EQ(matcher_detail::caller_folder("../src/x_test.cpp", Starts{}), std::nullopt);
  EXPECT_EQ(matcher_detail::caller_folder("x_test.cpp", Starts{base / "src"}), std::nullopt);
}

TEST(ScenarioFolders, ASourceFolderNotFoundIsNamedButNotLookedIn) {
  const std::vector<matcher_detail::ScenarioFolder> folders =
      matcher_detail::scenario_folders(nullptr, "../no/such/folder/x_test.cpp", nullptr);
  ASSERT_EQ(folders.size(), 1u);
  EXPECT_FALSE(folders[0].searched);
  EXPECT_EQ(folders[0].folder, fs::path("../no/such/folder"));
  EXPECT_THAT(folders[0].source, HasSubstr("relative and not found from "));
  EXPECT_THAT(folders[0].source, HasSubstr(" or above: not looked in"));
}

TEST(ScenarioFolders, RootComesFromMuxlabScenarioRoot) {
  {
    const ScopedVariable root("MUXLAB_SCENARIO_ROOT", "/my/scripts");
    EXPECT_STREQ(matcher_detail::scenario_root_setting(), "/my/scripts");
  }
  const ScopedVariable empty("MUXLAB_SCENARIO_ROOT", "");
  EXPECT_EQ(matcher_detail::scenario_root_setting(), nullptr);
}

TEST(FindScenario, TheFirstFolderHoldingTheFileWins) {
  const fs::path root = folder_with("root", {"a/both.scenario"});
  const fs::path source =
      folder_with("source", {"a/both.scenario", "a/source_and_shipped.scenario"});
  const fs::path shipped =
      folder_with("shipped", {"a/source_and_shipped.scenario", "a/shipped.scenario"});
  const std::vector<matcher_detail::ScenarioFolder> folders = {
      {root, "root"}, {source, "source"}, {shipped, "shipped"}};
  EXPECT_EQ(matcher_detail::find_scenario("a/both.scenario", folders), root / "a/both.scenario");
  EXPECT_EQ(matcher_detail::find_scenario("a/source_and_shipped.scenario", folders),
            source / "a/source_and_shipped.scenario");
  EXPECT_EQ(matcher_detail::find_scenario("a/shipped.scenario", folders),
            shipped / "a/shipped.scenario");
  EXPECT_EQ(matcher_detail::find_scenario("a/none.scenario", folders), std::nullopt);
  // A folder of that name is no scenario file.
  EXPECT_EQ(matcher_detail::find_scenario("a", folders), std::nullopt);
  // A folder only named in the message is not looked in.
  EXPECT_EQ(matcher_detail::find_scenario("a/both.scenario", {{root, "root", false}}),
            std::nullopt);
  // An absolute path is taken as it is, found or not.
  EXPECT_EQ(matcher_detail::find_scenario(shipped / "x.scenario", folders), shipped / "x.scenario");
}

// The example of docs/getting-started.md step 5 is in getting_started_test.cpp; these are the
// other two places, and the message when none holds the file.
TEST(ScenarioPasses, FindsAScriptNextToTheTestByItsBareName) {
  EXPECT_THAT("next_to_this_test.scenario", ScenarioPasses("fake:epoll"));
}

TEST(ScenarioPasses, MuxlabScenarioRootComesBeforeTheShippedScenarios) {
  // A conformance/peer_fin.scenario of the root's own, which fails where the shipped one passes.
  const fs::path root = folder_with("override", {});
  fs::create_directories(root / "conformance");
  std::ofstream(root / "conformance/peer_fin.scenario") << "listen l\nfrobnicate l\n";
  const ScopedVariable setting("MUXLAB_SCENARIO_ROOT", root.string().c_str());
  const std::string why =
      explanation(ScenarioPasses("fake:epoll"), "conformance/peer_fin.scenario");
  EXPECT_THAT(why, HasSubstr((root / "conformance/peer_fin.scenario").string() + ":2:1: error: "))
      << why;
}

TEST(ScenarioPasses, MissingScriptNamesEveryFolderLookedInInOrder) {
  const ScopedVariable setting("MUXLAB_SCENARIO_ROOT", "/my/scripts");
  const std::string test_folder = fs::path(MUXLAB_SOURCE_DIR "/tests/testing").string();
  EXPECT_EQ(explanation(ScenarioPasses("fake:poll"), std::string("no/such.scenario")),
            "no/such.scenario: no such scenario file; looked in, in order:\n"
            "  /my/scripts (MUXLAB_SCENARIO_ROOT)\n"
            "  " +
                test_folder +
                " (the test's source folder)\n"
                "  " MUXLAB_SOURCE_DIR "/scenarios (muxlab's shipped scenarios)");
}

TEST(ScenarioPasses, NeverLooksInTheWorkingDirectory) {
  // ctest runs a test in a folder of its choosing: a file there is not found by a relative name.
  const fs::path here = fs::current_path();
  const fs::path cwd = folder_with("cwd", {"only_in_cwd.scenario"});
  fs::current_path(cwd);
  const std::string why = explanation(ScenarioPasses("fake:poll"), "only_in_cwd.scenario");
  fs::current_path(here);
  EXPECT_THAT(why, HasSubstr("only_in_cwd.scenario: no such scenario file")) << why;
}

// A shipped script by its absolute path, on every environment.
class ShippedScenarioByAbsolutePath : public EnvironmentTest {};

TEST_P(ShippedScenarioByAbsolutePath, PeerFinPasses) {
  EXPECT_THAT(MUXLAB_SOURCE_DIR "/scenarios/conformance/peer_fin.scenario", ScenarioPasses(env()));
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(ShippedScenarioByAbsolutePath, all_environments());

}  // namespace
}  // namespace muxlab::testing
