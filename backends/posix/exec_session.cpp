// `muxlab exec`'s host side (exec_session.hpp): processes, channels and the baton's loop. The
// kernel server decides; this file only starts processes, moves bytes and reaps.
#include "exec_session.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "../fake/exec_protocol.hpp"
#include "../fake/kernel_server.hpp"

namespace muxlab::exec {
namespace {

struct Child {
  ProcessId id = 0;
  pid_t pid = -1;  // -1 for a forked one: not muxlab's child, so never waited for here
  int channel = -1;
  bool background = false;  // forked ones too: their parent, not the run, waits for them
  bool ended = false;
  int status = 0;  // as muxlab exec reports it: the exit code, or 128 + the signal
  std::string command;
};

std::string command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv)
    line += (line.empty() ? "" : " ") + a;
  return line;
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

// In the child: the shim, its channel, a fixed hash seed and no address randomization, then exec.
[[noreturn]] void become(const ExecProgram& program, int channel, const std::string& preload) {
  // Only stdio and the channel come through: muxlab's own descriptors (the trace, the other
  // programs' channels) are not the program's, and its numbering then starts at 3 every run.
  if (channel > 3) close_range(3, static_cast<unsigned>(channel) - 1, 0);
  close_range(static_cast<unsigned>(channel) + 1, ~0u, 0);
  const int flags = fcntl(channel, F_GETFD);
  fcntl(channel, F_SETFD, flags & ~FD_CLOEXEC);
  setenv(kChannelVariable, std::to_string(channel).c_str(), 1);
  setenv("MUXLAB_EXEC_PID", std::to_string(getpid()).c_str(), 1);
  const char* existing = getenv("LD_PRELOAD");
  const std::string preloads =
      existing != nullptr && *existing != '\0' ? preload + ":" + existing : preload;
  setenv("LD_PRELOAD", preloads.c_str(), 1);
  setenv("PYTHONHASHSEED", "0", 0);  // unless the user chose one
  personality(ADDR_NO_RANDOMIZE);
  std::vector<char*> argv;
  for (const auto& a : program.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  std::fprintf(stderr, "muxlab exec: cannot run %s: %s\n", argv[0], std::strerror(errno));
  _exit(127);
}

// SIGTERM, a second to end, then SIGKILL; reaps them all.
void stop(std::vector<Child>& children) {
  // Forked ones end when their channels close (the shim exits when its server is gone).
  for (Child& c : children)
    if (c.pid < 0 && c.channel >= 0) close(std::exchange(c.channel, -1)), c.ended = true;
  for (Child& c : children)
    if (!c.ended) kill(c.pid, SIGTERM);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (Child& c : children) {
    while (!c.ended) {
      int status = 0;
      const pid_t r = waitpid(c.pid, &status, WNOHANG);
      if (r == c.pid || r < 0) {
        c.ended = true;
        c.status = exit_code_of(status);
      } else if (std::chrono::steady_clock::now() >= give_up) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &status, 0);
        c.ended = true;
        c.status = exit_code_of(status);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  }
}

// Waits up to `limit` of real time (zero: for ever) for a message on the channel; false when the
// limit passed first.
bool arrives_within(int channel, Duration limit) {
  if (limit <= Duration::zero()) return true;
  const auto give_up = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{channel, POLLIN, 0};
    const int n = poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), INT_MAX)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true;  // let recvmsg report it
  }
}

// Only one process runs at a time (the baton), so the run gains nothing from several CPUs, and a
// hand-over between two of them costs a cross-CPU wake-up: on a 2-core VM 60 us a call against
// 12 us on one (bench/exec_calls). muxlab and its programs (which inherit the mask) stay on the
// CPU muxlab started on. A program's own threads share it too.
void run_on_one_cpu() {
  const int cpu = sched_getcpu();
  if (cpu < 0) return;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  (void)sched_setaffinity(0, sizeof one, &one);
}

