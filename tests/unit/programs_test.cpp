// The built-in programs on every environment: each document's server with its clients on one
// scheduler, held to what the document showed through the programs' exact outputs. Programs
// are started by name with key=value arguments, as a script's `start` line starts them, and run
// in a traced environment: the trace tells which calls a program made, and that every handle
// the programs opened was closed by the end.
//
// Durations stay short (50 to 200 ms) because real kernels run them in real time; the fake
// kernel runs them in virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "muxlab/environment.hpp"
#include "muxlab/format.hpp"
#include "muxlab/program.hpp"
#include "muxlab/scheduler.hpp"
#include "muxlab/trace.hpp"

namespace muxlab {
namespace {

using namespace std::chrono_literals;
using Arguments = std::map<std::string, std::string>;

// The body epoll_partial_send_server answers with: "abc...xyzabc...", `size` bytes.
std::string alphabet_body(std::size_t size) {
  std::string body(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    body[i] = static_cast<char>('a' + i % 26);
  return body;
}

// One environment, traced, with one scheduler, where programs are started by name.
class ProgramBench {
 public:
  ~ProgramBench() {
    trace_->set_program_source(nullptr);
    scheduler_.reset();
  }

  // Empty when the environment is ready, otherwise why it is not.
  std::string open(const std::string& env_name) {
    auto inner = make_environment(env_name);
    if (!inner) return inner.error().message();
    env_ = make_traced_environment(std::move(inner).value(), trace_);
    auto backend = env_->make_backend();
    if (!backend) return backend.error().message();
    scheduler_ = std::make_unique<Scheduler>(*env_, std::move(backend).value());
    trace_->set_program_source([this] {
      return scheduler_ ? std::string(scheduler_->current_program()) : std::string("main");
    });
    return {};
  }

  // Ends the programs still running, as the end of a script does (their frames are destroyed),
  // then checks that no program failed and that every handle was closed.
  void finish() {
    if (!scheduler_) return;
    for (std::size_t id = 0; id < scheduler_->program_count(); ++id) {
      const Scheduler::Program& p = scheduler_->program(id);
      EXPECT_EQ(p.failure, "") << p.name << " failed\n" << trace_tail();
    }
    scheduler_.reset();
    EXPECT_EQ(trace_->open_handles(), std::vector<Handle>{}) << "left open\n" << trace_tail();
    trace_->set_program_source(nullptr);
  }

  Scheduler& scheduler() { return *scheduler_; }
  std::map<std::string, Endpoint>& endpoints() { return endpoints_; }

  // `start <program> as <name> key=value...`
  void start(std::string_view program, const std::string& name, Arguments arguments = {}) {
    const ProgramInfo* info = find_program(program);
    ASSERT_NE(info, nullptr) << "no program " << program;
    auto context =
        std::make_unique<ProgramContext>(ProgramContext{*scheduler_, name, {}, endpoints_});
    const ProgramArgs args(std::move(arguments));
    Result<Task<>> task = info->make(*context, args);
    ASSERT_TRUE(task.ok()) << program << ": " << task.error().message();
    ASSERT_EQ(args.unused(), std::vector<std::string>{})
        << program << " takes " << info->arguments_text();
    const Scheduler::ProgramId id = scheduler_->spawn(name, std::move(task).value());
    programs_[name] = Started{id, std::move(context)};
  }

  // Runs every program until `done`; the test fails when `limit` passes first (in the
  // environment's time: virtual on the fake kernel).
  void run_until(const std::function<bool()>& done, Duration limit = 5s) {
    const Status ran = scheduler_->run_until(done, limit);
    EXPECT_TRUE(ran.ok()) << ran.error().message() << "\n" << trace_tail();
  }
  void run_until_finished(std::initializer_list<std::string> names, Duration limit = 5s) {
    run_until(
        [&] {
          return std::all_of(names.begin(), names.end(), [&](auto& n) { return finished(n); });
        },
        limit);
  }

  // Lets `time` pass (in the environment's time) with every program running.
  void run_for(Duration time) {
    const Status ran = scheduler_->run_for(time);
    EXPECT_TRUE(ran.ok()) << ran.error().message() << "\n" << trace_tail();
  }

  bool finished(const std::string& name) const { return program(name).finished; }
  const std::string& output(const std::string& name) const {
    return programs_.at(name).context->output;
  }
  Time ended(const std::string& name) const { return program(name).ended; }
  Duration elapsed(const std::string& name) const {
    return program(name).ended - program(name).started;
  }

  // Calls `program` made, by call name and result class ("accept", "ok"); any class if empty.
  std::size_t calls(std::string_view program, std::string_view call,
                    std::string_view result_class = {}) const {
    return std::count_if(trace_->records().begin(), trace_->records().end(),
                         [&](const TraceRecord& r) {
                           return r.program == program && r.call == call &&
                                  (result_class.empty() || r.result_class == result_class);
                         });
  }

  // The arguments and the results of the calls `program` made by that name, in order:
  // ("2 bytes", "2") for a recv into a 2-byte buffer that returned 2 bytes.
  std::vector<std::pair<std::string, std::string>> calls_made(std::string_view program,
                                                              std::string_view call) const {
    std::vector<std::pair<std::string, std::string>> made;
    for (const TraceRecord& r : trace_->records())
      if (r.program == program && r.call == call) made.emplace_back(r.arguments, r.result);
    return made;
  }

  std::vector<Handle> open_handles() const { return trace_->open_handles(); }

  std::string trace_tail() const {
    const std::size_t n = trace_->records().size();
    return trace_->to_text(n > 60 ? n - 60 : 0);
  }

 private:
  struct Started {
    Scheduler::ProgramId id = 0;
    std::unique_ptr<ProgramContext> context;
  };
  const Scheduler::Program& program(const std::string& name) const {
    return scheduler_->program(programs_.at(name).id);
  }

  std::shared_ptr<Trace> trace_ = std::make_shared<Trace>();
  std::unique_ptr<Environment> env_;
  std::map<std::string, Endpoint> endpoints_;
  std::map<std::string, Started> programs_;  // contexts outlive the scheduler's programs
  std::unique_ptr<Scheduler> scheduler_;
};

std::string test_name_part(std::string_view text) {
  std::string name(text);
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
  return name;
}

// --- the documents' servers and clients -------------------------------------------------------

class ProgramsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ASSERT_EQ(bench_.open(GetParam()), ""); }
  void TearDown() override { bench_.finish(); }

