// Scenarios from a user's test, against the installed package: docs/getting-started.md step 5
// as written there (a shipped script by its relative path), the project's own script beside
// this file, one under MUXLAB_SCENARIO_ROOT, and what a missing one says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "muxlab/testing/environment_test.hpp"
#include "muxlab/testing/matchers.hpp"

using namespace muxlab;
using namespace muxlab::testing;

class ShippedScenario : public EnvironmentTest {};

TEST_P(ShippedScenario, PeerFinPasses) {
  EXPECT_THAT("conformance/peer_fin.scenario", ScenarioPasses(env()));
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(ShippedScenario, all_environments());

class OwnScenario : public EnvironmentTest {};

TEST_P(OwnScenario, BesideTheTestPasses) {
  EXPECT_THAT("own.scenario", ScenarioPasses(env()));
}

TEST_P(OwnScenario, UnderTheScenarioRootPasses) {
  EXPECT_THAT("from_root.scenario", ScenarioPasses(env()));
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(OwnScenario, fake_environments());

TEST(MissingScenario, NamesEveryFolderLookedInInOrder) {
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(ScenarioPasses("fake:epoll"),
                                             std::string("no/such.scenario"), &listener));
  EXPECT_EQ(listener.str(),
            "no/such.scenario: no such scenario file; looked in, in order:\n"
            "  " EXPECTED_SCENARIO_ROOT
            " (MUXLAB_SCENARIO_ROOT)\n"
            "  " EXPECTED_SOURCE_DIR
            " (the test's source folder)\n"
            "  " EXPECTED_SHIPPED_DIR " (muxlab's shipped scenarios)");
}
