// The exec kernel server, driven as the host drives it but with no process: requests in as
// bytes, replies out. What a broken or hostile shim could send must answer as the real calls
// answer bad input (EINVAL, EBADF, ENOSYS), never crash the server; and the scheduling facts
// of docs/exec.md (parking, deadlock, fork, waitpid) hold.
#include <cerrno>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "exec_protocol.hpp"
#include "kernel_server.hpp"

namespace muxlab::exec {
namespace {

class KernelServerTest : public ::testing::Test {
 protected:
  KernelServerTest() : server_(ServerConfig{}) {}

  // Adds a process and lets it say hello, as the shim's constructor does.
  ProcessId start(std::int64_t pid) {
    const ProcessId p = server_.add_process("test program");
    EXPECT_EQ(resume(), p);
    send(p, Op::hello, -1, {pid});
    return p;
  }

  // The next process resumed, and its reply kept for reply().
  ProcessId resume() {
    const KernelServer::Next next = server_.next();
    if (next.kind != KernelServer::Next::Kind::resume) return 0;
    last_.assign(next.reply.begin(), next.reply.end());
    return next.process;
  }

  void send_bytes(ProcessId p, std::vector<std::byte> message) { server_.handle(p, message); }

  static std::vector<std::byte> request(Op op, int fd, std::vector<std::int64_t> args = {},
                                        const std::vector<std::byte>& payload = {}) {
    Request r{};
    r.op = op;
    r.fd = fd;
    for (std::size_t i = 0; i < args.size() && i < 4; ++i)
      r.arg[i] = args[i];
    r.payload = static_cast<std::uint32_t>(payload.size());
    std::vector<std::byte> bytes(sizeof r);
    std::memcpy(bytes.data(), &r, sizeof r);
    bytes.insert(bytes.end(), payload.begin(), payload.end());
    return bytes;
  }

  void send(ProcessId p, Op op, int fd, std::vector<std::int64_t> args = {},
            const std::vector<std::byte>& payload = {}) {
    send_bytes(p, request(op, fd, std::move(args), payload));
  }

  // Sends a request and resumes the same process with its reply (it must not park).
  Reply call(ProcessId p, Op op, int fd, std::vector<std::int64_t> args = {},
             const std::vector<std::byte>& payload = {}) {
    send(p, op, fd, std::move(args), payload);
    EXPECT_EQ(resume(), p) << "the call parked or another process ran";
    return reply();
  }

  Reply reply() const {
    Reply r{};
    EXPECT_GE(last_.size(), sizeof r);
    if (last_.size() >= sizeof r) std::memcpy(&r, last_.data(), sizeof r);
    return r;
  }

