// The fake kernel as a Net: numbering, connecting, buffers, FIN, RST and their errors, checked
// against what a real Linux 6.x kernel answers (Winsock's differences at the end).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernel_fixture.hpp"

namespace muxlab::fake {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<std::byte> payload(std::size_t size, std::uint32_t seed = 2463534242u) {
  std::vector<std::byte> bytes(size);
  std::uint32_t x = seed;
  for (auto& b : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::byte>(x);
  }
  return bytes;
}

TEST(SocketCalls, HandlesAreTheLowestFreeNumbersFromThree) {
  KernelFixture f("epoll");
  EXPECT_EQ(ok(f.kernel->socket()), Handle{3});
  EXPECT_EQ(ok(f.kernel->socket()), Handle{4});
  EXPECT_EQ(ok(f.kernel->socket()), Handle{5});
  ok(f.kernel->close(4));
  EXPECT_EQ(ok(f.kernel->socket()), Handle{4}) << "the lowest free number is reused first";
  ok(f.kernel->close(3));
  EXPECT_EQ(ok(f.kernel->listen(Endpoint{}, 1)), Handle{3});
  EXPECT_EQ(ok(f.kernel->socket()), Handle{6});
}

TEST(SocketCalls, ListenTakesAFreePortOrRefusesATakenOne) {
  KernelFixture f("epoll");
  const Handle l = f.listener();
  const Endpoint at = f.endpoint(l);
  EXPECT_GE(at.port, 32768) << "port 0 takes an ephemeral port";
  EXPECT_EQ(at.address, 0x7f000001u);
  const Result<Handle> again = f.kernel->listen(at, 1);
  EXPECT_EQ(again.code(), Errc::address_in_use);
  EXPECT_EQ(ok(f.kernel->socket()), Handle{4}) << "the failed listen gave its handle back";
  ok(f.kernel->close(l));
  EXPECT_TRUE(f.kernel->listen(at, 1).ok()) << "a closed listener frees its port";
}

TEST(SocketCalls, ConnectIsInProgressThenCompletesOneLatencyLater) {
  KernelConfig config;
  config.link_latency = milliseconds(10);
  KernelFixture f("epoll", config);
  const Handle l = f.listener();
  const Handle c = ok(f.kernel->socket());
  const Time start = f.kernel->now();
  EXPECT_EQ(f.kernel->connect(c, f.endpoint(l)).code(), Errc::in_progress);
  EXPECT_EQ(f.kernel->connect(c, f.endpoint(l)).code(), Errc::already_in_progress);
  ok(f.backend->add(c, Interest::write, 1));
  EXPECT_EQ(f.readiness_of(c), Readiness::none) << "the SYN is still on its way";
  EXPECT_EQ(f.readiness_of(c, infinite), Readiness::writable);
  EXPECT_GE(f.kernel->now() - start, milliseconds(10));
  EXPECT_LT(f.kernel->now() - start, milliseconds(11));
  // Linux reports the completion to one more connect(), then says EISCONN.
  EXPECT_TRUE(f.kernel->connect(c, f.endpoint(l)).ok());
  EXPECT_EQ(f.kernel->connect(c, f.endpoint(l)).code(), Errc::already_connected);
  EXPECT_EQ(ok(f.kernel->pending_error(c)), std::error_code{});
}

TEST(SocketCalls, RefusedConnectIsConsumedOnceThenEof) {
  KernelFixture f("epoll");
  const Handle c = ok(f.kernel->socket());
  EXPECT_EQ(f.kernel->connect(c, Endpoint{0x7f000001, 9}).code(), Errc::in_progress);
  EXPECT_EQ(ok(f.kernel->pending_error(c)), Errc::connection_refused);
  EXPECT_EQ(ok(f.kernel->pending_error(c)), std::error_code{}) << "read once, then clear";
  EXPECT_EQ(f.recv(c), "");
  EXPECT_EQ(f.kernel->send(c, as_bytes("x")).code(), Errc::broken_pipe);
  EXPECT_EQ(f.kernel->connect(c, Endpoint{0x7f000001, 9}).code(), std::errc::connection_aborted)
      << "Linux: a connect after the error was read";
}

TEST(SocketCalls, WindowsTriesARefusedConnectTwiceMoreOverTwoSeconds) {
  KernelFixture f("win32-select");
  const Handle c = ok(f.kernel->socket());
  const Time start = f.kernel->now();
  EXPECT_EQ(f.kernel->connect(c, Endpoint{0x7f000001, 9}).code(), Errc::in_progress);
  ok(f.backend->add(c, Interest::write, 1));
  EXPECT_EQ(f.readiness_of(c, std::chrono::milliseconds(1900)), Readiness::none);
  EXPECT_EQ(f.readiness_of(c, seconds(1)), Readiness::error);
  EXPECT_GE(f.kernel->now() - start, seconds(2));
  EXPECT_EQ(ok(f.kernel->pending_error(c)), Errc::connection_refused);

  // A listener that appears while the SYN is being retried still gets the connection.
  const Handle late = ok(f.kernel->socket());
  EXPECT_EQ(f.kernel->connect(late, Endpoint{0x7f000001, 9}).code(), Errc::in_progress);
  f.kernel->advance(milliseconds(500));
  const Handle l = ok(f.kernel->listen(Endpoint{0x7f000001, 9}, 1));
  f.kernel->advance(seconds(1));
  EXPECT_TRUE(f.kernel->accept(l).ok());
  EXPECT_EQ(ok(f.kernel->pending_error(late)), std::error_code{});
}

TEST(SocketCalls, LinuxAndBsdRefuseAtTheFirstReset) {
  for (const char* mechanism : {"epoll", "kqueue"}) {
    SCOPED_TRACE(mechanism);
    KernelFixture f(mechanism);
    const Handle c = ok(f.kernel->socket());
    EXPECT_EQ(f.kernel->connect(c, Endpoint{0x7f000001, 9}).code(), Errc::in_progress);
    ok(f.backend->add(c, Interest::write, 1));
    EXPECT_TRUE(has(f.readiness_of(c, seconds(1)), Readiness::error));
    EXPECT_LT(f.kernel->now(), Time(milliseconds(1)));
  }
}

TEST(SocketCalls, BsdAndWinsockSayAlreadyConnectedRightAfterTheConnectCompletes) {
  for (const char* mechanism : {"kqueue", "win32-select"}) {
    SCOPED_TRACE(mechanism);
    KernelFixture f(mechanism);
    const Handle l = f.listener();
    const Handle c = ok(f.kernel->socket());
    EXPECT_EQ(f.kernel->connect(c, f.endpoint(l)).code(), Errc::in_progress);
    f.kernel->advance(milliseconds(1));
    EXPECT_EQ(f.kernel->connect(c, f.endpoint(l)).code(), Errc::already_connected);
  }
}

TEST(SocketCalls, RefusedConnectIsConsumedByWhicheverCallComesFirst) {
  KernelFixture f("epoll");
  const Handle by_recv = ok(f.kernel->socket());
  const Handle by_send = ok(f.kernel->socket());
  const Handle by_connect = ok(f.kernel->socket());
  for (Handle h : {by_recv, by_send, by_connect})
    EXPECT_EQ(f.kernel->connect(h, Endpoint{0x7f000001, 9}).code(), Errc::in_progress);
  std::byte b[4];
  EXPECT_EQ(f.kernel->recv(by_recv, b).code(), Errc::connection_refused);
  EXPECT_EQ(ok(f.kernel->recv(by_recv, b)), 0u);
  EXPECT_EQ(f.kernel->send(by_send, as_bytes("x")).code(), Errc::connection_refused);
  EXPECT_EQ(f.kernel->send(by_send, as_bytes("x")).code(), Errc::broken_pipe);
  EXPECT_EQ(f.kernel->connect(by_connect, Endpoint{0x7f000001, 9}).code(),
            Errc::connection_refused);
  EXPECT_EQ(f.kernel->connect(by_connect, Endpoint{0x7f000001, 9}).code(), Errc::in_progress)
      << "after reporting the failure the socket is as good as new";
}

TEST(SocketCalls, FreshSocketCalls) {
  KernelFixture f("epoll");
  const Handle s = ok(f.kernel->socket());
  std::byte b[4];
  EXPECT_EQ(f.kernel->recv(s, b).code(), Errc::not_connected);
  EXPECT_EQ(f.kernel->send(s, as_bytes("x")).code(), Errc::broken_pipe);
  EXPECT_EQ(f.kernel->shutdown(s, Direction::write).code(), Errc::not_connected);
  EXPECT_EQ(f.kernel->accept(s).code(), Errc::invalid_argument);
  EXPECT_EQ(f.endpoint(s), (Endpoint{0, 0}));
}

TEST(SocketCalls, AFullBacklogLeavesTheConnectPendingUntilTheSynIsSentAgain) {
  KernelFixture f("epoll");
  const Handle l = f.listener(1);  // Linux fits backlog + 1
  std::vector<Handle> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(ok(f.kernel->socket()));
    EXPECT_EQ(f.kernel->connect(clients.back(), f.endpoint(l)).code(), Errc::in_progress);
  }
  for (Handle c : clients)
    ok(f.backend->add(c, Interest::write, static_cast<std::uint64_t>(c)));
  EXPECT_EQ(f.readiness_of(clients[0]), Readiness::writable);
  EXPECT_EQ(f.readiness_of(clients[1]), Readiness::writable);
  EXPECT_EQ(f.readiness_of(clients[2]), Readiness::none) << "its SYN was dropped";
  ok(f.kernel->accept(l));
  f.kernel->advance(milliseconds(900));
  EXPECT_EQ(f.readiness_of(clients[2]), Readiness::none) << "the SYN is sent again after 1 s";
  f.kernel->advance(milliseconds(100));
  EXPECT_EQ(f.readiness_of(clients[2]), Readiness::writable);
}

