// DESIGN.md's readiness table, row by row, on every personality: the same socket state must show
// as each mechanism's real counterpart shows it (checked against Linux 6.x for epoll, poll and
// select; the conformance suite's statements for Win32 select and kqueue).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "kernel_fixture.hpp"

namespace muxlab::fake {
namespace {

constexpr Readiness R = Readiness::readable;
constexpr Readiness W = Readiness::writable;
constexpr Readiness RDHUP = Readiness::read_closed;
constexpr Readiness HUP = Readiness::read_closed | Readiness::write_closed;
constexpr Readiness ERR = Readiness::error;
constexpr Readiness NONE = Readiness::none;

struct Row {
  std::string situation;
  // Brings a socket into the situation and returns it; registered with read|write afterwards.
  std::function<Handle(KernelFixture&)> make;
  std::map<std::string, Readiness> expected;  // by mechanism: every one is named
};

Handle idle_connection(KernelFixture& f) {
  return f.connect_pair().client;
}

Handle listener_with_queued_connection(KernelFixture& f) {
  const Handle l = f.listener();
  const Handle c = ok(f.kernel->socket());
  (void)f.kernel->connect(c, f.endpoint(l));
  return l;
}

Handle connecting(KernelFixture& f) {
  f.kernel->config().link_latency = std::chrono::minutes(1);
  const Handle l = f.listener();
  const Handle c = ok(f.kernel->socket());
  (void)f.kernel->connect(c, f.endpoint(l));
  return c;
}

Handle refused(KernelFixture& f) {
  const Handle c = ok(f.kernel->socket());
  (void)f.kernel->connect(c, Endpoint{0x7f000001, 9});
  return c;
}

Handle refused_after_reading_the_error(KernelFixture& f) {
  const Handle c = refused(f);
  f.kernel->advance(std::chrono::seconds(3));  // Windows takes two seconds to give up
  EXPECT_EQ(ok(f.kernel->pending_error(c)), Errc::connection_refused);
  return c;
}

Handle peer_sent_fin(KernelFixture& f) {
  const Pair p = f.connect_pair();
  f.send(p.server, "bye");
  ok(f.kernel->shutdown(p.server, Direction::write));
  return p.client;
}

Handle both_directions_shut(KernelFixture& f) {
  const Pair p = f.connect_pair();
  ok(f.kernel->shutdown(p.client, Direction::write));
  ok(f.kernel->shutdown(p.server, Direction::write));
  return p.client;
}

Handle local_shutdown_write(KernelFixture& f) {
  const Pair p = f.connect_pair();
  ok(f.kernel->shutdown(p.client, Direction::write));
  return p.client;
}

Handle peer_reset(KernelFixture& f) {
  const Pair p = f.connect_pair();
  ok(f.kernel->abort(p.server));
  return p.client;
}

Handle peer_reset_after_reading_the_error(KernelFixture& f) {
  const Handle c = peer_reset(f);
  EXPECT_EQ(ok(f.kernel->pending_error(c)), Errc::connection_reset);
  return c;
}

Handle send_buffer_full(KernelFixture& f) {
  const Pair p = f.connect_pair();
  ok(f.kernel->set_send_buffer(p.client, 4096));
  const std::vector<std::byte> big(1 << 20);
  while (f.kernel->send(p.client, big).ok()) {
  }
  return p.client;
}

Handle never_connected(KernelFixture& f) {
  return ok(f.kernel->socket());
}

const std::vector<Row>& table() {
  static const std::vector<Row> rows = {
      {"idle connected socket",
       idle_connection,
       {{"epoll", W}, {"poll", W}, {"select", W}, {"win32-select", W}, {"kqueue", W}}},
      {"listener with a queued connection",
       listener_with_queued_connection,
       {{"epoll", R}, {"poll", R}, {"select", R}, {"win32-select", R}, {"kqueue", R}}},
      {"connect under way",
       connecting,
       {{"epoll", NONE},
        {"poll", NONE},
        {"select", NONE},
        {"win32-select", NONE},
        {"kqueue", NONE}}},
      {"connect refused",
       refused,
       {{"epoll", R | W | HUP | ERR},
        {"poll", R | W | HUP | ERR},
        {"select", R | W},
        {"win32-select", ERR},
        {"kqueue", R | W | HUP | ERR}}},
      {"connect refused, SO_ERROR read",
       refused_after_reading_the_error,
       {{"epoll", R | W | HUP},
        {"poll", R | W | HUP},
        {"select", R | W},
        {"win32-select", ERR},
        {"kqueue", R | W | HUP}}},
      {"peer sent FIN",
       peer_sent_fin,
       {{"epoll", R | W | RDHUP},
        {"poll", R | W | RDHUP},
        {"select", R | W},
        {"win32-select", R | W},
        {"kqueue", R | W | RDHUP}}},
      {"both directions shut",
       both_directions_shut,
       {{"epoll", R | W | HUP},
        {"poll", R | W | HUP},
        {"select", R | W},
        {"win32-select", R | W},
        {"kqueue", R | W | HUP}}},
      {"local shutdown(write) only",
       local_shutdown_write,
       {{"epoll", W},
        {"poll", W},
        {"select", W},
        {"win32-select", W},
        {"kqueue", W | Readiness::write_closed}}},
      {"peer reset",
       peer_reset,
       {{"epoll", R | W | HUP | ERR},
        {"poll", R | W | HUP | ERR},
        {"select", R | W},
        {"win32-select", R | W},
        {"kqueue", R | W | HUP | ERR}}},
      {"peer reset, SO_ERROR read",
       peer_reset_after_reading_the_error,
       {{"epoll", R | W | HUP},
        {"poll", R | W | HUP},
        {"select", R | W},
        {"win32-select", R | W},
        {"kqueue", R | W | HUP}}},
      {"send buffer full",
       send_buffer_full,
       {{"epoll", NONE},
        {"poll", NONE},
        {"select", NONE},
        {"win32-select", NONE},
        {"kqueue", NONE}}},
      {"never connected (Linux: OUT|HUP)",
       never_connected,
       {{"epoll", W | HUP},
        {"poll", W | HUP},
        {"select", R | W},
        {"win32-select", NONE},
        {"kqueue", NONE}}},
  };
  return rows;
}

class ReadinessTable : public ::testing::TestWithParam<std::string> {};

TEST_P(ReadinessTable, EveryRowShowsAsTheMechanismShowsIt) {
  const std::string mechanism = GetParam();
  for (const Row& row : table()) {
    SCOPED_TRACE(row.situation);
    KernelFixture f(mechanism);
    const Handle h = row.make(f);
    ok(f.backend->add(h, Interest::read_write, 1), "add");
    // Let whatever is on its way land (a refusal takes Windows two seconds), then look once:
    // level-triggered, what is true stays reported.
    f.kernel->advance(std::chrono::seconds(3));
    ASSERT_TRUE(row.expected.contains(mechanism)) << "the row names no expectation";
    EXPECT_EQ(f.readiness_of(h), row.expected.at(mechanism));
  }
}

TEST_P(ReadinessTable, InterestFiltersWhatIsReported) {
  KernelFixture f(GetParam());
  const Pair p = f.connect_pair();
  f.send(p.server, "data");
  f.kernel->advance(std::chrono::milliseconds(1));
  ok(f.backend->add(p.client, Interest::read, 1));
  EXPECT_EQ(f.readiness_of(p.client), R);
  ok(f.backend->modify(p.client, Interest::write, 1));
  EXPECT_EQ(f.readiness_of(p.client), W);
  EXPECT_EQ(f.backend->modify(p.client, Interest::none, 1).code(), Errc::invalid_argument)
      << "to stop reports, remove the handle";
  ok(f.backend->remove(p.client));
  EXPECT_EQ(f.readiness_of(p.client), NONE);
}

INSTANTIATE_TEST_SUITE_P(Personalities, ReadinessTable,
                         ::testing::Values("epoll", "poll", "select", "win32-select", "kqueue"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

}  // namespace
}  // namespace muxlab::fake
