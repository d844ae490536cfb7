// The scheduler on every environment: coroutine and callback programs sharing one thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "muxlab/environment.hpp"
#include "muxlab/format.hpp"
#include "muxlab/scheduler.hpp"

namespace muxlab {
namespace {

using std::chrono::milliseconds;

std::string text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

class SchedulerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto env = make_environment(GetParam());
    ASSERT_TRUE(env.ok()) << env.error().message();
    env_ = std::move(env).value();
    auto backend = env_->make_backend();
    ASSERT_TRUE(backend.ok()) << backend.error().message();
    scheduler_ = std::make_unique<Scheduler>(*env_, std::move(backend).value());
    auto l = net().listen({}, 16);
    ASSERT_TRUE(l.ok()) << l.error().message();
    listener_ = *l;
    at_ = *net().local_endpoint(listener_);
  }
  void TearDown() override {
    scheduler_.reset();
    (void)net().close(listener_);
  }

  Net& net() { return env_->net(); }
  Scheduler& s() { return *scheduler_; }

  // A coroutine client: connect, send `message`, read until EOF into `reply`.
  Task<> client(std::string message, std::string& reply) {
    Handle h = *net().socket();
    Status connected = co_await s().connect(h, at_);
    EXPECT_TRUE(connected.ok()) << connected.error().message();
    Status sent = co_await s().send_all(h, as_bytes(message));
    EXPECT_TRUE(sent.ok());
    std::byte buffer[256];
    for (;;) {
      Result<std::size_t> n = co_await s().recv(h, buffer);
      if (!n || *n == 0) break;
      reply += text(std::span(buffer, *n));
    }
    (void)net().close(h);
  }

  std::unique_ptr<Environment> env_;
  std::unique_ptr<Scheduler> scheduler_;
  Handle listener_ = invalid_handle;
  Endpoint at_;
};

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

TEST_P(SchedulerTest, CoroutineServerAndClientShareOneThread) {
  auto server = [this]() -> Task<> {
    Result<Handle> conn = co_await s().accept(listener_);
    EXPECT_TRUE(conn.ok());
    std::byte buffer[64];
    Result<std::size_t> n = co_await s().recv(*conn, buffer);
    EXPECT_TRUE(n.ok());
    const std::string answer = upper(text(std::span(buffer, *n)));
    EXPECT_TRUE((co_await s().send_all(*conn, as_bytes(answer))).ok());
    (void)net().close(*conn);
  };
  std::string reply;
  s().spawn("server", server());
  s().spawn("client", client("hello", reply));
  const Status ran = s().run(std::chrono::seconds(5));
  ASSERT_TRUE(ran.ok()) << ran.error().message();
  EXPECT_EQ(reply, "HELLO");
  EXPECT_TRUE(s().program(0).finished);
  EXPECT_EQ(s().program(0).failure, "");
}

TEST_P(SchedulerTest, CallbackServerServesCoroutineClients) {
  // selectors style: one callback per handle, no coroutine on the server side.
  std::vector<Handle> served;
  ASSERT_TRUE(s().watch(listener_, Interest::read,
                        [&](Readiness) {
                          Result<Handle> conn = net().accept(listener_);
                          if (!conn) return;
                          served.push_back(*conn);
                          const Handle h = *conn;
                          (void)s().watch(h, Interest::read, [this, h](Readiness) {
                            std::byte buffer[64];
                            Result<std::size_t> n = net().recv(h, buffer);
                            if (n.code() == Errc::would_block) return;
                            (void)s().unwatch(h);
                            if (n && *n > 0)
                              (void)net().send(
                                  h, as_bytes(upper(text(std::span(buffer, *n))) + "_SB"));
                            (void)net().close(h);
                          });
                        })
                  .ok());
  std::string a, b;
  s().spawn("client a", client("hello", a));
  s().spawn("client b", client("world", b));
  const Status ran = s().run(std::chrono::seconds(5));
  ASSERT_TRUE(ran.ok()) << ran.error().message();
  EXPECT_EQ(a, "HELLO_SB");
  EXPECT_EQ(b, "WORLD_SB");
  EXPECT_EQ(served.size(), 2u);
  EXPECT_TRUE(s().unwatch(listener_).ok());
}

TEST_P(SchedulerTest, SleepsWakeInOrderOfDueTime) {
  std::vector<std::string> order;
  auto sleeper = [&](std::string name, Duration d) -> Task<> {
    co_await s().sleep(d);
    order.push_back(name);
  };
  const Time start = s().now();
  s().spawn("slow", sleeper("slow", milliseconds(40)));
  s().spawn("fast", sleeper("fast", milliseconds(10)));
  ASSERT_TRUE(s().run(std::chrono::seconds(5)).ok());
  EXPECT_EQ(order, (std::vector<std::string>{"fast", "slow"}));
  EXPECT_GE(s().now() - start, milliseconds(40));
}

