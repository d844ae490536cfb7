// The amounts an event carries besides readiness: kqueue's `data` (Event::read_data and
// write_data), stated on every environment. kqueue reports, per filter that fired, the bytes
// ready to read (on a listener, the connections waiting to be accepted) and the free space in the
// send buffer; every other mechanism reports no amount at all, which is stated here too.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "conformance_fixture.hpp"

namespace muxlab::conformance {
namespace {

constexpr Readiness R = Readiness::readable;
constexpr Readiness W = Readiness::writable;

using Waiter = std::function<std::vector<Event>(Duration)>;

// Waits (up to two seconds) until an event for `h` satisfies `good`. Returns that event, or the
// last one seen for `h` so that a failed expectation prints what was reported; nullopt when `h`
// was never reported.
std::optional<Event> event_until(Clock& clock, const Waiter& wait, Handle h,
                                 const std::function<bool(const Event&)>& good) {
  const Time end = clock.now() + std::chrono::seconds(2);
  std::optional<Event> seen;
  while (clock.now() < end) {
    for (const Event& e : wait(std::chrono::milliseconds(50))) {
      if (e.handle != h) continue;
      seen = e;
      if (good(e)) return seen;
    }
  }
  return seen;
}

bool any_event(const Event&) {
  return true;
}

CONFORMANCE_TEST(ListenerReadDataIsAcceptQueueLength) {
  const bool amounts = mechanism() == "kqueue";
  const Waiter waiter = [this](Duration d) { return wait(d); };
  const Handle l = listener();
  must(backend().add(l, Interest::read, 1), "add listener");
  for (int i = 0; i < 3; ++i) {
    const Handle client = track(must(net().socket(), "socket"));
    (void)net().connect(client, endpoint_of(l));
  }
  ASSERT_EQ(settle(l, R), R);
  // The handshakes complete in the kernel at their own pace: wait for all three to be queued.
  std::optional<Event> seen = event_until(
      env().clock(), waiter, l, [&](const Event& e) { return !amounts || e.read_data == 3; });
  ASSERT_TRUE(seen) << "the listener was not reported";
  if (!amounts) {
    EXPECT_EQ(seen->read_data, kNotReported) << mechanism() << " reports no amounts";
    EXPECT_EQ(seen->write_data, kNotReported) << mechanism() << " reports no amounts";
    return;
  }
  EXPECT_EQ(seen->read_data, 3) << "EVFILT_READ on a listener: data is the accept queue's length";
  EXPECT_EQ(seen->write_data, kNotReported) << "only the read filter was registered";
  track(must(net().accept(l), "accept"));
  seen = event_until(env().clock(), waiter, l, any_event);
  ASSERT_TRUE(seen) << "two connections still queued, yet the listener was not reported";
  EXPECT_EQ(seen->read_data, 2) << "one connection accepted, two still queued";
}

CONFORMANCE_TEST(ReadDataIsBytesToRead) {
  const bool amounts = mechanism() == "kqueue";
  const Waiter waiter = [this](Duration d) { return wait(d); };
  const Connection c = connect_pair();
  must(backend().add(c.server, Interest::read, 1), "add");
  send_all(c.client, std::string(100, 'x'));
  ASSERT_EQ(settle(c.server, R), R);
  std::optional<Event> seen = event_until(env().clock(), waiter, c.server, [&](const Event& e) {
    return !amounts || e.read_data == 100;
  });
  ASSERT_TRUE(seen);
  if (!amounts) {
    EXPECT_EQ(seen->read_data, kNotReported) << mechanism() << " reports no amounts";
    return;
  }
  EXPECT_EQ(seen->read_data, 100) << "EVFILT_READ on a socket: data is the bytes to read";
  EXPECT_EQ(recv_some(c.server, 40).size(), 40u);
  seen = event_until(env().clock(), waiter, c.server, any_event);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->read_data, 60) << "40 of the 100 bytes taken";
}

CONFORMANCE_TEST_WITHOUT_DIFFERENTIAL(WriteDataIsFreeSendSpace,
                                      "how many sends fill the buffer depends on the kernel's "
                                      "buffer autotuning") {
  const bool amounts = mechanism() == "kqueue";
  const Waiter waiter = [this](Duration d) { return wait(d); };
  const Connection c = connect_pair();
  must(backend().add(c.client, Interest::write, 1), "add");
  ASSERT_EQ(settle(c.client, W), W);
  std::optional<Event> seen = event_until(env().clock(), waiter, c.client, any_event);
  ASSERT_TRUE(seen);
  if (!amounts) {
    EXPECT_EQ(seen->write_data, kNotReported) << mechanism() << " reports no amounts";
    EXPECT_EQ(seen->read_data, kNotReported) << mechanism() << " reports no amounts";
    return;
  }
  const auto buffer = static_cast<std::int64_t>(must(net().send_buffer(c.client), "SO_SNDBUF"));
  EXPECT_GT(seen->write_data, 0) << "EVFILT_WRITE: data is the free space in the send buffer";
  EXPECT_LE(seen->write_data, buffer) << "more free space than the send buffer holds";
  EXPECT_EQ(seen->read_data, kNotReported) << "only the write filter was registered";

  // Fill the buffer (the peer never reads), then let the peer drain it: the space comes back.
  const std::string chunk(64 * 1024, 'y');
  for (int sends = 0;; ++sends) {
    ASSERT_LT(sends, 1000) << "the send buffer never filled";
    if (!net().send(c.client, as_bytes(chunk))) break;
  }
  std::string into(64 * 1024, '\0');
  std::size_t drained = 0;
  for (;;) {
    const Result<std::size_t> got =
        net().recv(c.server, {reinterpret_cast<std::byte*>(into.data()), into.size()});
    if (!got || *got == 0) break;
    drained += *got;
  }
  ASSERT_GT(drained, 0u);
  seen = event_until(env().clock(), waiter, c.client, any_event);
  ASSERT_TRUE(seen) << "writable again after the peer drained, yet not reported";
  EXPECT_GT(seen->write_data, 0);
  EXPECT_LE(seen->write_data, buffer);
}

}  // namespace
}  // namespace muxlab::conformance
