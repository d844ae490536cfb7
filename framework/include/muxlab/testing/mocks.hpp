#pragma once
// GoogleMock stand-ins for the two interfaces code under test talks to, for tests that script
// what the kernel says call by call: a send that takes half, a recv that would block, a wait
// that reports a hang-up. Code that takes a Net& and a Backend& gets these instead.
//
//   MockNet net;
//   EXPECT_CALL(net, recv(5, _)).WillOnce(Return(Errc::would_block));
//   EXPECT_CALL(net, send(5, _)).WillOnce(Return(3));  // took 3 bytes
#include <gmock/gmock.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "muxlab/backend.hpp"
#include "muxlab/net.hpp"
#include "muxlab/testing/printers.hpp"

namespace muxlab::testing {

// capabilities() returns a reference, which GoogleMock cannot make up: a test that lets the
// code under test ask gives it one, e.g. ON_CALL(backend, capabilities()).WillByDefault(
// ReturnRef(caps)).
class MockBackend : public Backend {
 public:
  MOCK_METHOD(const Capabilities&, capabilities, (), (const, override));
  MOCK_METHOD(Status, add, (Handle h, Interest interest, std::uint64_t token, Trigger trigger),
              (override));
  MOCK_METHOD(Status, modify, (Handle h, Interest interest, std::uint64_t token, Trigger trigger),
              (override));
  MOCK_METHOD(Status, remove, (Handle h), (override));
  MOCK_METHOD(Result<std::size_t>, wait, (std::span<Event> out, Duration timeout), (override));
};

class MockNet : public Net {
 public:
  MOCK_METHOD(Result<Handle>, listen, (Endpoint at, int backlog), (override));
  MOCK_METHOD(Result<Handle>, socket, (), (override));
  MOCK_METHOD(Status, connect, (Handle h, Endpoint to), (override));
  MOCK_METHOD(Result<Handle>, accept, (Handle listener), (override));
  MOCK_METHOD(Result<std::size_t>, send, (Handle h, std::span<const std::byte> data), (override));
  MOCK_METHOD(Result<std::size_t>, recv, (Handle h, std::span<std::byte> into), (override));
  MOCK_METHOD(Status, shutdown, (Handle h, Direction d), (override));
  MOCK_METHOD(Status, close, (Handle h), (override));
  MOCK_METHOD(Status, abort, (Handle h), (override));
  MOCK_METHOD(Result<std::error_code>, pending_error, (Handle h), (override));
  MOCK_METHOD(Status, set_send_buffer, (Handle h, std::size_t bytes), (override));
  MOCK_METHOD(Status, set_receive_buffer, (Handle h, std::size_t bytes), (override));
  MOCK_METHOD(Result<std::size_t>, send_buffer, (Handle h), (override));
  MOCK_METHOD(Result<Endpoint>, local_endpoint, (Handle h), (override));
};

// A wait action: fills the caller's span with `events` and returns how many it gave.
//   EXPECT_CALL(backend, wait(_, _)).WillOnce(ReportEvents({{5, Readiness::readable, 1}}));
inline auto ReportEvents(std::vector<Event> events) {
  return [events = std::move(events)](std::span<Event> out, Duration) -> Result<std::size_t> {
    const std::size_t n = std::min(out.size(), events.size());
    std::copy_n(events.begin(), n, out.begin());
    return n;
  };
}

}  // namespace muxlab::testing
