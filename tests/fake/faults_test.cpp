// Seeded fault injection, and determinism: the same seed gives the same run, call for call.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernel_fixture.hpp"

namespace muxlab::fake {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(Faults, JitterDelaysSegmentsButKeepsThemInOrder) {
  KernelConfig config;
  config.link_latency = milliseconds(1);
  config.faults.latency_jitter = milliseconds(5);
  KernelFixture f("epoll", config);
  const Pair p = f.connect_pair();
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    const std::string piece = std::to_string(i) + ",";
    f.send(p.client, piece);
    expected += piece;
  }
  ok(f.backend->add(p.server, Interest::read, 1));
  std::string received;
  std::vector<Duration> gaps;
  Time last = f.kernel->now();
  while (received.size() < expected.size()) {
    ASSERT_EQ(f.readiness_of(p.server, milliseconds(100)), Readiness::readable);
    gaps.push_back(f.kernel->now() - last);
    last = f.kernel->now();
    received += f.recv(p.server);
  }
  EXPECT_EQ(received, expected);
  EXPECT_GT(f.kernel->now(), Time(milliseconds(2))) << "some segment was late beyond the latency";
  EXPECT_GT(gaps.size(), 1u) << "segments landed at different times";
}

TEST(Faults, RefusedConnectThoughSomeoneListens) {
  KernelConfig config;
  config.faults.refuse_connect = 1;
  KernelFixture f("epoll", config);
  const Handle l = f.listener();
  const Handle c = ok(f.kernel->socket());
  EXPECT_EQ(f.kernel->connect(c, f.endpoint(l)).code(), Errc::in_progress);
  EXPECT_EQ(ok(f.kernel->pending_error(c)), Errc::connection_refused);
  EXPECT_EQ(f.kernel->accept(l).code(), Errc::would_block);
}

TEST(Faults, ShortSendsAcceptFewerBytesThanThereIsRoomFor) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  FaultPlan plan;
  plan.short_send = 1;
  ok(f.kernel->set_faults(p.client, plan));
  const std::string text(1000, 'x');
  std::size_t total = 0;
  for (int i = 0; i < 20; ++i) {
    const std::size_t n = f.send(p.client, text);
    EXPECT_GE(n, 1u);
    EXPECT_LT(n, text.size());
    total += n;
  }
  std::string received;
  while (received.size() < total)
    received += f.recv(p.server);
  EXPECT_EQ(received, std::string(total, 'x'));
  // The plan is the socket's own: the peer's sends are whole.
  EXPECT_EQ(f.send(p.server, text), text.size());
}

TEST(Faults, AnInjectedSpuriousWakeupIsReportedAndRecvFindsNothing) {
  for (const char* mechanism : {"epoll", "poll", "select", "kqueue"}) {
    SCOPED_TRACE(mechanism);
    KernelFixture f(mechanism);
    const Pair p = f.connect_pair();
    ok(f.backend->add(p.server, Interest::read, 1));
    EXPECT_EQ(f.readiness_of(p.server), Readiness::none);
    ok(f.kernel->inject_spurious_wakeup(p.server));
    EXPECT_EQ(f.readiness_of(p.server), Readiness::readable);
    std::byte b[4];
    EXPECT_EQ(f.kernel->recv(p.server, b).code(), Errc::would_block);
    EXPECT_EQ(f.readiness_of(p.server), Readiness::none)
        << "gone after the call that found nothing";
  }
}

TEST(Faults, SpuriousWakeupsByChanceAlwaysEndInWouldBlock) {
  KernelConfig config;
  config.seed = 3;
  KernelFixture f("epoll", config);
  const Pair p = f.connect_pair();
  FaultPlan plan;
  plan.spurious_wakeup = 0.05;
  ok(f.kernel->set_faults(p.server, plan));
  ok(f.backend->add(p.server, Interest::read, 1));
  int reports = 0;
  for (int i = 0; i < 400; ++i) {
    if (f.readiness_of(p.server) != Readiness::readable) continue;
    ++reports;
    std::byte b[4];
    EXPECT_EQ(f.kernel->recv(p.server, b).code(), Errc::would_block);
  }
  EXPECT_GT(reports, 3);
  EXPECT_LT(reports, 100);
}

