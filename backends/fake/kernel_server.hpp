#pragma once
// The kernel server of `muxlab exec`: one fake kernel serving the calls of several real processes,
// each speaking exec_protocol.hpp through the preload shim. It holds the baton: only the process
// it hands a reply to runs, every call is a scheduling point, and virtual time jumps to the next
// due event only when every process waits.
//
// This is the model's half, with no platform header: it takes a process's request as bytes and
// says which process to resume with which reply. The host (backends/posix/exec_session.cpp)
// starts the processes, carries the bytes and reaps them.
//
// Scheduling: a call that completes makes its process ready at the current virtual time; a call
// that would block parks it, and it is checked again (free of charge) whenever anything changed.
// The next process to resume is the one ready longest, ties broken by the seed, so a seed fixes the
// interleaving. Blocking calls (a blocking recv, poll with a timeout, nanosleep) park; non-blocking
// ones answer at once. Descriptor numbers are the program's own (the shim opens a real placeholder
// for each fake object), so the server keeps one table per process from fd to object.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "muxlab/clock.hpp"

#include "exec_protocol.hpp"
#include "fake_kernel.hpp"
#include "seeded_random.hpp"

namespace muxlab::exec {

using ProcessId = std::uint32_t;  // logical: 1, 2, ... in the order the processes were added

struct ServerConfig {
  fake::KernelConfig kernel;
  // What select(2) follows: Linux's rules, or Win32 select's (fake:win32-select), whose sets hold
  // at most kernel.win32_select_limit sockets and which fails when all three are empty.
  fake::ReadinessRule select_rule = fake::ReadinessRule::linux_select;
};

class KernelServer {
 public:
  explicit KernelServer(ServerConfig config);
  ~KernelServer();
  KernelServer(const KernelServer&) = delete;
  KernelServer& operator=(const KernelServer&) = delete;

  // A process that will say hello first. `name` is for reports (the command line).
  ProcessId add_process(std::string name);

  struct Next {
    enum class Kind : std::uint8_t {
      resume,      // send `reply` to `process` (nothing, at its start) and read its next request
      deadlock,    // every live process waits and nothing is due: deadlock_report()
      time_limit,  // the next due event is past the limit given to next()
      all_exited,  // no live process
    };
    Kind kind = Kind::all_exited;
    ProcessId process = 0;
    std::span<const std::byte> reply;  // valid until the next call on the server
  };
  // Chooses what happens next, moving virtual time when every process waits. `limit`: virtual
  // time is not moved past it.
  Next next(Time limit = fake::kEndOfVirtualTime);

  // The request `message` of the process that was just resumed.
  void handle(ProcessId p, std::span<const std::byte> message);
  // The request `message` is Op::fork, and it came with a channel for the child: the child is a
  // new process sharing the parent's descriptors, ready to say hello. The parent's reply is the
  // child's id, returned.
  ProcessId fork(ProcessId parent, std::span<const std::byte> message);
  // The real pid a process gave in its hello (0 before).
  std::int64_t pid_of(ProcessId p) const;
  // The process's channel closed: it ended. Its descriptors close, as the kernel closes them.
  void exited(ProcessId p);
  // Forget a process that never said hello and will not (it was stopped).
  bool is_live(ProcessId p) const;

  // Each parked call: process, descriptor and call, one line each.
  std::string deadlock_report() const;

  Time now() const { return kernel_->now(); }
  fake::CallCounts counts(ProcessId p) const { return kernel_->counts(p); }
  // Every completed call, one line each (time, process, call, arguments, result, a hash of the
  // bytes), or nothing when null.
  void set_trace(std::ostream* out) { trace_ = out; }

 private:
  struct Object;
  struct Call;
  struct Process;
  enum class Outcome : std::uint8_t { done, parked };

  Process& process(ProcessId p);
  ProcessId new_process(std::string name);
  Outcome attempt(Process& p, Call& call, bool first);
  void finish(Process& p, Call& call);
  void make_ready(Process& p);
  void recheck_parked();
  void expire_deadlines();
  void fire_alarms();
  std::optional<Time> earliest_deadline() const;

  // One handler per request; each returns parked when the call must wait.
  Outcome do_socket(Process& p, Call& c);
  Outcome do_socketpair(Process& p, Call& c);
  Outcome do_bind(Process& p, Call& c);
  Outcome do_listen(Process& p, Call& c);
  Outcome do_accept(Process& p, Call& c, bool first);
  Outcome do_connect(Process& p, Call& c, bool first);
  Outcome do_send(Process& p, Call& c, bool first);
  Outcome do_recv(Process& p, Call& c, bool first);
  Outcome do_shutdown(Process& p, Call& c);
  Outcome do_close(Process& p, Call& c);
  Outcome do_dup(Process& p, Call& c);
  Outcome do_set_option(Process& p, Call& c);
  Outcome do_get_option(Process& p, Call& c);
  Outcome do_address(Process& p, Call& c, bool peer);
  Outcome do_nonblocking(Process& p, Call& c, bool set);
  Outcome do_bytes_readable(Process& p, Call& c);
  Outcome do_poll(Process& p, Call& c, bool first);
  Outcome do_select(Process& p, Call& c, bool first);
  Outcome do_epoll_create(Process& p, Call& c);
  Outcome do_epoll_ctl(Process& p, Call& c);
  Outcome do_epoll_wait(Process& p, Call& c, bool first);
  Outcome do_sleep(Process& p, Call& c, bool first);
  Outcome do_pipe(Process& p, Call& c);
  Outcome do_wait_child(Process& p, Call& c);
  Outcome do_alarm(Process& p, Call& c);
  Outcome do_eventfd(Process& p, Call& c);
  Outcome eventfd_write(Object& o, Call& c);
  Outcome eventfd_read(Object& o, Call& c);
  void add_to_count(Object& eventfd, std::uint64_t n);
  Result<std::pair<Handle, Handle>> connected_pair();

  std::shared_ptr<Object> object_at(Process& p, int fd) const;
  std::shared_ptr<Object> socket_at(Process& p, int fd, Call& c) const;
  std::shared_ptr<Object> stream_at(Process& p, int fd, Call& c) const;
  void release(std::shared_ptr<Object> object);
  std::uint32_t poll_bits(const Object& o, std::uint32_t asked);
  void trace_call(const Process& p, const Call& c);
  std::string logical_name(std::int64_t pid) const;

  ServerConfig config_;
  std::shared_ptr<fake::FakeKernel> kernel_;
  fake::SeededRandom random_;
  std::map<ProcessId, std::unique_ptr<Process>> processes_;
  std::vector<ProcessId> parked_;  // in the order they parked
  // Ready to resume: (ready since, seeded tie-break, process).
  struct Ready {
    Time since;
    std::uint64_t order;
    ProcessId process;
  };
  std::vector<Ready> ready_;
  std::vector<std::byte> sent_;  // the reply next() handed out
  std::ostream* trace_ = nullptr;
};

}  // namespace muxlab::exec