TEST(SocketCalls, AConnectThatNeverGetsInGivesUpAfterTheSynRetries) {
  KernelFixture f("epoll");
  const Handle l = f.listener(0);
  const Handle first = ok(f.kernel->socket());
  EXPECT_EQ(f.kernel->connect(first, f.endpoint(l)).code(), Errc::in_progress);
  const Handle late = ok(f.kernel->socket());
  const Time start = f.kernel->now();
  EXPECT_EQ(f.kernel->connect(late, f.endpoint(l)).code(), Errc::in_progress);
  f.kernel->run_until(start + seconds(126));
  EXPECT_EQ(ok(f.kernel->pending_error(late)), std::error_code{}) << "still trying at 126 s";
  f.kernel->run_until(start + seconds(128));
  EXPECT_EQ(ok(f.kernel->pending_error(late)), Errc::timed_out) << "given up at 127 s";
}

TEST(SocketCalls, SetSendBufferDoublesAndTheFirstFullSendTakes6144) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  EXPECT_EQ(ok(f.kernel->send_buffer(p.client)), kDefaultSendBufferSize);
  ok(f.kernel->set_send_buffer(p.client, 4096));
  EXPECT_EQ(ok(f.kernel->send_buffer(p.client)), 8192u) << "Linux stores twice the request";
  const std::vector<std::byte> mib = payload(1 << 20);
  EXPECT_EQ(ok(f.kernel->send(p.client, mib)), 6144u) << "the DESIGN table's first count";
}

