// Level, edge and one-shot registrations. Edge-triggered must be exactly Linux's EPOLLET (the
// fidelity bugs simulators keep having): an event on every arrival of data, none after a partial
// read, modify() re-reports, every event carries everything ready. kqueue's EV_CLEAR and
// EV_ONESHOT behave alike; poll and select refuse both modes.
#include <gtest/gtest.h>

#include "kernel_fixture.hpp"

namespace muxlab::fake {
namespace {

using std::chrono::milliseconds;
constexpr Readiness R = Readiness::readable;
constexpr Readiness W = Readiness::writable;

class WithTriggers : public ::testing::TestWithParam<std::string> {};

TEST_P(WithTriggers, EdgeTriggeredReportsEveryArrivalAndNoPartialRead) {
  KernelFixture f(GetParam());
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read, 9, Trigger::edge));
  EXPECT_EQ(f.readiness_of(p.server), Readiness::none);
  f.send(p.client, "abcd");
  EXPECT_EQ(f.readiness_of(p.server), R);
  EXPECT_EQ(f.readiness_of(p.server), Readiness::none) << "no new edge, no new report";
  std::byte two[2];
  EXPECT_EQ(ok(f.kernel->recv(p.server, two)), 2u);
  EXPECT_EQ(f.readiness_of(p.server, milliseconds(20)), Readiness::none)
      << "a partial read is no edge";
  f.send(p.client, "ef");
  EXPECT_EQ(f.readiness_of(p.server), R) << "new data is an edge though the buffer was not empty";
  ok(f.backend->modify(p.server, Interest::read, 10, Trigger::edge));
  const std::vector<Event> events = f.wait();
  ASSERT_EQ(events.size(), 1u) << "modify re-reports what is ready now";
  EXPECT_EQ(events[0].token, 10u);
  EXPECT_EQ(f.recv(p.server), "cdef");
}

TEST_P(WithTriggers, EdgeTriggeredReadWriteEventsCarryWritableToo) {
  KernelFixture f(GetParam());
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read_write, 1, Trigger::edge));
  EXPECT_EQ(f.readiness_of(p.server), W) << "ready when added";
  EXPECT_EQ(f.readiness_of(p.server), Readiness::none);
  f.send(p.client, "x");
  EXPECT_EQ(f.readiness_of(p.server), R | W) << "the arrival reports everything ready";
  f.send(p.server, "y");
  EXPECT_EQ(f.readiness_of(p.server), Readiness::none) << "a send with room to spare wakes nobody";
  EXPECT_EQ(f.recv(p.client), "y");
  EXPECT_EQ(f.readiness_of(p.server), Readiness::none) << "nor does the peer reading it";
}

TEST_P(WithTriggers, EdgeTriggeredWritableComesBackOnceTheBufferDrains) {
  KernelFixture f(GetParam());
  const Pair p = f.connect_pair();
  ok(f.kernel->set_send_buffer(p.client, 4096));
  ok(f.backend->add(p.client, Interest::write, 1, Trigger::edge));
  EXPECT_EQ(f.readiness_of(p.client), W);
  const std::vector<std::byte> big(1 << 20);
  while (f.kernel->send(p.client, big).ok()) {
  }
  EXPECT_EQ(f.readiness_of(p.client, milliseconds(10)), Readiness::none);
  std::vector<std::byte> chunk(1 << 20);
  while (f.kernel->recv(p.server, chunk).ok()) {
  }
  EXPECT_EQ(f.readiness_of(p.client), W);
  EXPECT_EQ(f.readiness_of(p.client), Readiness::none) << "one edge, one event";
}

TEST_P(WithTriggers, EdgeTriggeredSeesTheFinAndTheReset) {
  KernelFixture f(GetParam());
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read, 1, Trigger::edge));
  ok(f.kernel->shutdown(p.client, Direction::write));
  EXPECT_TRUE(has(f.readiness_of(p.server), R | Readiness::read_closed));
  EXPECT_EQ(f.readiness_of(p.server), Readiness::none);
  ok(f.kernel->abort(p.client));
  EXPECT_TRUE(has(f.readiness_of(p.server), Readiness::error)) << "the reset is a new edge";
}

TEST_P(WithTriggers, OneShotDisarmsUntilModify) {
  KernelFixture f(GetParam());
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read, 9, Trigger::oneshot));
  f.send(p.client, "one");
  EXPECT_EQ(f.readiness_of(p.server), R);
  f.send(p.client, "two");
  EXPECT_EQ(f.readiness_of(p.server, milliseconds(20)), Readiness::none) << "disarmed";
  EXPECT_EQ(f.backend->add(p.server, Interest::read, 9, Trigger::oneshot).code(),
            Errc::already_registered);
  ok(f.backend->modify(p.server, Interest::read, 9, Trigger::oneshot));
  EXPECT_EQ(f.readiness_of(p.server), R) << "re-armed, and still ready";
  EXPECT_EQ(f.readiness_of(p.server), Readiness::none);
  ok(f.backend->modify(p.server, Interest::read, 9));
  EXPECT_EQ(f.readiness_of(p.server), R) << "back to level-triggered";
  EXPECT_EQ(f.readiness_of(p.server), R);
}

TEST_P(WithTriggers, LevelTriggeredKeepsReportingUntilTheStateChanges) {
  KernelFixture f(GetParam());
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read, 1));
  f.send(p.client, "abc");
  EXPECT_EQ(f.readiness_of(p.server), R);
  EXPECT_EQ(f.readiness_of(p.server), R);
  EXPECT_EQ(f.recv(p.server), "abc");
  EXPECT_EQ(f.readiness_of(p.server), Readiness::none);
  EXPECT_EQ(f.readiness_of(p.server), Readiness::none);
}

INSTANTIATE_TEST_SUITE_P(ReadyListPersonalities, WithTriggers,
                         ::testing::Values("epoll", "kqueue"));

class WithoutTriggers : public ::testing::TestWithParam<std::string> {};

TEST_P(WithoutTriggers, EdgeAndOneShotAreRefusedAndNothingIsHalfAdded) {
  KernelFixture f(GetParam());
  const Pair p = f.connect_pair();
  for (Trigger t : {Trigger::edge, Trigger::oneshot, Trigger::edge | Trigger::oneshot}) {
    const Status added = f.backend->add(p.server, Interest::read, 1, t);
    EXPECT_EQ(added.code(), Errc::unsupported);
    EXPECT_NE(added.error().message().find("level-triggered only"), std::string::npos)
        << added.error().message();
    EXPECT_EQ(f.backend->remove(p.server).code(), Errc::not_registered);
  }
  ok(f.backend->add(p.server, Interest::read, 1));
  EXPECT_EQ(f.backend->modify(p.server, Interest::read, 1, Trigger::edge).code(),
            Errc::unsupported);
  EXPECT_EQ(f.backend->capabilities().triggers, Trigger::level);
}

INSTANTIATE_TEST_SUITE_P(ScanningPersonalities, WithoutTriggers,
                         ::testing::Values("poll", "select", "win32-select"), [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

}  // namespace
}  // namespace muxlab::fake
