// The matchers match what they say, and their failure messages name the flags and counts.
#include "muxlab/testing/matchers.hpp"

#include <gtest/gtest-spi.h>

#include <fstream>
#include <string>

#include "muxlab/testing/environment_test.hpp"

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
  EXPECT_EQ(explanation(ScenarioPasses("fake:poll"), std::string("no/such.scenario")),
            "no/such.scenario: cannot read the scenario file");
}

// The shipped conformance scripts, from inside a test, on every environment.
class ShippedScenario : public EnvironmentTest {};

TEST_P(ShippedScenario, PeerFinPasses) {
  EXPECT_THAT(MUXLAB_SOURCE_DIR "/scenarios/conformance/peer_fin.scenario", ScenarioPasses(env()));
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(ShippedScenario, all_environments());

}  // namespace
}  // namespace muxlab::testing
