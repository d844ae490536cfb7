// The tests of docs/getting-started.md, as written there (step 3, and step 5's scenario): if
// they stop compiling or passing, the document is wrong. tests/consumer runs step 5 again
// against the installed package.
#include "muxlab/testing/environment_test.hpp"
#include "muxlab/testing/matchers.hpp"

using namespace muxlab;
using namespace muxlab::testing;
using namespace std::chrono_literals;

class ConnectTest : public EnvironmentTest {};

TEST_P(ConnectTest, ListenerBecomesReadable) {
  const Handle listener = *net().listen({}, 8);
  const Handle client = *net().socket();
  EXPECT_THAT(net().connect(client, *net().local_endpoint(listener)), FailsWith(Errc::in_progress));

  ASSERT_TRUE(backend().add(listener, Interest::read, 1).ok());
  Event events[4];
  ASSERT_EQ(*backend().wait(events, 1s), 1u);
  EXPECT_THAT(events[0], ReadyWith(Readiness::readable));

  (void)backend().remove(listener);
  (void)net().close(client);
  (void)net().close(listener);
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(ConnectTest, all_environments());

class ShippedScenario : public EnvironmentTest {};

TEST_P(ShippedScenario, PeerFinPasses) {
  EXPECT_THAT("conformance/peer_fin.scenario", ScenarioPasses(env()));
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(ShippedScenario, all_environments());
