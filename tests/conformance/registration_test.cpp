// Registering, changing and dropping interest; trigger modes; handles that vanish underneath a
// backend; handle limits.
#include "conformance_fixture.hpp"

namespace muxlab::conformance {
namespace {

constexpr Readiness R = Readiness::readable;
constexpr Readiness W = Readiness::writable;

CONFORMANCE_TEST(ModifyChangesInterestAndToken) {
  const Connection c = connect_pair();
  must(backend().add(c.client, Interest::read, 1), "add");
  EXPECT_EQ(poll_once(c.client), Readiness::none) << "idle socket, read interest: nothing";
  must(backend().modify(c.client, Interest::write, 2), "modify to write");
  const std::vector<Event> events = wait(Duration::zero());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].readiness, W);
  EXPECT_EQ(events[0].token, 2u) << "the token given to modify() is the one reported";
  must(backend().modify(c.client, Interest::read, 3), "modify back to read");
  EXPECT_EQ(poll_once(c.client), Readiness::none);
}

CONFORMANCE_TEST(RemoveStopsReports) {
  const Connection c = connect_pair();
  must(backend().add(c.server, Interest::read, 1), "add");
  send_all(c.client, "data");
  EXPECT_EQ(settle(c.server, R), R);
  must(backend().remove(c.server), "remove");
  EXPECT_EQ(poll_once(c.server, std::chrono::milliseconds(20)), Readiness::none);
  EXPECT_EQ(recv_some(c.server), "data") << "removing interest leaves the data alone";
}

CONFORMANCE_TEST(RegistrationErrorsLeaveStateIntact) {
  const Connection c = connect_pair();
  EXPECT_EQ(backend().modify(c.client, Interest::read, 1).code(), Errc::not_registered);
  EXPECT_EQ(backend().remove(c.client).code(), Errc::not_registered);
  must(backend().add(c.client, Interest::write, 42), "add");
  EXPECT_EQ(backend().add(c.client, Interest::read, 43).code(), Errc::already_registered);
  const std::vector<Event> events = wait(Duration::zero());
  ASSERT_EQ(events.size(), 1u) << "the failed second add must not disturb the first";
  EXPECT_EQ(events[0].token, 42u);
  EXPECT_EQ(events[0].readiness, W);
  must(backend().remove(c.client), "remove");
  EXPECT_EQ(backend().remove(c.client).code(), Errc::not_registered);
  EXPECT_TRUE(wait(Duration::zero()).empty());
}

CONFORMANCE_TEST(EdgeTriggeredReportsEachArrival) {
  const Connection c = connect_pair();
  const Status added = backend().add(c.server, Interest::read, 9, Trigger::edge);
  if (!has(backend().capabilities().triggers, Trigger::edge)) {
    EXPECT_EQ(added.code(), Errc::unsupported) << "refused clearly where the mechanism lacks it";
    EXPECT_EQ(backend().remove(c.server).code(), Errc::not_registered) << "nothing half-added";
    return;
  }
  ASSERT_TRUE(added.ok()) << added.error().message();
  EXPECT_EQ(poll_once(c.server), Readiness::none);
  send_all(c.client, "abcd");
  EXPECT_EQ(settle(c.server, R), R);
  EXPECT_EQ(poll_once(c.server), Readiness::none) << "no new edge, no new report";
  std::byte two[2];
  EXPECT_EQ(must(net().recv(c.server, two), "partial read"), 2u);
  EXPECT_EQ(poll_once(c.server, std::chrono::milliseconds(20)), Readiness::none)
      << "a partial read alone is no edge";
  send_all(c.client, "ef");
  EXPECT_EQ(settle(c.server, R), R) << "new data is an edge although the buffer was not empty";
  must(backend().modify(c.server, Interest::read, 10, Trigger::edge), "modify");
  EXPECT_EQ(poll_once(c.server), R) << "modify re-reports what is still ready";
  EXPECT_EQ(recv_some(c.server), "cdef");
}