// One message from a channel, and the descriptor that came with it, if any (else `passed` stays
// -1). Returns what recvmsg does.
ssize_t receive(int channel, std::vector<std::byte>& into, int& passed) {
  iovec part{into.data(), into.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t got;
  while ((got = recvmsg(channel, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      std::memcpy(&passed, CMSG_DATA(c), sizeof passed);
  return got;
}

bool is_fork(std::span<const std::byte> request) {
  Request r{};
  if (request.size() < sizeof r) return false;
  std::memcpy(&r, request.data(), sizeof r);
  return r.op == Op::fork;
}

}  // namespace

std::string find_preload_library() {
  if (const char* chosen = getenv("MUXLAB_PRELOAD"); chosen != nullptr && *chosen != '\0')
    return chosen;
  std::error_code e;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", e);
  if (e) return {};
  for (const auto& candidate : {self.parent_path() / "libmuxlab_preload.so",
                                self.parent_path().parent_path() / "lib" / "libmuxlab_preload.so"})
    if (std::filesystem::exists(candidate, e)) return candidate.string();
  if (std::filesystem::exists(MUXLAB_INSTALLED_PRELOAD, e)) return MUXLAB_INSTALLED_PRELOAD;
  return {};
}

int run_exec(const ExecOptions& options, const std::vector<ExecProgram>& programs) {
  ServerConfig config;
  config.kernel.seed = options.seed;
  config.kernel.faults = options.faults;
  if (options.environment == "fake:win32-select")
    config.select_rule = fake::ReadinessRule::win32_select;
  else if (options.environment != "fake:epoll" && options.environment != "fake:poll" &&
           options.environment != "fake:select") {
    std::fprintf(stderr,
                 "muxlab exec: --env %s: exec runs on fake:epoll, fake:poll, fake:select or "
                 "fake:win32-select\n",
                 options.environment.c_str());
    return kExitUsage;
  }
  std::ofstream trace_file;
  KernelServer server(config);
  if (options.trace_path) {
    trace_file.open(*options.trace_path);
    if (!trace_file) {
      std::fprintf(stderr, "muxlab exec: cannot write the trace %s\n", options.trace_path->c_str());
      return kExitUsage;
    }
    server.set_trace(&trace_file);
  }
  signal(SIGPIPE, SIG_IGN);  // a program that dies mid-reply must not take muxlab with it
  run_on_one_cpu();
  timespec real_monotonic{};
  clock_gettime(CLOCK_MONOTONIC, &real_monotonic);
  setenv(kMonotonicStartVariable,
         std::to_string(static_cast<long long>(real_monotonic.tv_sec) * 1'000'000'000LL +
                        real_monotonic.tv_nsec)
             .c_str(),
         1);

  std::vector<Child> children;
  std::map<ProcessId, std::size_t> index;
  for (const ExecProgram& program : programs) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
      std::perror("muxlab exec: socketpair");
      stop(children);
      return 1;
    }
    for (const int end : pair) {  // room for the largest message (kMaxMessage)
      setsockopt(end, SOL_SOCKET, SO_SNDBUF, &kChannelBuffer, sizeof kChannelBuffer);
      setsockopt(end, SOL_SOCKET, SO_RCVBUF, &kChannelBuffer, sizeof kChannelBuffer);
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("muxlab exec: fork");
      stop(children);
      return 1;
    }
    if (pid == 0) {
      close(pair[0]);
      become(program, pair[1], options.preload);
    }
    close(pair[1]);
    Child c;
    c.id = server.add_process(command_line(program.argv));
    c.pid = pid;
    c.channel = pair[0];
    c.background = program.background;
    c.command = command_line(program.argv);
    index[c.id] = children.size();
    children.push_back(std::move(c));
  }

  const Time limit =
      options.timeout == infinite || options.timeout >= fake::kEndOfVirtualTime - server.now()
          ? fake::kEndOfVirtualTime
          : server.now() + options.timeout;
  std::vector<std::byte> message(sizeof(Request) + kMaxMessage);
  int outcome = -1;
  const auto foreground_done = [&] {
    for (const Child& c : children)
      if (!c.background && !c.ended) return false;
    return true;
  };
  while (outcome < 0 && !foreground_done()) {
    const KernelServer::Next next = server.next(limit);
    using Kind = KernelServer::Next::Kind;
    if (next.kind == Kind::deadlock) {
      std::fprintf(stderr,
                   "muxlab exec: deadlock at %.9f s virtual: every process waits and nothing is "
                   "due\n%s",
                   std::chrono::duration<double>(server.now()).count(),
                   server.deadlock_report().c_str());
      outcome = kExitDeadlock;
      break;
    }
    if (next.kind == Kind::time_limit) {
      const std::string waiting = server.deadlock_report();
      std::fprintf(stderr, "muxlab exec: --timeout reached (%.9f s virtual); %s\n%s",
                   std::chrono::duration<double>(options.timeout).count(),
                   waiting.empty() ? "no call was waiting (the processes were busy making calls)"
                                   : "still waiting:",
                   waiting.c_str());
      outcome = kExitTimeLimit;
      break;
    }
    if (next.kind == Kind::all_exited) break;
    Child& child = children[index.at(next.process)];
    bool gone = false;
    if (!next.reply.empty() &&
        send(child.channel, next.reply.data(), next.reply.size(), MSG_NOSIGNAL) < 0)
      gone = true;
    if (!gone && !arrives_within(child.channel, options.wall_limit)) {
      std::fprintf(stderr,
                   "muxlab exec: --wall-limit reached: p%u (pid %lld, %s) ran %.0f s of real time "
                   "without a call the shim sees, while every other process waited (a loop "
                   "that computes, or a call the shim does not intercept: docs/exec.md)\n",
                   child.id, static_cast<long long>(server.pid_of(child.id)), child.command.c_str(),
                   std::chrono::duration<double>(options.wall_limit).count());
      outcome = kExitTimeLimit;
      break;
    }
    int passed = -1;  // a channel for a forked child comes with its parent's fork request
    const ssize_t got = gone ? -1 : receive(child.channel, message, passed);
    if (got <= 0) {
      int status = 0;
      if (child.pid > 0) waitpid(child.pid, &status, 0);
      child.ended = true;
      child.status = exit_code_of(status);
      close(std::exchange(child.channel, -1));
      server.exited(child.id);
      continue;
    }
    const auto request = std::span<const std::byte>(message.data(), static_cast<std::size_t>(got));
    if (passed >= 0 && is_fork(request)) {
      Child forked;
      forked.id = server.fork(child.id, request);
      forked.channel = passed;
      forked.background = true;
      forked.command = child.command;
      index[forked.id] = children.size();
      children.push_back(std::move(forked));  // `child` is not used after this
      continue;
    }
    if (passed >= 0) close(passed);
    server.handle(child.id, request);
  }
  stop(children);
  for (Child& c : children)
    if (c.channel >= 0) close(c.channel);
  if (outcome >= 0) return outcome;
  for (const Child& c : children)
    if (!c.background && c.status != 0) return c.status;
  return 0;
}

}  // namespace muxlab::exec