  ProgramBench bench_;
};

// Document 000: one request after another, each waits out the server's pause.
TEST_P(ProgramsTest, BlockingClientWaitsOutOnePausePerRequest) {
  bench_.start("delay_http_server", "server", {{"delay", "100ms"}});
  bench_.start("blocking_http_client", "client", {{"server", "server"}, {"requests", "3"}});
  bench_.run_until_finished({"client"});
  EXPECT_EQ(bench_.output("client"), "OK\nOK\nOK\n");
  EXPECT_EQ(bench_.output("server"), "GET / HTTP/1.0\nGET / HTTP/1.0\nGET / HTTP/1.0\n");
  EXPECT_GE(bench_.elapsed("client"), 300ms) << "three pauses, one after another";
}

// Document 000: all requests at once; their pauses overlap.
TEST_P(ProgramsTest, MultiplexedClientWaitsOutThePausesTogether) {
  bench_.start("delay_http_server", "server", {{"delay", "100ms"}});
  bench_.start("multiplexed_http_client", "client", {{"server", "server"}, {"requests", "3"}});
  bench_.run_until_finished({"client"});
  EXPECT_EQ(bench_.output("client"), "OK\nOK\nOK\n");
  EXPECT_EQ(bench_.output("server"), "GET / HTTP/1.0\nGET / HTTP/1.0\nGET / HTTP/1.0\n");
  EXPECT_GE(bench_.elapsed("client"), 100ms);
  EXPECT_LT(bench_.elapsed("client"), 200ms) << "about one pause for all three";
}

// Document 003: the busy-polling client gets the same answer without ever waiting for
// readiness; it keeps calling recv while the server pauses.
TEST_P(ProgramsTest, BusyPollClientKeepsCallingWhileTheServerPauses) {
  bench_.start("delay_http_server", "server", {{"delay", "50ms"}});
  bench_.start("busy_poll_http_client", "client", {{"server", "server"}});
  bench_.run_until_finished({"client"});
  EXPECT_EQ(bench_.output("client"), "OK\n");
  EXPECT_EQ(bench_.output("server"), "GET / HTTP/1.1\n");
  EXPECT_GE(bench_.elapsed("client"), 50ms);
  EXPECT_GT(bench_.calls("client", "recv", "would_block"), 10u);
  EXPECT_EQ(bench_.calls("client", "add"), 0u) << "it never registered for readiness";
}

// Document 003: twenty fetchers at once finish in about one pause.
TEST_P(ProgramsTest, TwentyFetchersWaitOutThePausesTogether) {
  bench_.start("delay_http_server", "server", {{"delay", "100ms"}});
  bench_.start("fetcher_http_client", "client", {{"server", "server"}, {"count", "20"}});
  bench_.run_until_finished({"client"});
  std::string twenty_answers, twenty_requests;
  for (int i = 0; i < 20; ++i) {
    twenty_answers += "OK\n";
    twenty_requests += "GET / HTTP/1.1\n";
  }
  EXPECT_EQ(bench_.output("client"), twenty_answers);
  EXPECT_EQ(bench_.output("server"), twenty_requests);
  EXPECT_GE(bench_.elapsed("client"), 100ms);
  EXPECT_LT(bench_.elapsed("client"), 200ms);
}

// Document 001, blocking: the silent client holds the server in recv, so the next client is
// answered only once the silent one has left.
TEST_P(ProgramsTest, Blocking200ServerAnswersNobodyElseWhileASilentClientHoldsIt) {
  bench_.start("blocking_200_server", "server");
  bench_.start("silent_client", "silent", {{"server", "server"}, {"hold", "100ms"}});
  bench_.run_until([&] { return bench_.calls("server", "accept", "ok") == 1; });
  bench_.start("http_get_client", "client", {{"server", "server"}});
  bench_.run_until_finished({"client", "silent"});
  EXPECT_EQ(bench_.output("client"), "200 OK\n");
  EXPECT_EQ(bench_.output("silent"), "");
  EXPECT_EQ(bench_.output("server"), "GET / HTTP/1.0\n");
  EXPECT_GE(bench_.ended("client"), bench_.ended("silent")) << "answered before the silent "
                                                               "client left";
}

// Document 001, select: the same silent client no longer keeps the next client waiting.
TEST_P(ProgramsTest, Select200ServerAnswersPastASilentClient) {
  bench_.start("select_200_server", "server");
  bench_.start("silent_client", "silent", {{"server", "server"}, {"hold", "100ms"}});
  bench_.run_until([&] { return bench_.calls("server", "accept", "ok") == 1; });
  bench_.start("http_get_client", "client", {{"server", "server"}});
  bench_.run_until_finished({"client", "silent"});
  EXPECT_EQ(bench_.output("client"), "200 OK\n");
  EXPECT_EQ(bench_.output("server"), "GET / HTTP/1.0\n");
  EXPECT_LT(bench_.ended("client"), bench_.ended("silent")) << "waited for the silent client";
}

// Document 002, epoll: a 1 MiB answer through a small send buffer leaves in partial sends and
// arrives whole and in order; the server closes the connection once the client hangs up.
TEST_P(ProgramsTest, EpollServerSendsALargeAnswerInPartialSends) {
  bench_.start("epoll_partial_send_server", "server", {{"sndbuf", "4096"}});
  bench_.start("http_get_client", "client", {{"server", "server"}});
  bench_.run_until_finished({"client"});
  const std::string expected = alphabet_body(1024 * 1024) + "\n";
  const std::string& got = bench_.output("client");
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected)
      << "first difference at byte "
      << std::mismatch(got.begin(), got.end(), expected.begin(), expected.end()).first -
             got.begin();
  EXPECT_EQ(bench_.output("server"), "answered 1048576 bytes in partial sends\n");
  EXPECT_GE(bench_.calls("server", "send", "partial"), 2u);
  bench_.run_until([&] { return bench_.open_handles().size() == 1; }, 2s);
  EXPECT_EQ(bench_.open_handles().size(), 1u) << "only the listener stays open";
}

