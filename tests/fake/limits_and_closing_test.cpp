// Handle limits per personality, and what each does with a handle closed while registered.
#include <gtest/gtest.h>

#include <string>

#include "kernel_fixture.hpp"

namespace muxlab::fake {
namespace {

bool mentions(const Status& s, const std::string& text) {
  return s.error().message().find(text) != std::string::npos;
}

TEST(Limits, SelectRefusesFdValuesFromFdSetSizeOnNamingTheFdAndTheLimit) {
  KernelFixture f("select");
  EXPECT_EQ(f.backend->capabilities().limit, Capabilities::Limit::fd_value);
  EXPECT_EQ(f.backend->capabilities().handle_limit, kSelectSetSize);
  Handle h = invalid_handle;
  for (std::size_t i = kFirstHandle; i <= kSelectSetSize; ++i)
    h = ok(f.kernel->socket());
  ASSERT_EQ(h, static_cast<Handle>(kSelectSetSize));
  ok(f.backend->add(h - 1, Interest::read, 1), "fd 1023");
  const Status refused = f.backend->add(h, Interest::read, 1);
  EXPECT_EQ(refused.code(), Errc::too_many_handles);
  EXPECT_TRUE(mentions(refused, "fd 1024")) << refused.error().message();
  EXPECT_TRUE(mentions(refused, "FD_SETSIZE (1024)")) << refused.error().message();
  EXPECT_EQ(f.backend->remove(h).code(), Errc::not_registered);
}

TEST(Limits, Win32SelectCountsSocketsAndRefusesThe513th) {
  KernelFixture f("win32-select");
  EXPECT_EQ(f.backend->capabilities().limit, Capabilities::Limit::count);
  EXPECT_EQ(f.backend->capabilities().handle_limit, 512u);
  for (int i = 0; i < 512; ++i)
    ok(f.backend->add(ok(f.kernel->socket()), Interest::read, 1));
  const Handle h = ok(f.kernel->socket());
  const Status refused = f.backend->add(h, Interest::read, 1);
  EXPECT_EQ(refused.code(), Errc::too_many_handles);
  EXPECT_TRUE(mentions(refused, "512")) << refused.error().message();
  EXPECT_TRUE(mentions(refused, "fd " + std::to_string(h))) << refused.error().message();
  ok(f.backend->remove(3));
  ok(f.backend->add(h, Interest::read, 1), "room again after a remove");
}

TEST(Limits, Win32SelectLimitIsConfigurable) {
  KernelConfig config;
  config.win32_select_limit = 2;
  KernelFixture f("win32-select", config);
  EXPECT_EQ(f.backend->capabilities().handle_limit, 2u);
  ok(f.backend->add(ok(f.kernel->socket()), Interest::read, 1));
  ok(f.backend->add(ok(f.kernel->socket()), Interest::read, 1));
  const Status refused = f.backend->add(ok(f.kernel->socket()), Interest::read, 1);
  EXPECT_EQ(refused.code(), Errc::too_many_handles);
  EXPECT_TRUE(mentions(refused, "at most 2")) << refused.error().message();
}

TEST(Limits, EpollPollAndKqueueHaveNoLimitOfTheirOwn) {
  for (const char* mechanism : {"epoll", "poll", "kqueue"}) {
    SCOPED_TRACE(mechanism);
    KernelFixture f(mechanism);
    EXPECT_EQ(f.backend->capabilities().limit, Capabilities::Limit::none);
    for (int i = 0; i < 1100; ++i)
      ASSERT_TRUE(f.backend->add(ok(f.kernel->socket()), Interest::read, 1).ok());
  }
}

// Every backend refuses it at add(): epoll_ctl and kevent do, and the poll, select and Win32
// backends check the handle themselves (Backend::add).
TEST(Limits, AddOfAHandleThatIsNotOpenIsRefused) {
  for (const char* mechanism : {"epoll", "kqueue", "win32-select", "poll", "select"}) {
    SCOPED_TRACE(mechanism);
    KernelFixture f(mechanism);
    EXPECT_EQ(f.backend->add(Handle{40}, Interest::read, 1).code(), Errc::bad_handle);
    EXPECT_FALSE(f.backend->remove(Handle{40}).ok()) << "nothing was half-added";
  }
}

TEST(ClosedWhileRegistered, EpollDropsItSilentlyAndRemoveSaysBadHandle) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.client, Interest::read_write, 1));
  ok(f.kernel->close(p.client));
  EXPECT_TRUE(f.wait().empty());
  EXPECT_EQ(f.backend->remove(p.client).code(), Errc::bad_handle);
  // The number comes back for a new socket (after the listener's, which is lower), which can be
  // registered afresh.
  ok(f.kernel->socket());
  const Handle again = ok(f.kernel->socket());
  ASSERT_EQ(again, p.client);
  ok(f.backend->add(again, Interest::write, 2));
  EXPECT_EQ(f.readiness_of(again),
            Readiness::writable | Readiness::read_closed | Readiness::write_closed);
}

TEST(ClosedWhileRegistered, KqueueRemovesItAndRemoveSaysNotRegistered) {
  KernelFixture f("kqueue");
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.client, Interest::read_write, 1));
  ok(f.kernel->close(p.client));
  EXPECT_TRUE(f.wait().empty());
  EXPECT_EQ(f.backend->remove(p.client).code(), Errc::not_registered);
}

TEST(ClosedWhileRegistered, PollReportsAnErrorOnEveryWaitUntilRemoved) {
  KernelFixture f("poll");
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.client, Interest::read, 1));
  ok(f.kernel->close(p.client));
  EXPECT_EQ(f.readiness_of(p.client), Readiness::error);
  EXPECT_EQ(f.readiness_of(p.client), Readiness::error) << "POLLNVAL every time";
  ok(f.backend->remove(p.client));
  EXPECT_TRUE(f.wait().empty());
}

TEST(ClosedWhileRegistered, PollWatchesAReusedNumberAsTheNewSocket) {
  KernelFixture f("poll");
  const Pair p = f.connect_pair();
  ok(f.backend->add(p.client, Interest::write, 1));
  ok(f.kernel->close(p.client));
  ok(f.kernel->socket());  // takes the listener's old number
  ASSERT_EQ(ok(f.kernel->socket()), p.client);
  EXPECT_EQ(f.readiness_of(p.client),
            Readiness::writable | Readiness::read_closed | Readiness::write_closed)
      << "poll(2) knows numbers, not sockets";
}

TEST(ClosedWhileRegistered, SelectFailsTheWaitNamingTheFd) {
  for (const char* mechanism : {"select", "win32-select"}) {
    SCOPED_TRACE(mechanism);
    KernelFixture f(mechanism);
    const Pair p = f.connect_pair();
    ok(f.backend->add(p.server, Interest::read, 1));
    ok(f.backend->add(p.client, Interest::read, 1));
    ok(f.kernel->close(p.client));
    std::vector<Event> events(4);
    const Result<std::size_t> got = f.backend->wait(events, Duration::zero());
    EXPECT_EQ(got.code(), Errc::bad_handle);
    EXPECT_NE(got.error().message().find("fd " + std::to_string(p.client)), std::string::npos)
        << got.error().message();
    ok(f.backend->remove(p.client));
    EXPECT_EQ(f.readiness_of(p.server), Readiness::readable)
        << "removing the stale registration mends the set (the peer saw the FIN)";
  }
}

}  // namespace
}  // namespace muxlab::fake