TEST(Faults, ResetAfterBytesBreaksTheConnectionAtThatPoint) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  FaultPlan plan;
  plan.reset_after_bytes = 10;
  ok(f.kernel->set_faults(p.client, plan));
  EXPECT_EQ(f.send(p.client, "01234"), 5u);
  EXPECT_EQ(f.send(p.client, "56789abcdef"), 5u) << "cut at byte 10";
  EXPECT_EQ(f.kernel->send(p.client, as_bytes("x")).code(), Errc::connection_reset);
  EXPECT_EQ(f.recv(p.server), "0123456789") << "what was on the wire arrives first";
  std::byte b[4];
  EXPECT_EQ(f.kernel->recv(p.server, b).code(), Errc::connection_reset);
}

TEST(Faults, ResetAtAChosenTime) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  ok(f.kernel->reset_at(p.client, f.kernel->now() + milliseconds(30)));
  ok(f.backend->add(p.server, Interest::read, 1));
  const Time start = f.kernel->now();
  EXPECT_TRUE(has(f.readiness_of(p.server, milliseconds(100)), Readiness::error));
  EXPECT_GE(f.kernel->now() - start, milliseconds(29));
  EXPECT_EQ(ok(f.kernel->pending_error(p.client)), Errc::connection_reset);
  EXPECT_EQ(ok(f.kernel->pending_error(p.server)), Errc::connection_reset);
}

// A run with every seeded fault on: its results, one line per call, as a test would see them.
std::string chaotic_run(std::uint64_t seed) {
  KernelConfig config;
  config.seed = seed;
  config.link_latency = microseconds(200);
  config.faults.latency_jitter = microseconds(300);
  config.faults.short_send = 0.3;
  config.faults.spurious_wakeup = 0.01;
  config.faults.refuse_connect = 0.5;
  KernelFixture f("epoll", config);
  std::string log;
  const Handle l = f.listener();
  for (int round = 0; round < 10; ++round) {
    const Handle c = ok(f.kernel->socket());
    (void)f.kernel->connect(c, f.endpoint(l));
    ok(f.backend->add(c, Interest::read_write, static_cast<std::uint64_t>(c)));
    Handle s = invalid_handle;
    for (int step = 0; step < 200; ++step) {
      std::vector<Event> events(8);
      const Result<std::size_t> n = f.backend->wait(events, milliseconds(5));
      log += "w" + std::to_string(n.ok() ? *n : 99);
      for (std::size_t i = 0; n.ok() && i < *n; ++i)
        log += "[" + std::to_string(events[i].handle) + to_string(events[i].readiness) + "]";
      if (s == invalid_handle) {
        const Result<Handle> a = f.kernel->accept(l);
        if (a.ok()) s = *a;
      }
      const Result<std::size_t> sent = f.kernel->send(c, as_bytes("payload-payload-payload"));
      log += " s" + (sent.ok() ? std::to_string(*sent) : error_name(sent.code()));
      if (s != invalid_handle) {
        std::byte b[7];
        const Result<std::size_t> got = f.kernel->recv(s, b);
        log += " r" + (got.ok() ? std::to_string(*got) : error_name(got.code()));
      }
      log += "\n";
    }
    log += "t=" + std::to_string(f.kernel->now().count()) + "\n";
    (void)f.backend->remove(c);
    (void)f.kernel->close(c);
    if (s != invalid_handle) (void)f.kernel->close(s);
  }
  return log;
}

TEST(Determinism, TheSameSeedGivesTheSameRunCallForCall) {
  const std::string first = chaotic_run(42);
  const std::string second = chaotic_run(42);
  EXPECT_EQ(first, second);
  EXPECT_NE(first.find(" r7"), std::string::npos) << "sanity: bytes flowed";
  EXPECT_NE(first.find("connection_refused"), std::string::npos) << "sanity: faults struck";
}

TEST(Determinism, AnotherSeedGivesAnotherRun) {
  EXPECT_NE(chaotic_run(42), chaotic_run(43)) << "the seed must drive the faults";
}

TEST(Determinism, ReseedRestartsTheSequence) {
  KernelFixture f("epoll");
  FaultPlan plan;
  plan.short_send = 1;
  const Pair p = f.connect_pair();
  ok(f.kernel->set_faults(p.client, plan));
  const std::string text(5000, 'x');
  f.kernel->reseed(9);
  const std::size_t first = f.send(p.client, text);
  f.kernel->reseed(9);
  EXPECT_EQ(f.send(p.client, text), first);
}

}  // namespace
}  // namespace muxlab::fake