// show=sha256: the body's digest, in one line. The expected digests were computed apart from
// this code, by Python's hashlib (and sha256sum) over the same bytes: 1 MiB of "abc...xyz"
// repeated, and "200 OK".
TEST_P(ProgramsTest, HttpGetClientShowsTheSha256OfTheBody) {
  bench_.start("epoll_partial_send_server", "server", {{"sndbuf", "4096"}});
  bench_.start("http_get_client", "client", {{"server", "server"}, {"show", "sha256"}});
  bench_.start("select_200_server", "short");
  bench_.start("http_get_client", "short_client", {{"server", "short"}, {"show", "sha256"}});
  bench_.run_until_finished({"client", "short_client"});
  EXPECT_EQ(bench_.output("client"),
            "8816f31ba2861e2a7ad907085905efdea5b458d26ed6fe4929ae21467ba1fa97\n");
  EXPECT_EQ(bench_.output("server"), "answered 1048576 bytes in partial sends\n");
  EXPECT_EQ(bench_.output("short_client"),
            "f9bafc82ba5f8fb02b25020d66f396860604f496ca919480147fa525cb505d88\n");
}

// Document 002, epoll: a client that resets is unregistered and closed, and the next is served.
TEST_P(ProgramsTest, EpollServerClosesAClientThatHangsUpAndServesTheNext) {
  bench_.start("epoll_partial_send_server", "server", {{"sndbuf", "4096"}});
  bench_.start("resetting_client", "resetter",
               {{"server", "server"}, {"message", "GET / HTTP/1.0\r\n\r\n"}});
  bench_.run_until([&] { return !bench_.output("server").empty(); }, 2s);
  EXPECT_EQ(bench_.output("server"), "hang-up\n");
  EXPECT_EQ(bench_.open_handles().size(), 1u) << "only the listener stays open";
  bench_.start("http_get_client", "client", {{"server", "server"}, {"show", "size"}});
  bench_.run_until_finished({"client"});
  EXPECT_EQ(bench_.output("client"), "1048576 bytes\n");
  EXPECT_EQ(bench_.output("server"), "hang-up\nanswered 1048576 bytes in partial sends\n");
}