TEST(SocketCalls, FullBuffersBlockAndWritabilityReturnsAsThePeerDrains) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  ok(f.kernel->set_send_buffer(p.client, 4096));
  ok(f.backend->add(p.client, Interest::write, 1));
  const std::vector<std::byte> data = payload(1 << 20);
  std::size_t sent = 0;
  int partial_sends = 0;
  Result<std::size_t> n = std::size_t{0};
  while ((n = f.kernel->send(p.client, std::span(data).subspan(sent))).ok()) {
    sent += *n;
    ++partial_sends;
  }
  EXPECT_EQ(n.code(), Errc::would_block);
  EXPECT_GT(partial_sends, 1);
  EXPECT_EQ(f.readiness_of(p.client, milliseconds(100)), Readiness::none)
      << "no room, and nobody reads";
  // Reading a little is not enough: the writer wakes once there is room for half of the queue.
  std::vector<std::byte> chunk(1);
  ok(f.kernel->recv(p.server, chunk));
  EXPECT_EQ(f.readiness_of(p.client), Readiness::none);
  std::vector<std::byte> received(1, data[0]);
  chunk.resize(65536);
  while ((n = f.kernel->recv(p.server, chunk)).ok())
    received.insert(received.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
  EXPECT_EQ(f.readiness_of(p.client), Readiness::writable);
  ASSERT_EQ(received.size(), sent);
  EXPECT_TRUE(std::equal(received.begin(), received.end(), data.begin()));
}

