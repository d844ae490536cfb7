// Registering, changing and dropping interest; trigger modes; handles that vanish underneath a
// backend; handle limits.
#include <cstdio>
#include <memory>

#include "conformance_fixture.hpp"

namespace muxlab::conformance {
namespace {

constexpr Readiness R = Readiness::readable;
constexpr Readiness W = Readiness::writable;

// An interest with no bit, and two with bits that are no Interest (alone, and beside read).
constexpr Interest kInvalidInterests[] = {Interest::none, static_cast<Interest>(0x04),
                                          static_cast<Interest>(0x81)};
constexpr const char* kInvalidInterestValues[] = {"0x00", "0x04", "0x81"};

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

// Interest::none or bits that are no Interest: refused with invalid_argument everywhere, naming
// the handle and the value, and nothing changes (to stop reports, a caller removes the handle).
CONFORMANCE_TEST(InvalidInterestIsRefused) {
  const Connection c = connect_pair();
  for (std::size_t i = 0; i < std::size(kInvalidInterests); ++i) {
    const Status added = backend().add(c.client, kInvalidInterests[i], 1);
    expect_fact(Topic::registration, "add with interest none, or with bits that are no Interest",
                fact_text(added), fact_text(Errc::invalid_argument));
    if (added.ok()) {
      (void)backend().remove(c.client);
      continue;
    }
    const std::string message = added.error().message();
    EXPECT_NE(message.find(std::to_string(c.client)), std::string::npos) << message;
    EXPECT_NE(message.find(kInvalidInterestValues[i]), std::string::npos) << message;
  }
  EXPECT_EQ(backend().remove(c.client).code(), Errc::not_registered) << "nothing half-added";

  must(backend().add(c.client, Interest::write, 42), "add");
  for (std::size_t i = 0; i < std::size(kInvalidInterests); ++i) {
    const Status modified = backend().modify(c.client, kInvalidInterests[i], 43);
    expect_fact(Topic::registration, "modify with interest none, or with bits that are no Interest",
                fact_text(modified), fact_text(Errc::invalid_argument));
    if (modified.ok()) continue;
    const std::string message = modified.error().message();
    EXPECT_NE(message.find(std::to_string(c.client)), std::string::npos) << message;
    EXPECT_NE(message.find(kInvalidInterestValues[i]), std::string::npos) << message;
  }
  const std::vector<Event> events = wait(Duration::zero());
  ASSERT_EQ(events.size(), 1u) << "the refused modify left the registration as it was";
  EXPECT_EQ(events[0].token, 42u);
  EXPECT_EQ(events[0].readiness, W);
}

// A handle number that names nothing open: every mechanism refuses it at add (poll and select
// check, since their system calls would only tell at the next wait).
CONFORMANCE_TEST(AddOfAHandleThatIsNotOpenIsRefused) {
  const Handle h = track(must(net().socket(), "socket"));
  close(h);
  const Status added = backend().add(h, Interest::read, 1);
  expect_fact(Topic::registration, "add of a handle number that is not open", fact_text(added),
              fact_text(Errc::bad_handle));
  if (!added.ok()) {
    EXPECT_NE(added.error().message().find(std::to_string(h)), std::string::npos)
        << added.error().message();
  }
  // epoll_ctl(DEL) looks at the descriptor first, so epoll says bad_handle, as it does after
  // ClosedWhileRegistered; the others find no registration.
  expect_fact(Topic::registration, "add of a handle number that is not open: then remove",
              fact_text(backend().remove(h)),
              per_mechanism<std::string>({
                  {"epoll", "bad_handle"},
                  {"poll", "not_registered"},
                  {"select", "not_registered"},
                  {"win32-select", "not_registered"},
                  {"kqueue", "not_registered"},
              }));
  EXPECT_TRUE(wait(Duration::zero()).empty());
}

// modify of a registered handle that was closed without remove: refused where the backend can
// tell at once, the registration left as it was (remove then behaves as ClosedWhileRegistered
// says).
CONFORMANCE_TEST(ModifyOfAHandleClosedUnderneathIsRefused) {
  if (mechanism() == "kqueue")
    GTEST_SKIP() << "kqueue's modify only queues its changes for the next wait, which drops a "
                    "closed handle's registration; not measured here (no kqueue)";
  const Connection c = connect_pair();
  must(backend().add(c.client, Interest::read, 1), "add");
  close(c.client);
  const Status modified = backend().modify(c.client, Interest::write, 2);
  expect_fact(Topic::registration, "a registered handle closed without remove: then modify",
              fact_text(modified), fact_text(Errc::bad_handle));
  if (!modified.ok()) {
    EXPECT_NE(modified.error().message().find(std::to_string(c.client)), std::string::npos)
        << modified.error().message();
  }
}

CONFORMANCE_TEST(EdgeTriggeredReportsEachArrival) {
  const Connection c = connect_pair();
  const Status added = backend().add(c.server, Interest::read, 9, Trigger::edge);
  const bool edge = has(backend().capabilities().triggers, Trigger::edge);
  // Refused clearly where the mechanism lacks it.
  expect_fact(Topic::registration, "add, edge-triggered", fact_text(added),
              edge ? std::string("ok") : fact_text(Errc::unsupported));
  if (!edge) {
    EXPECT_EQ(backend().remove(c.server).code(), Errc::not_registered) << "nothing half-added";
    return;
  }
  ASSERT_TRUE(added.ok()) << added.error().message();
  EXPECT_EQ(poll_once(c.server), Readiness::none);
  send_all(c.client, "abcd");
  EXPECT_EQ(settle(c.server, R), R);
  expect_fact(Topic::registration, "edge-triggered, data reported, unread: the next wait reports",
              poll_once(c.server), Readiness::none);
  std::byte two[2];
  EXPECT_EQ(must(net().recv(c.server, two), "partial read"), 2u);
  expect_fact(Topic::registration, "edge-triggered, after a partial read: wait reports",
              poll_once(c.server, std::chrono::milliseconds(20)), Readiness::none);
  send_all(c.client, "ef");
  expect_fact(Topic::registration, "edge-triggered, more data arrives on unread data: wait reports",
              settle(c.server, R), R);
  must(backend().modify(c.server, Interest::read, 10, Trigger::edge), "modify");
  expect_fact(Topic::registration, "edge-triggered, after modify: wait reports",
              poll_once(c.server), R);
  EXPECT_EQ(recv_some(c.server), "cdef");
}

CONFORMANCE_TEST(OneShotDisarmsUntilModified) {
  const Connection c = connect_pair();
  const Status added = backend().add(c.server, Interest::read, 9, Trigger::oneshot);
  const bool oneshot = has(backend().capabilities().triggers, Trigger::oneshot);
  expect_fact(Topic::registration, "add, one-shot", fact_text(added),
              oneshot ? std::string("ok") : fact_text(Errc::unsupported));
  if (!oneshot) {
    EXPECT_EQ(backend().remove(c.server).code(), Errc::not_registered) << "nothing half-added";
    return;
  }
  ASSERT_TRUE(added.ok()) << added.error().message();
  send_all(c.client, "one");
  EXPECT_EQ(settle(c.server, R), R);
  send_all(c.client, "two");
  expect_fact(Topic::registration, "one-shot, after its report, more data: wait reports",
              poll_once(c.server, std::chrono::milliseconds(20)), Readiness::none);
  EXPECT_EQ(backend().add(c.server, Interest::read, 9, Trigger::oneshot).code(),
            Errc::already_registered)
      << "disarmed is still registered";
  must(backend().modify(c.server, Interest::read, 9, Trigger::oneshot), "re-arm");
  expect_fact(Topic::registration, "one-shot, re-armed by modify: wait reports",
              poll_once(c.server), R);
}

CONFORMANCE_TEST(ClosedWhileRegistered) {
  const Connection c = connect_pair();
  must(backend().add(c.client, Interest::read_write, 1), "add");
  EXPECT_EQ(settle(c.client, W), W);
  close(c.client);  // without remove(): what does each mechanism do?
  std::vector<Event> events(8);
  const Result<std::size_t> got = backend().wait(events, Duration::zero());
  // epoll, kqueue: the kernel dropped the registration with the last reference to the socket.
  // poll: POLLNVAL. select: the whole wait fails, naming the handle.
  std::string reported = got.ok() ? "" : "fails " + fact_text(got.code());
  for (std::size_t i = 0; got.ok() && i < *got; ++i)
    reported += (i ? "; " : "") + fact_text(events[i].readiness);
  if (got.ok() && *got == 0) reported = "no event";
  const bool as_stated = expect_fact(
      Topic::registration, "a registered handle closed without remove: the next wait", reported,
      per_mechanism<std::string>({
          {"epoll", "no event"},
          {"poll", "error"},
          {"select", "fails bad_handle"},
          {"win32-select", "fails bad_handle"},
          {"kqueue", "no event"},
      }));
  if (!as_stated) return;
  if (!got.ok()) {
    EXPECT_NE(got.error().message().find(std::to_string(c.client)), std::string::npos)
        << "the error names the closed handle: " << got.error().message();
  }
  expect_fact(Topic::registration, "a registered handle closed without remove: then remove",
              fact_text(backend().remove(c.client)),
              per_mechanism<std::string>({
                  {"epoll", "bad_handle"},
                  {"poll", "ok"},
                  {"select", "ok"},
                  {"win32-select", "ok"},
                  {"kqueue", "not_registered"},
              }));
  EXPECT_TRUE(wait(Duration::zero()).empty());
}

// poll and select register a number, epoll and kqueue a socket: when a registered handle is
// closed without remove and a new socket gets its number, poll and select report the new socket
// with the old registration's token; on epoll and kqueue the new socket is not registered.
CONFORMANCE_TEST(ReusedHandleNumber) {
  const Connection c = connect_pair();
  must(backend().add(c.client, Interest::read_write, 1), "add");
  EXPECT_EQ(settle(c.client, W), W);
  const Handle old = c.client;
  close(c.client);
  // New listeners take the lowest free numbers (POSIX, the fake kernel); Winsock promises no
  // such order, so a few are tried.
  Handle reused = invalid_handle;
  for (int i = 0; i < 8 && reused == invalid_handle; ++i)
    if (const Handle l = listener(); l == old) reused = l;
  if (reused == invalid_handle) GTEST_SKIP() << "no new socket was given number " << old;
  const Handle client = track(must(net().socket(), "socket"));
  const Status started = net().connect(client, endpoint_of(reused));
  if (!started) {
    EXPECT_EQ(started.code(), Errc::in_progress) << started.error().message();
  }
  const std::optional<Event> seen = event_until(
      reused, [](const Event& e) { return has(e.readiness, R); }, std::chrono::milliseconds(500));
  expect_fact(
      Topic::registration,
      "a registered handle closed without remove, its number reused by a new listener "
      "with a connection queued: wait reports",
      seen ? fmt::format("{}, with the old token ({})", fact_text(seen->readiness), seen->token)
           : std::string("no event"),
      per_mechanism<std::string>({
          {"epoll", "no event"},
          {"poll", "readable, with the old token (1)"},
          {"select", "readable, with the old token (1)"},
          {"win32-select", "readable, with the old token (1)"},
          {"kqueue", "no event"},
      }));
  expect_fact(Topic::registration, "the number reused: then remove",
              fact_text(backend().remove(reused)),
              per_mechanism<std::string>({
                  {"epoll", "not_registered"},
                  {"poll", "ok"},
                  {"select", "ok"},
                  {"win32-select", "ok"},
                  {"kqueue", "not_registered"},
              }));
}

// A regular file is no socket. epoll refuses it (EPERM, which muxlab reports as bad_handle) and
// registers nothing; poll and select take it and report it ready for both directions.
CONFORMANCE_TEST(RegularFile) {
#if defined(_WIN32)
  GTEST_SKIP() << "Winsock's select takes sockets only (a file handle is not a socket)";
#else
  if (env().is_fake()) GTEST_SKIP() << "the fake kernel has no files";
  if (mechanism() == "kqueue")
    GTEST_SKIP() << "kqueue's filters on regular files differ between the BSDs and libkqueue; "
                    "not measured here (no kqueue)";
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::tmpfile(), &std::fclose);
  ASSERT_NE(file, nullptr) << "tmpfile";
  std::fputs("some bytes", file.get());
  std::fflush(file.get());
  std::rewind(file.get());
  const Handle fd = fileno(file.get());
  const Status added = backend().add(fd, Interest::read_write, 7);
  const bool as_stated = expect_fact(
      Topic::registration, "a regular file: add", fact_text(added),
      per_mechanism<std::string>({{"epoll", "bad_handle"}, {"poll", "ok"}, {"select", "ok"}}));
  if (!as_stated) {
    if (added.ok()) (void)backend().remove(fd);
    return;
  }
  if (!added.ok()) {
    EXPECT_EQ(&added.code().category(), &muxlab_category())
        << "a portable code: " << added.error().message();
    EXPECT_NE(added.error().message().find(std::to_string(fd)), std::string::npos)
        << added.error().message();
    EXPECT_EQ(backend().remove(fd).code(), Errc::not_registered)
        << "nothing registered: " << backend().remove(fd).error().message();
    EXPECT_TRUE(wait(Duration::zero()).empty());
    return;
  }
  expect_fact(Topic::registration, "a regular file: wait reports", poll_once(fd),
              per_mechanism<Readiness>({{"poll", R | W}, {"select", R | W}}));
  must(backend().remove(fd), "remove the file");
#endif
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
    const std::string refused = caps.limit == Capabilities::Limit::fd_value
                                    ? fmt::format("fd ≥ {}", caps.handle_limit)
                                    : fmt::format("handle number {}", added + 1);
    if (!expect_fact(Topic::limits, "add past the limit", refused + ": " + fact_text(s),
                     refused + ": " + fact_text(Errc::too_many_handles)))
      return;
    const std::string message = s.error().message();
    EXPECT_NE(message.find(std::to_string(h)), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(caps.handle_limit)), std::string::npos) << message;
    EXPECT_EQ(backend().remove(h).code(), Errc::not_registered) << "nothing half-added";
    return;
  }
  EXPECT_EQ(caps.limit, Capabilities::Limit::none) << "the limit was never reached";
  expect_fact(Topic::limits, "add past the limit", fmt::format("no limit: {} handles added", added),
              std::string("no limit: 1100 handles added"));
}

}  // namespace
}  // namespace muxlab::conformance