// --- server arguments -------------------------------------------------------------------------

// backlog=N: while the blocking server is held by a silent client, three more connect at once.
// Linux calls the accept queue full only when it holds more than the backlog, so with backlog=1
// two connects complete and the third one's SYN is dropped: that connect is still in progress
// (its SYN goes again after a second). The fake kernel does the same on every personality. With
// the default backlog all three complete.
TEST_P(ProgramsTest, BacklogLimitsTheConnectionsAServerQueues) {
  std::vector<std::string> clients;
  auto connected_clients = [&] {
    return std::count_if(clients.begin(), clients.end(), [&](const std::string& client) {
      return bench_.calls(client, "pending_error", "ok") == 1;
    });
  };
  auto connects_in_progress = [&] {
    return std::count_if(clients.begin(), clients.end(), [&](const std::string& client) {
      return bench_.calls(client, "connect", "in_progress") == 1 &&
             bench_.calls(client, "pending_error") == 0;
    });
  };
  for (const std::string backlog : {"1", ""}) {
    SCOPED_TRACE(backlog.empty() ? "the default backlog" : "backlog=" + backlog);
    const std::string server = "server" + backlog;
    bench_.start("blocking_200_server", server,
                 backlog.empty() ? Arguments{} : Arguments{{"backlog", backlog}});
    bench_.start("silent_client", "hog" + backlog, {{"server", server}, {"hold", "300ms"}});
    bench_.run_until([&] { return bench_.calls(server, "accept", "ok") == 1; });
    clients = {"first" + backlog, "second" + backlog, "third" + backlog};
    for (const std::string& client : clients)
      bench_.start("silent_client", client, {{"server", server}, {"hold", "300ms"}});
    bench_.run_for(100ms);
    if (backlog == "1") {
      EXPECT_EQ(connected_clients(), 2) << "backlog + 1 queue\n" << bench_.trace_tail();
      EXPECT_EQ(connects_in_progress(), 1) << "its SYN was dropped\n" << bench_.trace_tail();
    } else {
      EXPECT_EQ(connected_clients(), 3) << bench_.trace_tail();
      EXPECT_EQ(connects_in_progress(), 0);
    }
  }
}