TEST(SocketCalls, BytesArriveInOrderAndIntactThroughSmallBuffers) {
  KernelConfig config;
  config.link_latency = std::chrono::microseconds(50);
  KernelFixture f("epoll", config);
  const Pair p = f.connect_pair();
  ok(f.kernel->set_send_buffer(p.client, 1000));
  ok(f.kernel->set_receive_buffer(p.server, 3000));
  const std::vector<std::byte> data = payload(300'000, 7);
  std::vector<std::byte> received;
  std::vector<std::byte> chunk;
  std::size_t sent = 0;
  for (int round = 0; received.size() < data.size() && round < 100'000; ++round) {
    const std::size_t ask = 1 + static_cast<std::size_t>(round * 7919) % 5000;
    if (sent < data.size()) {
      const auto n = f.kernel->send(
          p.client, std::span(data).subspan(sent, std::min(ask, data.size() - sent)));
      if (n.ok()) sent += *n;
    }
    chunk.resize(1 + static_cast<std::size_t>(round * 104729) % 3000);
    const auto got = f.kernel->recv(p.server, chunk);
    if (got.ok())
      received.insert(received.end(), chunk.begin(),
                      chunk.begin() + static_cast<std::ptrdiff_t>(*got));
  }
  ASSERT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data) << "a byte was lost, changed or reordered";
}

TEST(SocketCalls, EmptySendAndRecvReturnZero) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  EXPECT_EQ(ok(f.kernel->send(p.client, {})), 0u);
  EXPECT_EQ(ok(f.kernel->recv(p.server, {})), 0u);
}

TEST(SocketCalls, FinComesAfterTheDataAndTheOtherDirectionStaysOpen) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  f.send(p.server, "last words");
  ok(f.kernel->shutdown(p.server, Direction::write));
  EXPECT_EQ(f.kernel->send(p.server, as_bytes("more")).code(), Errc::broken_pipe);
  EXPECT_EQ(f.recv(p.client), "last words");
  EXPECT_EQ(f.recv(p.client), "");
  EXPECT_EQ(f.recv(p.client), "") << "end of stream stays";
  f.send(p.client, "reply");
  EXPECT_EQ(f.recv(p.server), "reply");
  ok(f.kernel->shutdown(p.server, Direction::write), "a second shutdown (harmless)");
}

TEST(SocketCalls, CloseSendsWhatIsQueuedThenFin) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  ok(f.kernel->set_receive_buffer(p.server, 2048));  // a small window keeps bytes queued
  const std::vector<std::byte> data = payload(6000);
  const std::size_t sent = ok(f.kernel->send(p.client, data));
  ASSERT_EQ(sent, data.size());
  ok(f.kernel->close(p.client));
  std::vector<std::byte> received;
  std::vector<std::byte> chunk(512);
  for (int i = 0; i < 100; ++i) {
    const std::size_t n = ok(f.kernel->recv(p.server, chunk));
    if (n == 0) break;
    received.insert(received.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  }
  EXPECT_TRUE(received == data) << "the closed socket still delivered everything";
  EXPECT_EQ(f.recv(p.server), "") << "then the FIN";
}

TEST(SocketCalls, AbortResetsThePeerAndTheFirstRecvConsumesIt) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  ok(f.kernel->abort(p.server));
  std::byte b[8];
  EXPECT_EQ(f.kernel->recv(p.client, b).code(), Errc::connection_reset);
  EXPECT_EQ(ok(f.kernel->recv(p.client, b)), 0u);
  EXPECT_EQ(f.kernel->send(p.client, as_bytes("x")).code(), Errc::broken_pipe);
  EXPECT_EQ(ok(f.kernel->pending_error(p.client)), std::error_code{});
  EXPECT_EQ(f.kernel->shutdown(p.client, Direction::both).code(), Errc::not_connected);
}

