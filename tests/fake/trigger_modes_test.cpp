// Level, edge and one-shot registrations. Edge-triggered must be exactly Linux's EPOLLET (the
// fidelity bugs simulators keep having): an event on every arrival of data, none after a partial
// read, modify() re-reports, every event carries everything ready. kqueue's EV_CLEAR and
// EV_ONESHOT behave alike for one filter; with both, each filter fires on its own condition (the
// Kqueue* tests below). poll and select refuse both modes.
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

// Linux: with IN|OUT|ET every wake-up reports everything ready, so every arrival carries OUT.
TEST(EpollEdgeTriggered, ReadWriteEventsCarryWritableToo) {
  KernelFixture f("epoll");
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

// kqueue keeps a knote per filter: FreeBSD's soo_kqfilter() hangs EVFILT_READ on the receive
// buffer's knote list and EVFILT_WRITE on the send buffer's, and sowakeup() runs only the list of
// the buffer that changed. Data arriving runs filt_soread(); an acknowledgment that frees send
// space runs filt_sowrite() (tcp_input's sowwakeup() after sbcut). With EV_CLEAR each filter
// therefore fires on its own condition, and an event carries only the filters that fired, each
// with its `data`.
class KqueueFilters : public ::testing::Test {
 protected:
  // What one wait reported for h: its event, or one with readiness none.
  Event event_of(Handle h, Duration timeout = Duration::zero()) {
    for (const Event& e : f.wait(timeout))
      if (e.handle == h) return e;
    return Event{h};
  }

  KernelFixture f{"kqueue"};
};

TEST_F(KqueueFilters, EdgeTriggeredArrivalFiresTheReadFilterOnly) {
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read_write, 1, Trigger::edge));
  Event e = event_of(p.server);
  EXPECT_EQ(e.readiness, W) << "EV_ADD checks each filter: writable when added";
  EXPECT_EQ(e.read_data, kNotReported);
  EXPECT_GT(e.write_data, 0);
  EXPECT_EQ(event_of(p.server).readiness, Readiness::none);
  f.send(p.client, "x");
  e = event_of(p.server);
  EXPECT_EQ(e.readiness, R) << "an arrival runs the read filter, not the write filter";
  EXPECT_EQ(e.read_data, 1);
  EXPECT_EQ(e.write_data, kNotReported) << "the write filter did not fire";
  f.send(p.client, "yz");
  e = event_of(p.server);
  EXPECT_EQ(e.readiness, R) << "no writable on a later arrival either";
  EXPECT_EQ(e.read_data, 3);
  EXPECT_EQ(e.write_data, kNotReported);
  EXPECT_EQ(event_of(p.server, milliseconds(20)).readiness, Readiness::none);
  EXPECT_EQ(f.recv(p.server), "xyz");
}

TEST_F(KqueueFilters, EdgeTriggeredWriteFilterFiresWhenAnAcknowledgmentFreesSpace) {
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read_write, 1, Trigger::edge));
  EXPECT_EQ(event_of(p.server).readiness, W);
  f.send(p.server, "y");
  const Event e = event_of(p.server, milliseconds(20));
  EXPECT_EQ(e.readiness, W) << "the peer's acknowledgment of \"y\" freed send space";
  EXPECT_EQ(e.read_data, kNotReported);
  EXPECT_GT(e.write_data, 0);
  EXPECT_EQ(f.recv(p.client), "y");
  EXPECT_EQ(event_of(p.server, milliseconds(20)).readiness, Readiness::none)
      << "the peer reading it frees nothing on this side";
}