// Every server (a program that publishes where it listens) takes backlog=N and checks it.
TEST_P(ProgramsTest, EveryServerTakesABacklogAndRefusesABadOne) {
  int servers = 0;
  for (const ProgramInfo& info : builtin_programs()) {
    SCOPED_TRACE(info.name);
    std::map<std::string, Endpoint> published;
    ProgramContext context{bench_.scheduler(), "probe", {}, published};
    const ProgramArgs with_backlog(Arguments{{"backlog", "7"}});
    const Result<Task<>> task = info.make(context, with_backlog);
    if (published.empty()) continue;  // a client: it needs server=<name>, and listens nowhere
    ++servers;
    EXPECT_TRUE(task.ok()) << task.error().message();
    EXPECT_EQ(with_backlog.unused(), std::vector<std::string>{});
    for (const auto& [bad, refusal] : std::vector<std::pair<std::string, std::string>>{
             {"0", "invalid_argument: backlog=0: expected at least 1"},
             {"-3", "invalid_argument: backlog=-3: expected at least 1"},
             {"lots", "invalid_argument: backlog=lots: expected a whole number"},
             {"4097",
              "invalid_argument: backlog=4097: expected at most 4096, where Linux's default "
              "net.core.somaxconn caps a listen backlog"}}) {
      const Result<Task<>> refused = info.make(context, ProgramArgs(Arguments{{"backlog", bad}}));
      ASSERT_FALSE(refused.ok()) << "backlog=" << bad;
      EXPECT_EQ(refused.error().message(), refusal);
    }
  }
  EXPECT_EQ(servers, 8);
}

// --- the program table ------------------------------------------------------------------------

// The arguments each table entry lists, with their defaults, are exactly what its program reads.
TEST_P(ProgramsTest, EveryProgramTakesTheArgumentsItsTableEntryLists) {
  bench_.start("select_200_server", "server");  // what server=<name> names
  for (const ProgramInfo& info : builtin_programs()) {
    SCOPED_TRACE(info.name);
    Arguments arguments;
    for (const ProgramArgument& a : info.arguments)
      arguments[std::string(a.key)] = a.kind == ArgumentKind::server ? "server" : a.fallback;
    ProgramContext context{bench_.scheduler(), "probe", {}, bench_.endpoints()};
    const ProgramArgs args(arguments);
    const Result<Task<>> task = info.make(context, args);
    EXPECT_TRUE(task.ok()) << task.error().message();
    EXPECT_EQ(args.unused(), std::vector<std::string>{});
    // Never started: destroying the task closes what the factory opened (a listener).
  }
}