TEST(SocketCalls, AResetIsConsumedBySendOrPendingErrorToo) {
  KernelFixture f("epoll");
  const Pair by_send = f.connect_pair();
  const Pair by_option = f.connect_pair();
  ok(f.kernel->abort(by_send.server));
  ok(f.kernel->abort(by_option.server));
  EXPECT_EQ(f.kernel->send(by_send.client, as_bytes("x")).code(), Errc::connection_reset);
  EXPECT_EQ(f.kernel->send(by_send.client, as_bytes("x")).code(), Errc::broken_pipe);
  EXPECT_EQ(f.recv(by_send.client), "");
  EXPECT_EQ(ok(f.kernel->pending_error(by_option.client)), Errc::connection_reset);
  EXPECT_EQ(f.recv(by_option.client), "");
}

TEST(SocketCalls, DataThatArrivedBeforeTheResetIsReadFirst) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  f.send(p.server, "data");
  ok(f.kernel->abort(p.server));
  std::byte b[8];
  EXPECT_EQ(ok(f.kernel->recv(p.client, b)), 4u);
  EXPECT_EQ(f.kernel->recv(p.client, b).code(), Errc::connection_reset);
}

TEST(SocketCalls, CloseWithUnreadDataResetsThePeer) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  f.send(p.client, "never read");
  f.kernel->advance(milliseconds(1));
  ok(f.kernel->close(p.server));
  EXPECT_EQ(ok(f.kernel->pending_error(p.client)), Errc::connection_reset);
}

TEST(SocketCalls, SendingToAClosedPeerEarnsAResetThatLinuxCallsABrokenPipe) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  ok(f.kernel->close(p.server));
  EXPECT_EQ(f.recv(p.client), "") << "the FIN";
  EXPECT_EQ(f.send(p.client, "anyone?"), 7u) << "the first send still goes out";
  EXPECT_EQ(ok(f.kernel->pending_error(p.client)), Errc::broken_pipe)
      << "after the peer's FIN, Linux reports the reset as EPIPE";
}

TEST(SocketCalls, ShutdownReadLeavesDataReadableThenEof) {
  KernelFixture f("epoll");
  const Pair p = f.connect_pair();
  f.send(p.server, "abc");
  f.kernel->advance(milliseconds(1));
  ok(f.kernel->shutdown(p.client, Direction::read));
  EXPECT_EQ(f.recv(p.client), "abc");
  EXPECT_EQ(f.recv(p.client), "");
  f.send(p.server, "def");
  EXPECT_EQ(f.recv(p.client), "def") << "Linux still accepts data after shutdown(read)";
}

TEST(SocketCalls, ClosingAListenerResetsItsQueuedConnections) {
  KernelFixture f("epoll");
  const Handle l = f.listener();
  const Handle c = ok(f.kernel->socket());
  EXPECT_EQ(f.kernel->connect(c, f.endpoint(l)).code(), Errc::in_progress);
  f.kernel->advance(milliseconds(1));
  ok(f.kernel->close(l));
  EXPECT_EQ(ok(f.kernel->pending_error(c)), Errc::connection_reset);
}

TEST(SocketCalls, CallsOnHandlesThatAreNotOpenSayBadHandle) {
  KernelFixture f("epoll");
  const Handle closed = ok(f.kernel->socket());
  ok(f.kernel->close(closed));
  std::byte b[4];
  for (Handle h : {closed, Handle{99}, invalid_handle, Handle{0}}) {
    SCOPED_TRACE(h);
    EXPECT_EQ(f.kernel->connect(h, Endpoint{}).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->accept(h).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->send(h, as_bytes("x")).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->recv(h, b).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->shutdown(h, Direction::both).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->close(h).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->abort(h).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->pending_error(h).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->set_send_buffer(h, 1).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->set_receive_buffer(h, 1).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->send_buffer(h).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->local_endpoint(h).code(), Errc::bad_handle);
    EXPECT_EQ(f.kernel->set_faults(h, {}).code(), Errc::bad_handle);
    EXPECT_EQ(f.backend->add(h, Interest::read, 1).code(), Errc::bad_handle);
    EXPECT_EQ(f.backend->modify(h, Interest::read, 1).code(), Errc::bad_handle);
    EXPECT_EQ(f.backend->remove(h).code(), Errc::bad_handle);
  }
  const Status closed_again = f.kernel->close(closed);
  EXPECT_NE(closed_again.error().message().find("fd 3"), std::string::npos)
      << closed_again.error().message();
}