TEST_P(SchedulerTest, CancelledTimerNeverFires) {
  bool fired = false;
  bool kept = false;
  const Scheduler::TimerId id = s().after(milliseconds(5), [&] { fired = true; });
  s().after(milliseconds(20), [&] { kept = true; });
  EXPECT_TRUE(s().cancel(id));
  EXPECT_FALSE(s().cancel(id)) << "a timer is cancelled once";
  ASSERT_TRUE(s().run_until([&] { return kept; }, std::chrono::seconds(5)).ok());
  EXPECT_FALSE(fired);
}

TEST_P(SchedulerTest, BusyPollingProgramLetsOthersRun) {
  // The poller never waits for readiness: each try_recv is a scheduling point, and that is
  // enough for the sender (which sleeps first) to run.
  int calls = 0;
  int would_block = 0;
  std::string got;
  auto poller = [&](Handle h) -> Task<> {
    std::byte buffer[16];
    for (;;) {
      ++calls;
      Result<std::size_t> n = co_await s().try_recv(h, buffer);
      if (n.code() == Errc::would_block) {
        ++would_block;
        continue;
      }
      if (!n || *n == 0) break;
      got += text(std::span(buffer, *n));
    }
  };
  auto sender = [&](Handle h) -> Task<> {
    co_await s().sleep(milliseconds(20));
    EXPECT_TRUE((co_await s().send_all(h, as_bytes("late"))).ok());
    (void)net().shutdown(h, Direction::write);
  };
  Handle client = *net().socket();
  auto accepted = [&]() -> Task<> {
    EXPECT_TRUE((co_await s().connect(client, at_)).ok());
    Result<Handle> server = co_await s().accept(listener_);
    EXPECT_TRUE(server.ok());
    if (!server) co_return;
    s().spawn("poller", poller(*server));
    s().spawn("sender", sender(client));
  };
  s().spawn("setup", accepted());
  const Status ran = s().run(std::chrono::seconds(5));
  ASSERT_TRUE(ran.ok()) << ran.error().message();
  EXPECT_EQ(got, "late");
  EXPECT_GT(would_block, 1) << "it polled while nothing was there";
  EXPECT_EQ(calls, would_block + 2) << "every call but the data and the EOF returned would_block";
  (void)net().close(client);
}

TEST_P(SchedulerTest, ProgramThatCanNeverResumeIsReported) {
  auto stuck = []() -> Task<> { co_await std::suspend_always{}; };
  s().spawn("stuck forever", stuck());
  const Status ran = s().run();
  ASSERT_FALSE(ran.ok());
  EXPECT_NE(ran.error().message().find("stuck forever"), std::string::npos)
      << ran.error().message();
}

TEST_P(SchedulerTest, RunUntilGivesUpAtTheLimit) {
  const Status ran = s().run_until([] { return false; }, milliseconds(30));
  EXPECT_EQ(ran.code(), Errc::timed_out);
}

TEST_P(SchedulerTest, RunForLetsTheTimePassWithProgramsRunning) {
  int ticks = 0;
  auto ticker = [&]() -> Task<> {
    for (;;) {
      co_await s().sleep(milliseconds(10));
      ++ticks;
    }
  };
  s().spawn("ticker", ticker());
  const Time start = env_->clock().now();
  const Status ran = s().run_for(milliseconds(35));
  EXPECT_TRUE(ran.ok()) << ran.error().message();
  EXPECT_GE(env_->clock().now() - start, milliseconds(35));
  // Virtual time is exact; a real sleep may end late (a loaded machine), never early.
  if (env_->is_fake())
    EXPECT_EQ(ticks, 3);
  else
    EXPECT_LE(ticks, 3);
}

TEST_P(SchedulerTest, EscapedExceptionIsRecordedAsFailure) {
  auto thrower = []() -> Task<> {
    co_await std::suspend_never{};
    throw std::runtime_error("bad request");
  };
  const auto id = s().spawn("thrower", thrower());
  ASSERT_TRUE(s().run().ok());
  EXPECT_TRUE(s().program(id).finished);
  EXPECT_EQ(s().program(id).failure, "bad request");
}

std::string env_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Env, SchedulerTest, ::testing::ValuesIn(environment_names()),
                         env_test_name);

}  // namespace
}  // namespace muxlab