TEST_P(ProgramsTest, BadArgumentsAreRefusedBeforeTheProgramStarts) {
  bench_.start("select_200_server", "server");
  auto refusal = [&](std::string_view program, Arguments arguments) -> std::string {
    ProgramContext context{bench_.scheduler(), "probe", {}, bench_.endpoints()};
    const Result<Task<>> task = find_program(program)->make(context, ProgramArgs(arguments));
    return task.ok() ? "accepted" : task.error().message();
  };
  EXPECT_EQ(refusal("blocking_http_client", {}),
            "invalid_argument: server=<name> is required: the script name of the server to "
            "connect to");
  EXPECT_EQ(refusal("echo_client", {{"server", "nobody"}}),
            "invalid_argument: no program named 'nobody' listens (start the server first)");
  EXPECT_EQ(refusal("blocking_http_client", {{"server", "server"}, {"requests", "0"}}),
            "invalid_argument: requests=0: expected at least 1");
  EXPECT_EQ(refusal("fetcher_http_client", {{"server", "server"}, {"count", "many"}}),
            "invalid_argument: count=many: expected a whole number");
  EXPECT_EQ(refusal("delay_http_server", {{"delay", "soon"}}),
            "invalid_argument: delay=soon: expected a duration such as 1s, 500ms or 250us");
  EXPECT_EQ(refusal("http_get_client", {{"server", "server"}, {"show", "all"}}),
            "invalid_argument: show=all: expected body, size or sha256");
  EXPECT_EQ(refusal("epoll_partial_send_server", {{"size", "big"}}),
            "invalid_argument: size=big: expected a size such as 4096, 64KiB or 1MiB");
  // The answer is built in memory: 1024GiB once ended a fuzzing run (allocation too big).
  EXPECT_EQ(refusal("epoll_partial_send_server", {{"size", "65MiB"}}),
            "invalid_argument: size=65MiB: expected at most 64MiB (the answer is built in memory)");
  for (const std::string_view echo_server : {"blocking_echo_server", "busy_poll_echo_server",
                                             "select_echo_server", "selectors_echo_server"}) {
    SCOPED_TRACE(echo_server);
    EXPECT_EQ(refusal(echo_server, {{"recv", "0"}}),
              "invalid_argument: recv=0: expected a buffer size from 1 byte to 64MiB");
    EXPECT_EQ(refusal(echo_server, {{"recv", "65MiB"}}),
              "invalid_argument: recv=65MiB: expected a buffer size from 1 byte to 64MiB");
    EXPECT_EQ(refusal(echo_server, {{"recv", "lots"}}),
              "invalid_argument: recv=lots: expected a size such as 4096, 64KiB or 1MiB");
  }
}

TEST(ProgramTable, NamesAreUniqueSnakeCaseAndEveryEntryIsDescribed) {
  std::vector<std::string_view> names;
  for (const ProgramInfo& info : builtin_programs()) {
    SCOPED_TRACE(info.name);
    EXPECT_TRUE(std::all_of(info.name.begin(), info.name.end(),
                            [](char c) { return std::islower(c) || std::isdigit(c) || c == '_'; }));
    EXPECT_FALSE(info.summary.empty());
    EXPECT_TRUE(info.make);
    EXPECT_EQ(find_program(info.name), &info);
    names.push_back(info.name);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end()) << "a name twice";
  EXPECT_EQ(names.size(), 16u);
}

INSTANTIATE_TEST_SUITE_P(Env, ProgramsTest, ::testing::ValuesIn(environment_names()),
                         [](const auto& info) { return test_name_part(info.param); });

// --- the echo servers of documents 002 and 004 ------------------------------------------------

struct EchoServer {
  std::string_view program;
  std::string_view reply_to_hello;
  std::string_view reply_to_hello_in_pieces_of_two;  // recv=2: "he", "ll", "o"
  bool one_client_at_a_time;
};

// gtest names the parameter in failure messages by its program.
void PrintTo(const EchoServer& server, std::ostream* out) {
  *out << server.program;
}

constexpr EchoServer kEchoServers[] = {
    {"blocking_echo_server", "HELLO", "HELLO", true},
    {"busy_poll_echo_server", "HELLO", "HELLO", false},
    {"select_echo_server", "HELLO", "HELLO", false},
    {"selectors_echo_server", "HELLO_SB", "HE_SBLL_SBO_SB", false},
};

class EchoServerTest : public ::testing::TestWithParam<std::tuple<std::string, EchoServer>> {
 protected:
  void SetUp() override { ASSERT_EQ(bench_.open(std::get<0>(GetParam())), ""); }
  void TearDown() override { bench_.finish(); }

  const EchoServer& server() const { return std::get<1>(GetParam()); }
  // What the server writes when it drops the client that reset. Under Wine, recv after the
  // peer's reset returns 0 where Windows reports the reset (DESIGN.md), so on the real
  // win32-select environment the server may see an orderly close instead.
  bool is_drop_line(const std::string& line) const {
    return line == "reset\n" || (std::get<0>(GetParam()) == "win32-select" && line == "closed\n");
  }

  ProgramBench bench_;
};

