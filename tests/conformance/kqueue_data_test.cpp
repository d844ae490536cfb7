// The amounts an event carries besides readiness: kqueue's `data` (Event::read_data and
// write_data), stated on every environment. kqueue reports, per filter that fired, the bytes
// ready to read (on a listener, the connections waiting to be accepted) and the free space in the
// send buffer; every other mechanism reports no amount at all, which is stated here too.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance_fixture.hpp"

namespace muxlab::conformance {
namespace {

constexpr Readiness R = Readiness::readable;
constexpr Readiness W = Readiness::writable;
const std::string kNone = "not reported";

bool any_event(const Event&) {
  return true;
}

std::string amount(std::int64_t data) {
  return data == kNotReported ? kNone : std::to_string(data);
}

// Free space depends on the kernel's buffer sizes, so the fact is its range.
std::string free_space(std::int64_t data, std::int64_t send_buffer) {
  if (data == kNotReported) return kNone;
  if (data > 0 && data <= send_buffer) return "1 to SO_SNDBUF bytes";
  return fmt::format("{} (SO_SNDBUF is {})", data, send_buffer);
}

CONFORMANCE_TEST(ListenerReadDataIsAcceptQueueLength) {
  const bool amounts = mechanism() == "kqueue";
  const Handle l = listener();
  must(backend().add(l, Interest::read, 1), "add listener");
  for (int i = 0; i < 3; ++i) {
    const Handle client = track(must(net().socket(), "socket"));
    (void)net().connect(client, endpoint_of(l));
  }
  ASSERT_EQ(settle(l, R), R);
  // The handshakes complete in the kernel at their own pace: wait for all three to be queued.
  std::optional<Event> seen =
      event_until(l, [&](const Event& e) { return !amounts || e.read_data == 3; });
  ASSERT_TRUE(seen) << "the listener was not reported";
  expect_fact(Topic::amounts, "a listener with 3 connections queued: read_data",
              amount(seen->read_data), amounts ? std::string("3") : kNone);
  expect_fact(Topic::amounts, "a listener (read interest only): write_data",
              amount(seen->write_data), kNone);
  if (!amounts) return;
  track(must(net().accept(l), "accept"));
  seen = event_until(l, any_event);
  ASSERT_TRUE(seen) << "two connections still queued, yet the listener was not reported";
  expect_fact(Topic::amounts, "one of the 3 accepted: read_data", amount(seen->read_data),
              std::string("2"));
}

CONFORMANCE_TEST(ReadDataIsBytesToRead) {
  const bool amounts = mechanism() == "kqueue";
  const Connection c = connect_pair();
  must(backend().add(c.server, Interest::read, 1), "add");
  send_all(c.client, std::string(100, 'x'));
  ASSERT_EQ(settle(c.server, R), R);
  std::optional<Event> seen =
      event_until(c.server, [&](const Event& e) { return !amounts || e.read_data == 100; });
  ASSERT_TRUE(seen);
  expect_fact(Topic::amounts, "100 bytes arrived: read_data", amount(seen->read_data),
              amounts ? std::string("100") : kNone);
  if (!amounts) return;
  EXPECT_EQ(recv_some(c.server, 40).size(), 40u);
  seen = event_until(c.server, any_event);
  ASSERT_TRUE(seen);
  expect_fact(Topic::amounts, "40 of the 100 read: read_data", amount(seen->read_data),
              std::string("60"));
}

CONFORMANCE_TEST_WITHOUT_DIFFERENTIAL(WriteDataIsFreeSendSpace,
                                      "how many sends fill the buffer depends on the kernel's "
                                      "buffer autotuning") {
  const bool amounts = mechanism() == "kqueue";
  const Connection c = connect_pair();
  must(backend().add(c.client, Interest::write, 1), "add");
  ASSERT_EQ(settle(c.client, W), W);
  std::optional<Event> seen = event_until(c.client, any_event);
  ASSERT_TRUE(seen);
  const auto buffer = static_cast<std::int64_t>(must(net().send_buffer(c.client), "SO_SNDBUF"));
  const std::string space = amounts ? "1 to SO_SNDBUF bytes" : kNone;
  expect_fact(Topic::amounts, "an idle connection: write_data",
              free_space(seen->write_data, buffer), space);
  expect_fact(Topic::amounts, "an idle connection (write interest only): read_data",
              amount(seen->read_data), kNone);
  if (!amounts) return;

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
  seen = event_until(c.client, any_event);
  ASSERT_TRUE(seen) << "writable again after the peer drained, yet not reported";
  expect_fact(Topic::amounts, "full, then drained by the peer: write_data",
              free_space(seen->write_data, buffer), space);
}

}  // namespace
}  // namespace muxlab::conformance