// Linux keeps a buffer size in an int, and so does the fake socket: a configured default beyond
// that is refused by name when a socket is made, never cut short quietly.
TEST(SocketCalls, ABufferSizeConfiguredBeyondAnIntIsRefusedByName) {
  KernelFixture f("epoll");
  f.kernel->config().send_buffer_size = std::size_t{1} << 31;
  const Result<Handle> refused = f.kernel->socket();
  EXPECT_EQ(refused.code(), Errc::invalid_argument);
  EXPECT_NE(refused.error().message().find("KernelConfig::send_buffer_size is 2147483648"),
            std::string::npos)
      << refused.error().message();
  EXPECT_EQ(f.kernel->listen(Endpoint{}, 1).code(), Errc::invalid_argument);
  f.kernel->config().send_buffer_size = std::size_t{1} << 30;
  f.kernel->config().receive_buffer_size = std::size_t{1} << 32;
  EXPECT_EQ(f.kernel->socket().code(), Errc::invalid_argument);
  f.kernel->config().receive_buffer_size = std::size_t{1} << 30;
  const Handle h = ok(f.kernel->socket(), "1 GiB fits");
  EXPECT_EQ(h, kFirstHandle) << "the refused calls took no handle";
  EXPECT_EQ(ok(f.kernel->send_buffer(h)), std::size_t{1} << 30);
}

TEST(SocketCalls, TheOpenFileLimitRefusesSocketsAndLeavesAcceptsQueued) {
  KernelConfig config;
  config.open_file_limit = 8;  // handles 3 to 7
  KernelFixture f("epoll", config);
  const Handle l = f.listener();
  const Handle c = ok(f.kernel->socket());
  EXPECT_EQ(f.kernel->connect(c, f.endpoint(l)).code(), Errc::in_progress);
  std::vector<Handle> fillers;
  for (int i = 0; i < 3; ++i)
    fillers.push_back(ok(f.kernel->socket()));
  const Result<Handle> one_too_many = f.kernel->socket();
  EXPECT_EQ(one_too_many.code(), Errc::too_many_handles);
  EXPECT_NE(one_too_many.error().message().find("(8)"), std::string::npos)
      << one_too_many.error().message();
  EXPECT_EQ(f.kernel->accept(l).code(), Errc::too_many_handles);
  ok(f.kernel->close(fillers[0]));
  EXPECT_EQ(ok(f.kernel->accept(l)), fillers[0]) << "the connection waited in the queue";
}

TEST(SocketCalls, WinsockKeepsReportingAResetOnEveryCall) {
  KernelFixture f("win32-select");
  const Pair p = f.connect_pair();
  ok(f.kernel->abort(p.server));
  std::byte b[4];
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(f.kernel->recv(p.client, b).code(), Errc::connection_reset);
    EXPECT_EQ(f.kernel->send(p.client, as_bytes("x")).code(), Errc::connection_reset);
  }
  EXPECT_EQ(ok(f.kernel->pending_error(p.client)), Errc::connection_reset)
      << "SO_ERROR still has it: the data calls do not consume it";
}

TEST(SocketCalls, WinsockSaysShutDownAndNotConnectedWhereLinuxSaysBrokenPipe) {
  KernelFixture f("win32-select");
  const Pair p = f.connect_pair();
  ok(f.kernel->shutdown(p.client, Direction::write));
  EXPECT_EQ(f.kernel->send(p.client, as_bytes("x")).code(), Errc::shut_down);
  const Pair q = f.connect_pair();
  ok(f.kernel->shutdown(q.server, Direction::read));
  std::byte b[4];
  EXPECT_EQ(f.kernel->recv(q.server, b).code(), Errc::shut_down);
  const Handle fresh = ok(f.kernel->socket());
  EXPECT_EQ(f.kernel->send(fresh, as_bytes("x")).code(), Errc::not_connected);
  EXPECT_EQ(f.kernel->recv(fresh, b).code(), Errc::not_connected);
}

}  // namespace
}  // namespace muxlab::fake
