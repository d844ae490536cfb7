// What a user's test reaches through env().fake_kernel() (muxlab/fake.hpp): faults and handle
// pressure from the seed, call counts, virtual time, on a traced environment as the fixture
// gives it; and nothing on a real kernel.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "muxlab/fake.hpp"
#include "muxlab/testing/environment_test.hpp"
#include "muxlab/testing/matchers.hpp"

namespace muxlab::testing {
namespace {

class FakeControlsTest : public EnvironmentTest {
 protected:
  fake::KernelControls& kernel() {
    fake::KernelControls* k = env().fake_kernel();
    if (k == nullptr) throw std::runtime_error("not a fake environment");
    return *k;
  }

  struct Pair {
    Handle client = invalid_handle;
    Handle server = invalid_handle;
  };

  Pair connect_pair() {
    Pair p;
    const Handle l = net().listen({}, 8).value();
    p.client = net().socket().value();
    (void)net().connect(p.client, net().local_endpoint(l).value());
    std::vector<Event> events(4);
    must(backend().add(l, Interest::read, 0));
    (void)backend().wait(events, std::chrono::seconds(1));
    p.server = net().accept(l).value();
    must(backend().remove(l));
    must(net().close(l));
    return p;
  }

  void close_pair(const Pair& p) {
    must(net().close(p.client));
    must(net().close(p.server));
  }

  static void must(const Status& s) {
    if (!s) throw std::runtime_error(s.error().message());
  }
};

TEST_P(FakeControlsTest, ShortSendFaultMakesEverySendPartial) {
  kernel().config().faults.short_send = 1.0;
  const Pair p = connect_pair();
  const std::string data(1000, 'x');
  const Result<std::size_t> sent = net().send(p.client, as_bytes(data));
  EXPECT_THAT(sent, IsPartialSendOf(data.size())) << "room for all of it, yet the fault cut it";
  close_pair(p);
}

TEST_P(FakeControlsTest, SpuriousWakeupIsReadableThenWouldBlock) {
  const Pair p = connect_pair();
  must(backend().add(p.server, Interest::read, 7));
  std::vector<Event> events(4);
  ASSERT_EQ(backend().wait(events, Duration::zero()).value(), 0u) << "nothing to read yet";
  must(kernel().inject_spurious_wakeup(p.server));
  ASSERT_EQ(backend().wait(events, Duration::zero()).value(), 1u);
  EXPECT_THAT(events[0], IsReadable());
  const std::uint64_t blocked_before = kernel().counts().would_block;
  char byte;
  EXPECT_THAT(net().recv(p.server, {reinterpret_cast<std::byte*>(&byte), 1}), WouldBlock());
  EXPECT_EQ(kernel().counts().would_block, blocked_before + 1) << "the wasted call is counted";
  must(backend().remove(p.server));
  close_pair(p);
}

TEST_P(FakeControlsTest, OpenFileLimitRefusesTheNextSocket) {
  const Handle first = net().socket().value();
  kernel().config().open_file_limit = static_cast<std::size_t>(first) + 2;
  const Handle second = net().socket().value();
  const Result<Handle> third = net().socket();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.code(), Errc::too_many_handles);
  EXPECT_THAT(third.error().message(), ::testing::HasSubstr(std::to_string(second + 1)))
      << "the message names the handle it could not give";
  must(net().close(first));
  must(net().close(second));
}

TEST_P(FakeControlsTest, ResetAtAVirtualTimeBreaksTheConnection) {
  const Pair p = connect_pair();
  must(kernel().reset_at(p.client, env().clock().now() + std::chrono::milliseconds(5)));
  kernel().advance(std::chrono::milliseconds(10));
  char byte;
  EXPECT_EQ(net().recv(p.server, {reinterpret_cast<std::byte*>(&byte), 1}).code(),
            Errc::connection_reset);
  close_pair(p);
}

TEST_P(FakeControlsTest, UnknownHandleIsBadHandle) {
  EXPECT_EQ(kernel().set_faults(12345, fake::FaultPlan{}).code(), Errc::bad_handle);
  EXPECT_EQ(kernel().inject_spurious_wakeup(12345).code(), Errc::bad_handle);
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(FakeControlsTest, fake_environments());

class RealKernelTest : public EnvironmentTest {};

TEST_P(RealKernelTest, HasNoFakeKernel) {
  EXPECT_EQ(env().fake_kernel(), nullptr);
}

MUXLAB_INSTANTIATE_ENVIRONMENTS(RealKernelTest, real_environments());

}  // namespace
}  // namespace muxlab::testing
