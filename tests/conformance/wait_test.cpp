// wait(): timeouts, wake-ups, interrupted system calls, and more ready handles than room.
#include <set>
#include <thread>

#if !defined(_WIN32)
#include <signal.h>
#include <sys/time.h>
#endif

#include "conformance_fixture.hpp"

namespace muxlab::conformance {
namespace {

using std::chrono::milliseconds;

CONFORMANCE_TEST(ZeroTimeoutWithNothingRegistered) {
  // Win32's select fails with WSAEINVAL on three empty sets: the backend must not pass that on.
  std::vector<Event> events(4);
  const Result<std::size_t> got = backend().wait(events, Duration::zero());
  expect_fact(Topic::waiting, "nothing registered, timeout 0: wait",
              got.ok() ? fmt::format("{} events", *got) : fact_text(got.code()),
              std::string("0 events"));
}

CONFORMANCE_TEST(FiniteTimeoutWithNothingRegistered) {
  const Time start = env().clock().now();
  EXPECT_TRUE(wait(milliseconds(30)).empty());
  EXPECT_GE(env().clock().now() - start, milliseconds(30));
}

CONFORMANCE_TEST(FiniteTimeoutExpires) {
  const Connection c = connect_pair();
  must(backend().add(c.server, Interest::read, 1), "add");
  const Time start = env().clock().now();
  EXPECT_TRUE(wait(milliseconds(50)).empty());
  const Duration waited = env().clock().now() - start;
  EXPECT_GE(waited, milliseconds(50)) << "returned early";
  if (env().is_fake()) {
    EXPECT_LT(waited, milliseconds(51)) << "virtual time is exact, give or take a call's cost";
  }
}

CONFORMANCE_TEST_WITHOUT_DIFFERENTIAL(
    InfiniteWaitWakesOnData,
    "on a real kernel the data comes from another thread, whose send lands anywhere in the "
    "trace") {
  const Connection c = connect_pair();
  must(backend().add(c.server, Interest::read, 1), "add");
  std::thread sender;
  if (env().is_fake()) {
    send_all(c.client, "wake");  // delivered after the simulated link's latency
  } else {
    sender = std::thread([&] {
      std::this_thread::sleep_for(milliseconds(30));
      (void)net().send(c.client, as_bytes("wake"));
    });
  }
  const std::vector<Event> events = wait(infinite);
  if (sender.joinable()) sender.join();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].handle, c.server);
  EXPECT_EQ(events[0].readiness, Readiness::readable);
}

CONFORMANCE_TEST(SmallEventBufferReportsEveryoneInTurn) {
  const Connection a = connect_pair();
  const Connection b = connect_pair();
  const Connection c = connect_pair();
  for (Handle h : {a.client, b.client, c.client})
    must(backend().add(h, Interest::write, static_cast<std::uint64_t>(h)), "add");
  std::set<Handle> seen;
  Event one[1];
  for (int i = 0; i < 3; ++i) {
    const std::size_t n = must(backend().wait(one, Duration::zero()), "wait");
    ASSERT_EQ(n, 1u);
    EXPECT_EQ(one[0].token, static_cast<std::uint64_t>(one[0].handle));
    seen.insert(one[0].handle);
  }
  EXPECT_EQ(seen.size(), 3u) << "three waits with room for one each reach all three handles";
}

#if !defined(_WIN32)
volatile sig_atomic_t g_alarms = 0;
void count_alarm(int) {
  g_alarms = g_alarms + 1;
}

// SIGALRM from an interval timer, counted by a handler installed without SA_RESTART, so each one
// makes the wait's system call fail with EINTR. Gone with the object: the timer and the handler.
class Alarms {
 public:
  explicit Alarms(const itimerval& timer) {
    struct sigaction action {};
    action.sa_handler = count_alarm;
    sigemptyset(&action.sa_mask);
    installed_ = sigaction(SIGALRM, &action, &previous_) == 0;
    g_alarms = 0;
    started_ = installed_ && setitimer(ITIMER_REAL, &timer, nullptr) == 0;
  }
  ~Alarms() {
    stop();
    if (installed_) sigaction(SIGALRM, &previous_, nullptr);
  }
  Alarms(const Alarms&) = delete;
  Alarms& operator=(const Alarms&) = delete;

  bool started() const { return started_; }
  void stop() {
    const itimerval off{};
    setitimer(ITIMER_REAL, &off, nullptr);
  }
  int count() const { return g_alarms; }

 private:
  struct sigaction previous_ {};
  bool installed_ = false;
  bool started_ = false;
};

CONFORMANCE_TEST(InterruptedWaitResumesWithRemainingTime) {
  if (env().is_fake()) GTEST_SKIP() << "signals do not reach a virtual kernel";
  const Connection c = connect_pair();
  must(backend().add(c.server, Interest::read, 1), "add");
  Alarms alarms(itimerval{{0, 10'000}, {0, 10'000}});  // every 10 ms
  ASSERT_TRUE(alarms.started());

  const Time start = env().clock().now();
  const std::vector<Event> events = wait(milliseconds(120));
  const Duration waited = env().clock().now() - start;

  alarms.stop();
  EXPECT_GT(alarms.count(), 3) << "the wait was interrupted";
  EXPECT_TRUE(events.empty());
  // An interruption must not end the wait early, nor restart it from the full timeout each time.
  expect_fact(Topic::waiting, "signals every 10 ms during a 120 ms wait: wait returns after",
              std::string(waited < milliseconds(120)    ? "less than 120 ms"
                          : waited < milliseconds(1000) ? "120 ms or more (less than 1 s)"
                                                        : "1 s or more"),
              std::string("120 ms or more (less than 1 s)"));
}

// The test above allows up to 1 s, wide enough for Wine and loaded machines, and so would pass a
// wait that started its whole timeout again once. One signal at 60 ms of a 100 ms wait tells:
// a restart ends at 160 ms, giving up at the signal ends at 60 ms; 40 ms of slack for load.
CONFORMANCE_TEST(InterruptedWaitDoesNotStartItsTimeoutAgain) {
  if (env().is_fake()) GTEST_SKIP() << "signals do not reach a virtual kernel";
  const Connection c = connect_pair();
  must(backend().add(c.server, Interest::read, 1), "add");
  Alarms alarms(itimerval{{0, 0}, {0, 60'000}});  // once, at 60 ms
  ASSERT_TRUE(alarms.started());

  const Time start = env().clock().now();
  const std::vector<Event> events = wait(milliseconds(100));
  const Duration waited = env().clock().now() - start;

  alarms.stop();
  EXPECT_EQ(alarms.count(), 1) << "the signal came during the wait";
  EXPECT_TRUE(events.empty());
  EXPECT_GE(waited, milliseconds(100)) << "the interruption ended the wait early";
  EXPECT_LT(waited, milliseconds(140)) << "the wait started its whole timeout again";
}
#endif

}  // namespace
}  // namespace muxlab::conformance