TEST_F(KqueueFilters, EdgeTriggeredWriteFilterFiresWhenThePeerDrainsAFullBuffer) {
  const Pair p = f.connect_pair();
  ok(f.kernel->set_send_buffer(p.client, 4096));
  ok(f.backend->add(p.client, Interest::read_write, 1, Trigger::edge));
  EXPECT_EQ(event_of(p.client).readiness, W);
  const std::vector<std::byte> big(1 << 20);
  while (f.kernel->send(p.client, big).ok()) {
  }
  EXPECT_EQ(event_of(p.client, milliseconds(10)).readiness, Readiness::none)
      << "no room: the write filter stays false";
  std::vector<std::byte> chunk(1 << 20);
  while (f.kernel->recv(p.server, chunk).ok() || f.kernel->next_event_time()) {
    if (auto next = f.kernel->next_event_time()) f.kernel->run_until(*next);
  }
  Event e = event_of(p.client);
  EXPECT_EQ(e.readiness, W) << "the peer drained the buffer: room again";
  EXPECT_EQ(e.read_data, kNotReported);
  EXPECT_GT(e.write_data, 0);
  EXPECT_EQ(event_of(p.client, milliseconds(20)).readiness, Readiness::none)
      << "everything is acknowledged: nothing more frees space";
  f.send(p.server, "reply");
  e = event_of(p.client);
  EXPECT_EQ(e.readiness, R) << "an arrival is no change of send space";
  EXPECT_EQ(e.read_data, 5);
  EXPECT_EQ(e.write_data, kNotReported);
}

TEST_F(KqueueFilters, EdgeTriggeredEndOfStreamFiresTheFilterOfItsSide) {
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read_write, 1, Trigger::edge));
  EXPECT_EQ(event_of(p.server).readiness, W);
  ok(f.kernel->shutdown(p.client, Direction::write));
  Event e = event_of(p.server, milliseconds(20));
  EXPECT_EQ(e.readiness, R | Readiness::read_closed)
      << "the FIN runs the read filter only (socantrcvmore), with EV_EOF";
  EXPECT_EQ(e.read_data, 0);
  EXPECT_EQ(e.write_data, kNotReported);
  ok(f.kernel->shutdown(p.server, Direction::write));
  e = event_of(p.server);
  EXPECT_EQ(e.readiness, W | Readiness::write_closed)
      << "a local shutdown(write) runs the write filter only (socantsendmore), with EV_EOF";
  EXPECT_EQ(e.read_data, kNotReported);
  EXPECT_EQ(event_of(p.server, milliseconds(20)).readiness, Readiness::none);
}

TEST_F(KqueueFilters, EdgeTriggeredResetFiresBothFilters) {
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read_write, 1, Trigger::edge));
  EXPECT_EQ(event_of(p.server).readiness, W);
  ok(f.kernel->abort(p.client));
  const Event e = event_of(p.server, milliseconds(20));
  EXPECT_EQ(e.readiness,
            R | W | Readiness::read_closed | Readiness::write_closed | Readiness::error)
      << "the reset disconnects both buffers (soisdisconnected): both filters, EV_EOF, fflags";
  EXPECT_EQ(e.read_data, 0);
  EXPECT_EQ(e.write_data, 0);
}

// EV_ONESHOT is per knote too, and the backend disables the other knote once one fired
// (docs/kqueue.md), so a report carries the filters whose knotes had fired by then.
TEST_F(KqueueFilters, OneShotReportsTheFiltersThatFiredThenDisarms) {
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read_write, 1, Trigger::oneshot));
  Event e = event_of(p.server);
  EXPECT_EQ(e.readiness, W) << "only the write knote fired: nothing to read yet";
  EXPECT_EQ(e.read_data, kNotReported);
  f.send(p.client, "x");
  EXPECT_EQ(event_of(p.server, milliseconds(20)).readiness, Readiness::none)
      << "the read knote was disabled with the report";
  ok(f.backend->modify(p.server, Interest::read_write, 2, Trigger::oneshot));
  e = event_of(p.server);
  EXPECT_EQ(e.readiness, R | W) << "re-armed: both knotes checked afresh, both true";
  EXPECT_EQ(e.read_data, 1);
  EXPECT_GT(e.write_data, 0);
  EXPECT_EQ(e.token, 2u);
  f.send(p.client, "y");
  EXPECT_EQ(event_of(p.server, milliseconds(20)).readiness, Readiness::none);
}

TEST_F(KqueueFilters, LevelTriggeredReportsEveryFilterThatIsTrue) {
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.server, Interest::read_write, 1));
  EXPECT_EQ(event_of(p.server).readiness, W);
  f.send(p.client, "x");
  for (int i = 0; i < 2; ++i) {
    const Event e = event_of(p.server);
    EXPECT_EQ(e.readiness, R | W) << "level-triggered knotes stay queued while true";
    EXPECT_EQ(e.read_data, 1);
    EXPECT_GT(e.write_data, 0);
  }
}

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
