// Virtual time: each call costs a little, a wait with nothing ready jumps to the next event or its
// timeout, an infinite wait that could never end says so, and busy polling shows in the counts.
#include <gtest/gtest.h>

#include "kernel_fixture.hpp"

namespace muxlab::fake {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

class EveryPersonality : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryPersonality, EachCallCostsTheSystemCallCost) {
  KernelConfig config;
  config.system_call_cost = microseconds(3);
  KernelFixture f(GetParam(), config);
  const Time start = f.kernel->now();
  const Handle s = ok(f.kernel->socket());
  (void)f.kernel->send_buffer(s);
  ok(f.backend->add(s, Interest::read, 1));
  (void)f.wait();
  EXPECT_EQ(f.kernel->now() - start, microseconds(12));
  EXPECT_EQ(f.kernel->counts().calls, 4u);
}

TEST_P(EveryPersonality, AWaitJumpsToItsTimeoutWhenNothingIsScheduled) {
  KernelFixture f(GetParam());
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read, 1));
  const Time start = f.kernel->now();
  EXPECT_TRUE(f.wait(milliseconds(50)).empty());
  EXPECT_EQ(f.kernel->now() - start, milliseconds(50) + kDefaultSystemCallCost);
}

TEST_P(EveryPersonality, AWaitJumpsToTheEventThatMakesSomethingReady) {
  KernelConfig config;
  config.link_latency = milliseconds(7);
  KernelFixture f(GetParam(), config);
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read, 1));
  const Time start = f.kernel->now();
  f.send(p.client, "hi");
  EXPECT_EQ(f.readiness_of(p.server, milliseconds(100)), Readiness::readable);
  EXPECT_GE(f.kernel->now() - start, milliseconds(7));
  EXPECT_LT(f.kernel->now() - start, milliseconds(7) + microseconds(10));
  EXPECT_EQ(f.recv(p.server), "hi");
}

TEST_P(EveryPersonality, AnInfiniteWaitOnNothingSaysItWouldWaitForever) {
  KernelFixture f(GetParam());
  std::vector<Event> events(4);
  const Result<std::size_t> empty = f.backend->wait(events, infinite);
  EXPECT_EQ(empty.code(), Errc::invalid_argument);
  EXPECT_NE(empty.error().message().find("would wait forever"), std::string::npos);
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read, 1));
  EXPECT_EQ(f.backend->wait(events, infinite).code(), Errc::invalid_argument)
      << "registered but idle, and nothing scheduled: still forever";
  f.kernel->config().link_latency = milliseconds(3);
  f.send(p.client, "x");
  EXPECT_EQ(ok(f.backend->wait(events, infinite)), 1u) << "something scheduled: it comes";
}

// A finite timeout too long for the clock to count (up to Duration::max() - 1 ns) with nothing
// scheduled fails like an infinite one, and leaves the clock where it was: jumping to the end of
// virtual time would make the next call's cost overflow it.
TEST_P(EveryPersonality, ATimeoutPastTheEndOfVirtualTimeOnNothingSaysSo) {
  KernelFixture f(GetParam());
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read, 1));
  std::vector<Event> events(4);
  for (const Duration timeout : {Duration::max() - Duration(1), kEndOfVirtualTime}) {
    const Time before = f.kernel->now();
    const Result<std::size_t> none = f.backend->wait(events, timeout);
    EXPECT_EQ(none.code(), Errc::invalid_argument);
    EXPECT_NE(none.error().message().find("past the end of virtual time"), std::string::npos)
        << none.error().message();
    EXPECT_LT(f.kernel->now() - before, milliseconds(1));
  }
  f.send(p.client, "x");
  EXPECT_EQ(ok(f.backend->wait(events, Duration::max() - Duration(1))), 1u)
      << "something ready: the long wait returns it";
  f.kernel->advance(Duration::max());
  EXPECT_EQ(f.kernel->now(), kEndOfVirtualTime) << "advance stops at the end";
  EXPECT_EQ(f.recv(p.server), "x") << "and a call there costs no overflow";
}

TEST_P(EveryPersonality, ZeroTimeoutWithNothingRegisteredIsZero) {
  KernelFixture f(GetParam());
  EXPECT_TRUE(f.wait(Duration::zero()).empty());
  const Time start = f.kernel->now();
  EXPECT_TRUE(f.wait(milliseconds(10)).empty()) << "Win32 select sleeps instead of failing";
  EXPECT_GE(f.kernel->now() - start, milliseconds(10));
  EXPECT_EQ(f.kernel->counts().empty_polls, 1u);
}

TEST_P(EveryPersonality, WaitNeedsRoomForAnEvent) {
  KernelFixture f(GetParam());
  EXPECT_EQ(f.backend->wait({}, Duration::zero()).code(), Errc::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Personalities, EveryPersonality,
                         ::testing::Values("epoll", "poll", "select", "win32-select", "kqueue"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

TEST(BusyPolling, AdvancesTimeAndIsCountedAsWouldBlock) {
  KernelConfig config;
  config.link_latency = milliseconds(1);
  KernelFixture f("epoll", config);
  const Pair p = f.connect_pair();
  f.send(p.client, "finally");
  const CallCounts before = f.kernel->counts();
  std::byte buffer[16];
  std::uint64_t spins = 0;
  Result<std::size_t> got = std::size_t{0};
  while ((got = f.kernel->recv(p.server, buffer)).code() == Errc::would_block)
    ++spins;
  EXPECT_EQ(*got, 7u);
  // 1 ms of latency at 1 us a call.
  EXPECT_GE(spins, 990u);
  EXPECT_LE(spins, 1000u);
  EXPECT_EQ(f.kernel->counts().would_block - before.would_block, spins);
  EXPECT_EQ(f.kernel->counts().calls - before.calls, spins + 1);
}

TEST(BusyPolling, CountsArePerOwnerToo) {
  KernelFixture f("poll");
  const Pair p = f.connect_pair();
  std::byte buffer[4];
  f.kernel->set_owner(7);
  (void)f.kernel->recv(p.server, buffer);
  (void)f.kernel->recv(p.server, buffer);
  f.kernel->set_owner(8);
  (void)f.wait();
  f.kernel->set_owner(0);
  EXPECT_EQ(f.kernel->counts(7), (CallCounts{2, 2, 0}));
  EXPECT_EQ(f.kernel->counts(8), (CallCounts{1, 0, 1}));
  EXPECT_EQ(f.kernel->counts(9), CallCounts{});
  EXPECT_EQ(f.kernel->counts().calls, f.kernel->counts(0).calls + 3);
}

TEST(VirtualClock, AdvanceRunsWhatFallsDueWithoutACall) {
  KernelConfig config;
  config.link_latency = milliseconds(5);
  KernelFixture f("epoll", config);
  const Pair p = f.connect_pair();
  f.send(p.client, "x");
  const std::uint64_t calls = f.kernel->counts().calls;
  ASSERT_TRUE(f.kernel->next_event_time().has_value());
  f.kernel->advance(milliseconds(5));
  EXPECT_FALSE(f.kernel->next_event_time().has_value()) << "the segment landed";
  EXPECT_EQ(f.kernel->counts().calls, calls);
}

}  // namespace
}  // namespace muxlab::fake
