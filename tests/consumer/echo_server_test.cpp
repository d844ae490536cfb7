// The echo server on every environment muxlab has, fake and real, with muxlab::testing's
// fixture: a failure prints the trace of the failing run and the seed to rerun it with.
#include "echo_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>

#include "muxlab/testing/environment_test.hpp"
#include "muxlab/testing/matchers.hpp"

namespace consumer {
namespace {

using muxlab::Handle;
using muxlab::Task;
using namespace std::chrono_literals;

class EchoServerTest : public muxlab::testing::EnvironmentTest {
 protected:
  // A client: connects, sends `message`, finishes sending, and reads the echo until EOF.
  // Reading runs as a program of its own, so a message larger than the socket buffers cannot
  // wedge the client against the server.
  Task<> client(muxlab::Endpoint server, std::string message, std::string& echoed) {
    muxlab::Scheduler& s = scheduler();
    const Handle h = *net().socket();
    const muxlab::Status connected = co_await s.connect(h, server);
    EXPECT_TRUE(connected.ok()) << connected.error().message();
    bool done_reading = false;
    s.spawn("reader", read_until_eof(h, echoed, done_reading));
    EXPECT_TRUE((co_await s.send_all(h, muxlab::as_bytes(message))).ok());
    EXPECT_TRUE(net().shutdown(h, muxlab::Direction::write).ok());
    while (!done_reading)
      co_await s.sleep(1ms);
    (void)net().close(h);
  }

  Task<> read_until_eof(Handle h, std::string& into, bool& done) {
    std::array<std::byte, 4096> buffer;
    for (;;) {
      muxlab::Result<std::size_t> n = co_await scheduler().recv(h, buffer);
      if (!n || *n == 0) break;
      into.append(reinterpret_cast<const char*>(buffer.data()), *n);
    }
    done = true;
  }
};

TEST_P(EchoServerTest, EchoesEachClient) {
  // Under MUXLAB_CHECK_DETERMINISM=1, a fake environment runs this twice and compares traces.
  check_determinism([&] {
    EchoServer server(scheduler());
    const muxlab::Result<muxlab::Endpoint> at = server.listen();
    ASSERT_TRUE(at.ok()) << at.error().message();
    std::string first, second;
    scheduler().spawn("server", server.serve(2));
    scheduler().spawn("client 1", client(*at, "hello", first));
    scheduler().spawn("client 2", client(*at, "world", second));
    const muxlab::Status ran = scheduler().run(10s);
    ASSERT_TRUE(ran.ok()) << ran.error().message();
    EXPECT_EQ(first, "hello");
    EXPECT_EQ(second, "world");
    EXPECT_EQ(server.bytes_echoed(), 10u);
  });
}

TEST_P(EchoServerTest, LargeMessageComesBackWholeAfterPartialSends) {
  EchoServer server(scheduler());
  const muxlab::Result<muxlab::Endpoint> at = server.listen();
  ASSERT_TRUE(at.ok()) << at.error().message();
  const std::string message(512 * 1024, 'x');
  std::string echoed;
  scheduler().spawn("server", server.serve(1));
  scheduler().spawn("client", client(*at, message, echoed));
  const muxlab::Status ran = scheduler().run(20s);
  ASSERT_TRUE(ran.ok()) << ran.error().message();
  EXPECT_EQ(echoed.size(), message.size());
  EXPECT_TRUE(echoed == message) << "the echo differs from what was sent";
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(EchoServerTest, muxlab::testing::all_environments());

// What the fake kernel can promise and a real one cannot: a send larger than the buffers is
// split, and the same program makes the same calls.
class FakeKernelEchoTest : public EchoServerTest {};

TEST_P(FakeKernelEchoTest, OneMebibyteSendIsPartial) {
  const Handle listener = *net().listen({}, 1);
  const Handle h = *net().socket();
  (void)net().connect(h, *net().local_endpoint(listener));
  ASSERT_TRUE(backend().add(h, muxlab::Interest::write, 1).ok());
  std::array<muxlab::Event, 4> events;
  const muxlab::Result<std::size_t> reported = backend().wait(events, 1s);
  ASSERT_TRUE(reported.ok() && *reported == 1) << "the connect did not complete";
  EXPECT_THAT(events[0], muxlab::testing::IsWritable());
  ASSERT_TRUE(backend().remove(h).ok());
  const std::string payload(1 << 20, 'x');
  EXPECT_THAT(net().send(h, muxlab::as_bytes(payload)),
              muxlab::testing::IsPartialSendOf(payload.size()));
  (void)net().close(h);
  (void)net().close(listener);
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(FakeKernelEchoTest, muxlab::testing::fake_environments());

}  // namespace
}  // namespace consumer