CONFORMANCE_TEST(OneShotDisarmsUntilModified) {
  const Connection c = connect_pair();
  const Status added = backend().add(c.server, Interest::read, 9, Trigger::oneshot);
  if (!has(backend().capabilities().triggers, Trigger::oneshot)) {
    EXPECT_EQ(added.code(), Errc::unsupported);
    EXPECT_EQ(backend().remove(c.server).code(), Errc::not_registered) << "nothing half-added";
    return;
  }
  ASSERT_TRUE(added.ok()) << added.error().message();
  send_all(c.client, "one");
  EXPECT_EQ(settle(c.server, R), R);
  send_all(c.client, "two");
  EXPECT_EQ(poll_once(c.server, std::chrono::milliseconds(20)), Readiness::none)
      << "disarmed after its one report";
  EXPECT_EQ(backend().add(c.server, Interest::read, 9, Trigger::oneshot).code(),
            Errc::already_registered)
      << "disarmed is still registered";
  must(backend().modify(c.server, Interest::read, 9, Trigger::oneshot), "re-arm");
  EXPECT_EQ(poll_once(c.server), R);
}

CONFORMANCE_TEST(ClosedWhileRegistered) {
  const Connection c = connect_pair();
  must(backend().add(c.client, Interest::read_write, 1), "add");
  EXPECT_EQ(settle(c.client, W), W);
  close(c.client);  // without remove(): what does each mechanism do?
  std::vector<Event> events(8);
  const Result<std::size_t> got = backend().wait(events, Duration::zero());
  const std::string_view m = mechanism();
  if (m == "epoll" || m == "kqueue") {
    // The kernel dropped the registration with the last reference to the socket.
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(*got, 0u);
    const Errc after =
        per_mechanism<Errc>({{"epoll", Errc::bad_handle}, {"kqueue", Errc::not_registered}});
    EXPECT_EQ(backend().remove(c.client).code(), after);
  } else if (m == "poll") {
    ASSERT_TRUE(got.ok()) << got.error().message();
    ASSERT_EQ(*got, 1u) << "POLLNVAL is reported";
    EXPECT_EQ(events[0].readiness, Readiness::error);
    must(backend().remove(c.client), "remove the stale registration");
  } else {
    ASSERT_TRUE(m == "select" || m == "win32-select") << "no expectation for " << m;
    ASSERT_FALSE(got.ok()) << "select fails the whole wait";
    EXPECT_EQ(got.code(), Errc::bad_handle);
    EXPECT_NE(got.error().message().find(std::to_string(c.client)), std::string::npos)
        << "the error names the closed handle: " << got.error().message();
    must(backend().remove(c.client), "remove the stale registration");
  }
  EXPECT_TRUE(wait(Duration::zero()).empty());
}

// Opens sockets until the backend's limit is passed (or 1100 handles, past select's 1024).
CONFORMANCE_TEST_WITHOUT_DIFFERENTIAL(
    HandleLimitIsRefusedClearly,
    "select's limit is on fd values, and which socket reaches fd 1024 depends on how many "
    "descriptors the process inherited; the fake numbers from 3") {
  const Capabilities caps = backend().capabilities();
  std::size_t added = 0;
  for (int i = 0; i < 1100; ++i) {
    const Handle h = track(must(net().socket(), "socket"));
    const Status s = backend().add(h, Interest::read, static_cast<std::uint64_t>(h));
    const bool over = (caps.limit == Capabilities::Limit::fd_value &&
                       static_cast<std::size_t>(h) >= caps.handle_limit) ||
                      (caps.limit == Capabilities::Limit::count && added >= caps.handle_limit);
    if (!over) {
      ASSERT_TRUE(s.ok()) << "handle " << h << ": " << s.error().message();
      ++added;
      continue;
    }
    ASSERT_EQ(s.code(), Errc::too_many_handles) << "handle " << h;
    const std::string message = s.error().message();
    EXPECT_NE(message.find(std::to_string(h)), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(caps.handle_limit)), std::string::npos) << message;
    EXPECT_EQ(backend().remove(h).code(), Errc::not_registered) << "nothing half-added";
    return;
  }
  EXPECT_EQ(caps.limit, Capabilities::Limit::none) << "the limit was never reached";
  EXPECT_EQ(added, 1100u);
}

}  // namespace
}  // namespace muxlab::conformance