  KernelServer server_;
  std::vector<std::byte> last_;
};

TEST_F(KernelServerTest, AMessageShorterThanARequestIsEinval) {
  const ProcessId p = start(100);
  EXPECT_EQ(resume(), p);
  send_bytes(p, std::vector<std::byte>(3));
  EXPECT_EQ(resume(), p);
  EXPECT_EQ(reply().result, -1);
  EXPECT_EQ(reply().error, EINVAL);
}

TEST_F(KernelServerTest, AnUnknownCallIsEnosys) {
  const ProcessId p = start(100);
  EXPECT_EQ(resume(), p);
  const Reply r = call(p, static_cast<Op>(999), -1);
  EXPECT_EQ(r.result, -1);
  EXPECT_EQ(r.error, ENOSYS);
}

TEST_F(KernelServerTest, CallsOnADescriptorThatIsNotOpenAreEbadf) {
  const ProcessId p = start(100);
  EXPECT_EQ(resume(), p);
  for (Op op : {Op::recv, Op::send, Op::close, Op::listen, Op::shutdown, Op::bytes_readable,
                Op::epoll_wait, Op::get_option}) {
    const Reply r = call(p, op, 7, {0, 1});
    EXPECT_EQ(r.result, -1) << "op " << static_cast<int>(op);
    EXPECT_EQ(r.error, EBADF) << "op " << static_cast<int>(op);
  }
}

TEST_F(KernelServerTest, SelectWithSetsOfTheWrongSizeIsEinval) {
  const ProcessId p = start(100);
  EXPECT_EQ(resume(), p);
  const Reply r = call(p, Op::select, -1, {0, 8}, std::vector<std::byte>(5));
  EXPECT_EQ(r.result, -1);
  EXPECT_EQ(r.error, EINVAL);
}

TEST_F(KernelServerTest, EpollCallsOnASocketAndZeroEventsAreEinval) {
  const ProcessId p = start(100);
  EXPECT_EQ(resume(), p);
  ASSERT_EQ(call(p, Op::socket, 3).result, 0);
  EXPECT_EQ(call(p, Op::epoll_wait, 3, {0, 8}).error, EINVAL);  // not an epoll instance
  ASSERT_EQ(call(p, Op::epoll_create, 4).result, 0);
  EXPECT_EQ(call(p, Op::epoll_wait, 4, {0, 0}).error, EINVAL);  // room for no event
  EXPECT_EQ(call(p, Op::epoll_ctl, 4, {linux_abi::kEpollCtlAdd, 4, 1, 0}).error, EINVAL);  // itself
  EXPECT_EQ(call(p, Op::epoll_ctl, 4, {99, 3, 1, 0}).error, EINVAL);  // no such op
}

TEST_F(KernelServerTest, AForkRequestWithoutAChannelIsEinval) {
  const ProcessId p = start(100);
  EXPECT_EQ(resume(), p);
  EXPECT_EQ(call(p, Op::fork, -1).error, EINVAL);
}

TEST_F(KernelServerTest, ABlockingRecvWithNothingComingIsADeadlockThatNamesTheCall) {
  const ProcessId p = start(100);
  EXPECT_EQ(resume(), p);
  ASSERT_EQ(call(p, Op::socketpair, 3, {4, 0}).result, 0);
  send(p, Op::recv, 3, {0, 10});
  EXPECT_EQ(server_.next().kind, KernelServer::Next::Kind::deadlock);
  EXPECT_NE(server_.deadlock_report().find("p1 (pid 100, test program): recv on fd 3, blocking"),
            std::string::npos)
      << server_.deadlock_report();
}

TEST_F(KernelServerTest, AForkedChildSharesTheSocketsAndWaitpidParksUntilItEnds) {
  const ProcessId parent = start(100);
  EXPECT_EQ(resume(), parent);
  ASSERT_EQ(call(parent, Op::socketpair, 3, {4, 0}).result, 0);
  const ProcessId child = server_.fork(parent, request(Op::fork, -1));
  // The parent has its reply (the child's id) first, and waits for any child; then the child
  // says hello, closes its copy of fd 3, sends on fd 4 and ends.
  EXPECT_EQ(resume(), parent);
  EXPECT_EQ(reply().result, child);
  send(parent, Op::wait_child, -1, {-1, 0});
  EXPECT_EQ(resume(), child);
  send(child, Op::hello, -1, {200});
  EXPECT_EQ(resume(), child);
  EXPECT_EQ(call(child, Op::close, 3).result, 0);
  const std::vector<std::byte> hello(5, std::byte{'h'});
  EXPECT_EQ(call(child, Op::send, 4, {0}, hello).result, 5);
  server_.exited(child);
  EXPECT_EQ(resume(), parent);
  EXPECT_EQ(reply().result, 200);  // the real pid, which the shim then reaps
  // fd 3 is still the parent's: the bytes are there.
  EXPECT_EQ(call(parent, Op::recv, 3, {0, 10}).result, 5);
  // No forked child left to wait for: the real call's (ECHILD here).
  EXPECT_EQ(call(parent, Op::wait_child, -1, {-1, 0}).error, ECHILD);
}

TEST_F(KernelServerTest, ATimeoutFallsDueWhileAnotherProcessBusyPolls) {
  server_.add_process("one");
  server_.add_process("two");
  for (int i = 0; i < 2; ++i) {
    const ProcessId p = resume();
    send(p, Op::hello, -1, {100 + p});
  }
  // Whichever the seed resumes first sleeps; the other busy-polls.
  const ProcessId sleeper = resume();
  send(sleeper, Op::sleep_until, -1, {10'000, 1});  // 10 us from now
  const ProcessId busy = resume();
  ASSERT_NE(busy, sleeper);
  // Each call costs a microsecond of virtual time: the sleep ends during the busy one's calls,
  // and the sleeper, ready since then, runs before the busy one's next turn.
  ProcessId next = busy;
  int calls = 0;
  while (next == busy && calls < 100) {
    send(busy, Op::clock_now, -1);
    next = resume();
    ++calls;
  }
  EXPECT_EQ(next, sleeper);
  EXPECT_LE(calls, 12);
}

}  // namespace
}  // namespace muxlab::exec
