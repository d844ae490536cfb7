// Scripting the kernel by hand with MockNet and MockBackend: a small echo handler must retry
// when a readiness report turns out to be spurious (recv would block), and keep what a partial
// send left until the socket is writable again.
#include "muxlab/testing/mocks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "muxlab/testing/matchers.hpp"

namespace muxlab::testing {
namespace {

using ::testing::_;
using ::testing::InSequence;
using ::testing::Return;
using ::testing::StrictMock;

// The code under test: one connection of a callback-style echo server. It takes a Net and a
// Backend and never knows they are mocks.
class EchoConnection {
 public:
  EchoConnection(Net& net, Backend& backend, Handle h) : net_(net), backend_(backend), h_(h) {}

  Status start() { return backend_.add(h_, Interest::read, token); }

  // One turn of the event loop: wait, then read and echo, or flush what is left.
  Status turn(Duration timeout) {
    std::array<Event, 8> events;
    const Result<std::size_t> n = backend_.wait(events, timeout);
    if (!n) return n.error();
    for (const Event& e : std::span(events.data(), *n)) {
      if (has(e.readiness, Readiness::readable)) {
        if (Status read = read_available(); !read) return read;
      }
      if (has(e.readiness, Readiness::writable)) {
        if (Status flushed = flush(); !flushed) return flushed;
      }
    }
    return {};
  }

  const std::string& unsent() const { return unsent_; }

  static constexpr std::uint64_t token = 1;

 private:
  Status read_available() {
    std::array<std::byte, 4096> buffer;
    for (;;) {
      const Result<std::size_t> got = net_.recv(h_, buffer);
      if (got.code() == Errc::would_block) break;  // a spurious report, or all read: wait again
      if (!got) return got.error();
      if (*got == 0) break;  // the peer finished; a real server would close here
      unsent_.append(reinterpret_cast<const char*>(buffer.data()), *got);
    }
    return flush();
  }

  // Sends what it can; what the kernel does not take waits for writability.
  Status flush() {
    while (!unsent_.empty()) {
      const Result<std::size_t> sent = net_.send(h_, as_bytes(unsent_));
      if (sent.code() == Errc::would_block) break;
      if (!sent) return sent.error();
      unsent_.erase(0, *sent);
    }
    const bool want_write = !unsent_.empty();
    if (want_write == watching_write_) return {};
    watching_write_ = want_write;
    return backend_.modify(h_, want_write ? Interest::read_write : Interest::read, token);
  }

  Net& net_;
  Backend& backend_;
  Handle h_;
  std::string unsent_;
  bool watching_write_ = false;
};

// A recv action that delivers `text`.
auto Receives(std::string text) {
  return [text = std::move(text)](Handle, std::span<std::byte> into) -> Result<std::size_t> {
    const std::size_t n = std::min(into.size(), text.size());
    std::copy_n(reinterpret_cast<const std::byte*>(text.data()), n, into.begin());
    return n;
  };
}

// The bytes a send was given, as text.
MATCHER_P(BytesAre, text, fmt::format("bytes \"{}\"", text)) {
  const std::string_view got(reinterpret_cast<const char*>(arg.data()), arg.size());
  *result_listener << fmt::format("bytes \"{}\"", got);
  return got == text;
}

constexpr Handle h = 5;
const Event readable{h, Readiness::readable, EchoConnection::token};
const Event writable{h, Readiness::writable, EchoConnection::token};

TEST(MockEcho, SpuriousReadableIsRetriedOnTheNextTurn) {
  StrictMock<MockNet> net;
  StrictMock<MockBackend> backend;
  InSequence in_order;
  EXPECT_CALL(backend, add(h, Interest::read, EchoConnection::token, Trigger::level))
      .WillOnce(Return(Status()));
  // First turn: readable, but the data is not there after all.
  EXPECT_CALL(backend, wait(_, _)).WillOnce(ReportEvents({readable}));
  EXPECT_CALL(net, recv(h, _)).WillOnce(Return(Errc::would_block));
  // Second turn: the data, all echoed in one send.
  EXPECT_CALL(backend, wait(_, _)).WillOnce(ReportEvents({readable}));
  EXPECT_CALL(net, recv(h, _)).WillOnce(Receives("hello"));
  EXPECT_CALL(net, recv(h, _)).WillOnce(Return(Errc::would_block));
  EXPECT_CALL(net, send(h, BytesAre("hello"))).WillOnce(Return(5));

  EchoConnection echo(net, backend, h);
  ASSERT_TRUE(echo.start().ok());
  ASSERT_TRUE(echo.turn(infinite).ok());
  ASSERT_TRUE(echo.turn(infinite).ok());
  EXPECT_EQ(echo.unsent(), "");
}

TEST(MockEcho, PartialSendWaitsForWritableThenSendsTheRest) {
  StrictMock<MockNet> net;
  StrictMock<MockBackend> backend;
  InSequence in_order;
  EXPECT_CALL(backend, add(h, Interest::read, EchoConnection::token, Trigger::level))
      .WillOnce(Return(Status()));
  EXPECT_CALL(backend, wait(_, _)).WillOnce(ReportEvents({readable}));
  EXPECT_CALL(net, recv(h, _)).WillOnce(Receives("hello world"));
  EXPECT_CALL(net, recv(h, _)).WillOnce(Return(Errc::would_block));
  // The kernel takes five bytes, then nothing: the handler must ask for writability.
  EXPECT_CALL(net, send(h, BytesAre("hello world"))).WillOnce(Return(5));
  EXPECT_CALL(net, send(h, BytesAre(" world"))).WillOnce(Return(Errc::would_block));
  EXPECT_CALL(backend, modify(h, Interest::read_write, EchoConnection::token, Trigger::level))
      .WillOnce(Return(Status()));
  // Writable again: the rest goes, and the handler stops asking.
  EXPECT_CALL(backend, wait(_, _)).WillOnce(ReportEvents({writable}));
  EXPECT_CALL(net, send(h, BytesAre(" world"))).WillOnce(Return(6));
  EXPECT_CALL(backend, modify(h, Interest::read, EchoConnection::token, Trigger::level))
      .WillOnce(Return(Status()));

  EchoConnection echo(net, backend, h);
  ASSERT_TRUE(echo.start().ok());
  ASSERT_TRUE(echo.turn(infinite).ok());
  EXPECT_EQ(echo.unsent(), " world");
  ASSERT_TRUE(echo.turn(infinite).ok());
  EXPECT_EQ(echo.unsent(), "");
}

TEST(MockEcho, ScriptedResultsWorkWithTheMatchers) {
  StrictMock<MockNet> net;
  EXPECT_CALL(net, send(h, _)).WillOnce(Return(6144)).WillOnce(Return(Errc::would_block));
  const std::string payload(1 << 20, 'x');
  EXPECT_THAT(net.send(h, as_bytes(payload)), IsPartialSendOf(payload.size()));
  EXPECT_THAT(net.send(h, as_bytes(payload)), WouldBlock());
}

}  // namespace
}  // namespace muxlab::testing
