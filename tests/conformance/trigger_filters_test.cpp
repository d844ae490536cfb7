// Edge-triggered with read and write interest: which directions an event carries when data
// arrives. epoll runs every wake-up of an EPOLLET registration against its whole interest, so the
// arrival's event carries OUT too (while there is room to send). kqueue keeps a knote per filter
// and an arrival runs only EVFILT_READ's (FreeBSD's sowakeup() on the receive buffer), so the
// event is readable alone, with read_data and no write_data: the write filter fires when send
// space frees up, not when data comes in.
#include <cstdint>
#include <optional>
#include <string>

#include "conformance_fixture.hpp"

namespace muxlab::conformance {
namespace {

constexpr Readiness W = Readiness::writable;

std::string amount(std::int64_t data) {
  return data == kNotReported ? "not reported" : std::to_string(data);
}

CONFORMANCE_TEST(EdgeTriggeredReadWriteArrivalCarries) {
  const char* const reports = "edge-triggered, read and write interest, data arrives: wait reports";
  const char* const amounts =
      "edge-triggered, read and write interest, 4 bytes arrive: read_data, write_data";
  const Connection c = connect_pair();
  const Status added = backend().add(c.server, Interest::read_write, 1, Trigger::edge);
  if (!added.ok()) {
    expect_fact(Topic::registration, reports, fact_text(added),
                per_mechanism<std::string>({
                    {"epoll", "ok"},
                    {"poll", "unsupported"},
                    {"select", "unsupported"},
                    {"win32-select", "unsupported"},
                    {"kqueue", "ok"},
                }));
    EXPECT_EQ(backend().remove(c.server).code(), Errc::not_registered) << "nothing half-added";
    return;
  }
  ASSERT_EQ(settle(c.server, W), W) << "writable when added";
  EXPECT_EQ(poll_once(c.server), Readiness::none) << "reported once, nothing new since";
  send_all(c.client, "abcd");
  const std::optional<Event> seen = event_until(c.server, [](const Event&) { return true; });
  ASSERT_TRUE(seen) << "the arrival was not reported";
  expect_fact(Topic::registration, reports, fact_text(seen->readiness),
              per_mechanism<std::string>({
                  {"epoll", "readable, writable"},
                  {"poll", "unsupported"},
                  {"select", "unsupported"},
                  {"win32-select", "unsupported"},
                  {"kqueue", "readable"},
              }));
  // Only kqueue has amounts, and only for the filters that fired.
  expect_fact(
      Topic::amounts, amounts, amount(seen->read_data) + ", " + amount(seen->write_data),
      std::string(mechanism() == "kqueue" ? "4, not reported" : "not reported, not reported"));
  EXPECT_EQ(recv_some(c.server), "abcd");
}

}  // namespace
}  // namespace muxlab::conformance