TEST_P(EchoServerTest, RepliesUpperCase) {
  bench_.start(server().program, "server");
  bench_.start("echo_client", "client", {{"server", "server"}, {"message", "hello"}});
  bench_.run_until_finished({"client"});
  EXPECT_EQ(bench_.output("client"), server().reply_to_hello);
  bench_.run_until([&] { return !bench_.output("server").empty(); }, 2s);
  EXPECT_EQ(bench_.output("server"), "closed\n");
}

// recv=SIZE: every recv the server makes has a buffer of that size, so "hello" comes in three
// pieces; the selectors server answers each piece with its own "_SB". By default: 1024.
TEST_P(EchoServerTest, RecvSizeIsTheBufferOfEachRecv) {
  bench_.start(server().program, "server", {{"recv", "2"}});
  bench_.start("echo_client", "client", {{"server", "server"}, {"message", "hello"}});
  bench_.run_until_finished({"client"});
  EXPECT_EQ(bench_.output("client"), server().reply_to_hello_in_pieces_of_two);
  bench_.run_until([&] { return !bench_.output("server").empty(); }, 2s);
  EXPECT_EQ(bench_.output("server"), "closed\n");
  std::vector<std::string> sizes, pieces;
  for (const auto& [buffer, result] : bench_.calls_made("server", "recv")) {
    sizes.push_back(buffer);
    if (result != "would_block") pieces.push_back(result);
  }
  EXPECT_EQ(std::set<std::string>(sizes.begin(), sizes.end()), std::set<std::string>{"2 bytes"});
  EXPECT_EQ(pieces, (std::vector<std::string>{"2", "2", "1", "0"}));

  bench_.start(server().program, "default", {});
  bench_.start("echo_client", "other", {{"server", "default"}, {"message", "hello"}});
  bench_.run_until_finished({"other"});
  EXPECT_EQ(bench_.output("other"), server().reply_to_hello);
  const auto made = bench_.calls_made("default", "recv");
  ASSERT_FALSE(made.empty());
  EXPECT_EQ(made.front().first, "1024 bytes");
}

TEST_P(EchoServerTest, DropsAClientThatResetsAndServesTheNext) {
  bench_.start(server().program, "server");
  bench_.start("resetting_client", "resetter", {{"server", "server"}, {"message", "hello"}});
  bench_.run_until([&] { return !bench_.output("server").empty(); }, 2s);
  const std::string drop_line = bench_.output("server");
  EXPECT_TRUE(is_drop_line(drop_line)) << drop_line;
  bench_.start("echo_client", "client", {{"server", "server"}, {"message", "hello"}});
  bench_.run_until_finished({"client"});
  EXPECT_EQ(bench_.output("client"), server().reply_to_hello);
  bench_.run_until([&] { return bench_.output("server") != drop_line; }, 2s);
  EXPECT_EQ(bench_.output("server"), drop_line + "closed\n");
}

// Document 004: only the blocking server makes a client wait for a silent one to leave.
TEST_P(EchoServerTest, ASilentClientDelaysOthersOnlyOnTheBlockingServer) {
  bench_.start(server().program, "server");
  bench_.start("silent_client", "silent", {{"server", "server"}, {"hold", "100ms"}});
  bench_.run_until([&] { return bench_.calls("server", "accept", "ok") == 1; });
  bench_.start("echo_client", "client", {{"server", "server"}, {"message", "hello"}});
  bench_.run_until_finished({"client", "silent"});
  EXPECT_EQ(bench_.output("client"), server().reply_to_hello);
  if (server().one_client_at_a_time)
    EXPECT_GE(bench_.ended("client"), bench_.ended("silent")) << "served during the silence";
  else
    EXPECT_LT(bench_.ended("client"), bench_.ended("silent")) << "waited for the silent client";
}

INSTANTIATE_TEST_SUITE_P(Env, EchoServerTest,
                         ::testing::Combine(::testing::ValuesIn(environment_names()),
                                            ::testing::ValuesIn(kEchoServers)),
                         [](const auto& info) {
                           return test_name_part(std::get<0>(info.param)) + "_" +
                                  test_name_part(std::get<1>(info.param).program);
                         });

}  // namespace
}  // namespace muxlab
