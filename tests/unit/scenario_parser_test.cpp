// The scenario language: what parses, and a located, specific error for each thing that does not.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "muxlab/error.hpp"
#include "muxlab/scenario.hpp"

namespace muxlab {
namespace {

Scenario parse_ok(std::string_view text) {
  ParseResult r = parse_scenario(text, "t.scenario");
  for (const ScriptError& e : r.errors)
    ADD_FAILURE() << e.to_string();
  return r.scenario.value_or(Scenario{});
}

// The single error a script gives, as the runner prints it.
std::string first_error(std::string_view text) {
  ParseResult r = parse_scenario(text, "t.scenario");
  EXPECT_FALSE(r.scenario.has_value()) << "parsed although it should not";
  return r.errors.empty() ? "" : r.errors.front().to_string();
}

TEST(ScenarioParser, ReadsStepsResultsAndAlternatives) {
  const Scenario s = parse_ok(R"(scenario "a title"
# a comment line
listen l backlog=8
socket c
connect c l        -> in_progress   # trailing comment
watch c read|write edge
wait c within 250ms -> readable|writable|read_closed
  on select, fake:win32-select: readable|writable
send c "a\tb\x41\n" -> 5
send c 64KiB       -> partial
recv c 10          -> eof
pending_error c    -> connection_refused
)");
  EXPECT_EQ(s.title, "a title");
  ASSERT_EQ(s.steps.size(), 9u);
  EXPECT_EQ(s.steps[0].verb(), "listen");
  EXPECT_EQ(std::get<ListenStep>(s.steps[0].args).backlog, 8u);
  EXPECT_EQ(s.steps[2].expected.kind, Expected::Kind::error);
  EXPECT_EQ(s.steps[2].expected.error, Errc::in_progress);
  EXPECT_EQ(std::get<WatchStep>(s.steps[3].args).interest, Interest::read_write);
  EXPECT_EQ(std::get<WatchStep>(s.steps[3].args).trigger, Trigger::edge);
  const Step& wait = s.steps[4];
  EXPECT_EQ(std::get<WaitStep>(wait.args).within, std::chrono::milliseconds(250));
  EXPECT_EQ(wait.expected.readiness,
            Readiness::readable | Readiness::writable | Readiness::read_closed);
  ASSERT_EQ(wait.alternatives.size(), 1u);
  EXPECT_EQ(wait.alternatives[0].environments,
            (std::vector<std::string>{"select", "fake:win32-select"}));
  EXPECT_EQ(wait.alternatives[0].expected.readiness, Readiness::readable | Readiness::writable);
  EXPECT_EQ(std::get<SendStep>(s.steps[5].args).payload, "a\tbA\n");
  EXPECT_EQ(s.steps[5].expected.count, 5u);
  EXPECT_EQ(std::get<SendStep>(s.steps[6].args).generated_size, 64u * 1024);
  EXPECT_EQ(s.steps[6].expected.kind, Expected::Kind::partial);
  EXPECT_EQ(std::get<RecvStep>(s.steps[7].args).buffer_size, 10u);
  EXPECT_EQ(s.steps[7].where.line, 11);
}

TEST(ScenarioParser, ReadsAQuotedProgramArgument) {
  const Scenario s = parse_ok(
      "start delay_http_server as server\nstart echo_client as c server=server message=\"O K\"\n");
  EXPECT_EQ(std::get<StartStep>(s.steps[1].args).arguments.at("message"), "O K");
}

TEST(ScenarioParser, ReadsProgramsAndExpectations) {
  const Scenario s = parse_ok(R"(only on epoll, fake
start delay_http_server as server delay=1s
run until server finished within 5s
expect server output "OK\nOK"
expect server elapsed 3s ±1ms
expect server elapsed 3s +-2ms
expect server calls >= 100x server
expect server would_block <= 4
expect time 1s
expect open_handles 0
)");
  EXPECT_EQ(s.only_on, (std::vector<std::string>{"epoll", "fake"}));
  ASSERT_EQ(s.steps.size(), 9u);
  const auto& start = std::get<StartStep>(s.steps[0].args);
  EXPECT_EQ(start.program, "delay_http_server");
  EXPECT_EQ(start.name, "server");
  EXPECT_EQ(start.arguments.at("delay"), "1s");
  EXPECT_EQ(std::get<RunUntilStep>(s.steps[1].args).within, std::chrono::seconds(5));
  const auto expectation = [&](std::size_t i) {
    return std::get<ExpectStep>(s.steps[i].args).what;
  };
  EXPECT_EQ(std::get<ExpectOutput>(expectation(2)).output, "OK\nOK");
  EXPECT_EQ(std::get<ExpectElapsed>(expectation(3)).elapsed.value, std::chrono::seconds(3));
  EXPECT_EQ(std::get<ExpectElapsed>(expectation(3)).elapsed.tolerance,
            std::chrono::milliseconds(1));
  EXPECT_EQ(std::get<ExpectElapsed>(expectation(4)).elapsed.tolerance,
            std::chrono::milliseconds(2));
  const auto ratio = std::get<ExpectCallsRatio>(expectation(5));
  EXPECT_EQ(ratio.factor, 100u);
  EXPECT_EQ(ratio.comparison, Comparison::ge);
  EXPECT_EQ(ratio.other, "server");
  const auto calls = std::get<ExpectCalls>(expectation(6));
  EXPECT_EQ(calls.would_block_only, true);
  EXPECT_EQ(calls.comparison, Comparison::le);
  EXPECT_EQ(calls.count, 4u);
  EXPECT_EQ(std::get<ExpectTime>(expectation(7)).time.value, std::chrono::seconds(1));
  EXPECT_EQ(std::get<ExpectOpenHandles>(expectation(8)).count, 0u);
}

struct BadScript {
  const char* text;
  const char* error;
};

class ScenarioParserErrors : public ::testing::TestWithParam<BadScript> {};

TEST_P(ScenarioParserErrors, AreLocatedAndSpecific) {
  EXPECT_EQ(first_error(GetParam().text), GetParam().error);
}

std::string case_name(const ::testing::TestParamInfo<BadScript>& info) {
  return "Script" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(
    Each, ScenarioParserErrors,
    ::testing::Values(
        BadScript{"sned c \"x\"",
                  "t.scenario:1:1: error: unknown step 'sned' (steps: socket, listen, connect, "
                  "accept, send, fill, recv, drain, shutdown, close, abort, set, fault, kernel, "
                  "pending_error, watch, watch_many, open_until_fd, unwatch, wait, sleep, start, "
                  "run, expect, on, only, skip, scenario)"},
        BadScript{"socket c\nfault c short_send=50%",
                  "t.scenario:2:1: error: faults are the fake kernel's: say `only on fake` (or "
                  "only fake environments) before the first fault"},
        BadScript{"only on fake, epoll\nfault all short_send=50%",
                  "t.scenario:2:1: error: faults are the fake kernel's: say `only on fake` (or "
                  "only fake environments) before the first fault"},
        BadScript{"only on fake\nsocket c\nfault c short_send=150%",
                  "t.scenario:3:9: error: short_send takes a chance: 25% or 0.25"},
        BadScript{"only on fake:epoll\nfault all spurious_wakeup=often",
                  "t.scenario:2:11: error: spurious_wakeup takes a chance: 25% or 0.25"},
        BadScript{"only on fake\nfault all reset_after=lots",
                  "t.scenario:2:11: error: reset_after takes a size: 4096, 4KiB, 1MiB"},
        BadScript{"only on fake\nfault all jitter=soon",
                  "t.scenario:2:11: error: jitter takes a duration: 2ms"},
        BadScript{"only on fake\nfault all latency=2ms",
                  "t.scenario:2:11: error: expected short_send=, spurious_wakeup=, refuse_connect= "
                  "(chances), reset_after=SIZE or jitter=DURATION"},
        BadScript{"only on fake\nfault q short_send=1",
                  "t.scenario:2:7: error: no socket named 'q' (make it with socket, listen or "
                  "accept first)"},
        BadScript{"only on fake\nfault",
                  "t.scenario:2:7: error: missing arguments: fault SOCKET|all [KEY=VALUE...]"},
        BadScript{"socket c\nrecv q",
                  "t.scenario:2:6: error: no socket named 'q' (make it with socket, listen or "
                  "accept first)"},
        BadScript{"socket c\nsocket c",
                  "t.scenario:2:8: error: 'c' is already a name in this script"},
        BadScript{"socket 9c",
                  "t.scenario:1:8: error: '9c' is not a name (letters, digits, _ and -)"},
        BadScript{"socket c\nsend c 12XB",
                  "t.scenario:2:8: error: expected a \"string\" or a size from 1 to 64MiB (64KiB, "
                  "1MiB)"},
        BadScript{"socket c\nsend c 65MiB",
                  "t.scenario:2:8: error: expected a \"string\" or a size from 1 to 64MiB (64KiB, "
                  "1MiB)"},
        BadScript{"socket c\nsend c \"abc",
                  "t.scenario:2:8: error: unterminated string: a closing '\"' is missing"},
        BadScript{"socket c\nsend c \"a\\qb\"",
                  "t.scenario:2:10: error: unknown escape '\\q' (known: \\n \\r \\t \\0 \\\\ \\\" "
                  "\\xHH)"},
        BadScript{"socket c\nsend c \"\\x4\"", "t.scenario:2:9: error: \\x needs two hex digits"},
        BadScript{"socket c\nwatch c read\nwait c",
                  "t.scenario:3:1: error: wait must state the readiness it expects: wait c -> "
                  "readable"},
        BadScript{"socket c\nclose c ->",
                  "t.scenario:2:11: error: '->' must be followed by the expected result"},
        BadScript{"socket c\nclose c -> partial",
                  "t.scenario:2:12: error: this step cannot result in 'partial'"},
        BadScript{"socket c\nclose c\n  on select: ok",
                  "t.scenario:3:3: error: an 'on' line states another result for the step above "
                  "it, which must have '-> result' itself"},
        BadScript{"socket c\nclose c -> ok\n  on selcet: ok",
                  "t.scenario:3:6: error: unknown environment 'selcet' (known: epoll, poll, "
                  "select, win32-select, kqueue, each also as fake:NAME; fake; real; wine)"},
        BadScript{"socket c\nclose c -> ok\n  on select ok",
                  "t.scenario:3:13: error: unknown environment 'ok' (known: epoll, poll, select, "
                  "win32-select, kqueue, each also as fake:NAME; fake; real; wine)"},
        BadScript{"socket c\nclose c -> ok\n  on select",
                  "t.scenario:3:3: error: expected 'on NAME[, NAME...]: result'"},
        BadScript{"sleep soon",
                  "t.scenario:1:7: error: 'soon' is not a duration (like 1s, 250ms, 100us; at most "
                  "a day)"},
        BadScript{"sleep 9999999999999min",
                  "t.scenario:1:7: error: '9999999999999min' is not a duration (like 1s, 250ms, "
                  "100us; at most a day)"},
        BadScript{"socket c\nshutdown c sideways",
                  "t.scenario:2:12: error: expected read, write or both"},
        BadScript{"socket c\nwatch c sometimes",
                  "t.scenario:2:9: error: expected read, write, read|write or none"},
        BadScript{"connect",
                  "t.scenario:1:9: error: missing arguments: connect SOCKET LISTENER|SERVER"},
        BadScript{"expect nobody output \"x\"",
                  "t.scenario:1:8: error: no program named 'nobody' (start it first)"},
        BadScript{"start selectors_echo_server as s\nexpect s failed only",
                  "t.scenario:2:17: error: the expected failure is a \"string\" its message "
                  "contains"},
        BadScript{"start selectors_echo_server as s\nexpect s failed \"\"",
                  "t.scenario:2:17: error: the expected failure is a \"string\" its message "
                  "contains"},
        BadScript{"open_until_fd many as s",
                  "t.scenario:1:15: error: expected a handle number from 0 to 100000"},
        BadScript{"open_until_fd 100001 as s",
                  "t.scenario:1:15: error: expected a handle number from 0 to 100000"},
        BadScript{"open_until_fd 1024 s",
                  "t.scenario:1:22: error: missing arguments: open_until_fd FD as NAME"},
        BadScript{"open_until_fd 1024 to s",
                  "t.scenario:1:20: error: expected: open_until_fd FD as NAME"},
        BadScript{"socket s\nopen_until_fd 1024 as s",
                  "t.scenario:2:23: error: 's' is already a name in this script"},
        BadScript{"open_until_fd 1024 as s -> readable",
                  "t.scenario:1:28: error: this step cannot result in 'readable'"},
        BadScript{"kernel call_cost=soon",
                  "t.scenario:1:18: error: 'soon' is not a duration (like 0, 1us, 2ms; at most a "
                  "day)"},
        BadScript{"kernel call_cost=2d",
                  "t.scenario:1:18: error: '2d' is not a duration (like 0, 1us, 2ms; at most a "
                  "day)"},
        BadScript{"kernel latency=1ms",
                  "t.scenario:1:8: error: unknown kernel setting 'latency=1ms': expected kernel "
                  "call_cost=DURATION"},
        BadScript{"kernel", "t.scenario:1:8: error: missing arguments: kernel call_cost=DURATION"},
        BadScript{"kernel call_cost=0 call_cost=1us",
                  "t.scenario:1:20: error: unexpected 'call_cost=1us': kernel call_cost=DURATION"},
        BadScript{"expect time 1s ~1ms",
                  "t.scenario:1:16: error: expected a tolerance like ±1ms (or +-1ms)"},
        BadScript{"scenario untitled",
                  "t.scenario:1:1: error: scenario takes one quoted title: scenario \"what this "
                  "shows\""},
        // A wait reports what a watch registered: without one it could only time out.
        BadScript{"socket c\nwait c -> writable",
                  "t.scenario:2:6: error: `c` is not watched: `watch c write` first"},
        BadScript{"socket c\nwatch c read\nunwatch c\nwait c within 2s -> readable|writable",
                  "t.scenario:4:6: error: `c` is not watched: `watch c read|write` first"},
        BadScript{"socket c\nrecv c -> maybe",
                  "t.scenario:2:11: error: unknown result 'maybe': expected a number, a "
                  "\"string\", ok, partial, data, eof, readiness flags (readable|writable|"
                  "read_closed|write_closed|error, or none) or an error name (would_block, "
                  "in_progress, already_in_progress, already_connected, not_connected, "
                  "connection_refused, connection_reset, broken_pipe, shut_down, address_in_use, "
                  "bad_handle, too_many_handles, already_registered, not_registered, unsupported, "
                  "invalid_argument, timed_out, no_resources, not_permitted, connection_aborted, "
                  "unreachable, address_not_available, other)"}),
    case_name);

TEST(ScenarioParser, ReadsEveryPortableErrorName) {
  // Each Errc a backend can report is a result a script may state, the last ones too.
  for (const std::string_view name :
       {"would_block", "no_resources", "not_permitted", "connection_aborted", "unreachable",
        "address_not_available", "other"}) {
    SCOPED_TRACE(name);
    const Scenario s = parse_ok(fmt::format("socket c\nrecv c -> {}\n", name));
    ASSERT_EQ(s.steps.size(), 2u);
    EXPECT_EQ(error_name(s.steps[1].expected.error), name);
  }
}

TEST(ScenarioParser, ReadsOpenUntilFd) {
  const Scenario s = parse_ok("open_until_fd 1024 as big -> too_many_handles\nwatch big read\n");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].verb(), "open_until_fd");
  EXPECT_EQ(std::get<OpenUntilFdStep>(s.steps[0].args).fd, 1024u);
  EXPECT_EQ(std::get<OpenUntilFdStep>(s.steps[0].args).name, "big");
  EXPECT_EQ(s.steps[0].expected.error, make_error_code(Errc::too_many_handles));
}

TEST(ScenarioParser, ReadsKernelSettings) {
  const Scenario s = parse_ok("kernel call_cost=0\nkernel call_cost=250us\n");
  ASSERT_EQ(s.steps.size(), 2u);
  EXPECT_EQ(s.steps[0].verb(), "kernel");
  EXPECT_EQ(std::get<KernelStep>(s.steps[0].args).call_cost, Duration::zero());
  EXPECT_EQ(std::get<KernelStep>(s.steps[1].args).call_cost, std::chrono::microseconds(250));
}

TEST(ScenarioParser, ReportsEveryErrorNotJustTheFirst) {
  ParseResult r = parse_scenario("bogus\nsocket c\nrecv d\nsleep 5 parsecs\n", "t.scenario");
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].where.line, 1);
  EXPECT_EQ(r.errors[1].where.line, 3);
  EXPECT_EQ(r.errors[2].where.line, 4);
}

TEST(ScenarioParser, RejectsNulBytesAndSurvivesOddInput) {
  EXPECT_EQ(first_error(std::string_view("socket c\0", 9)),
            "t.scenario:1:9: error: a NUL byte in the script");
  EXPECT_EQ(first_error(""),
            "t.scenario:1:1: error: no steps: the script has only comments, "
            "blank lines or its own lines (scenario, only, skip)");
  EXPECT_EQ(first_error("# a comment\n\nscenario \"nothing\"\n").substr(0, 31),
            "t.scenario:1:1: error: no steps");
  const ParseResult crlf = parse_scenario("socket c\r\nclose c\r\n", "t.scenario");
  ASSERT_TRUE(crlf.scenario.has_value());
  EXPECT_EQ(crlf.scenario->steps.size(), 2u);
}

}  // namespace
}  // namespace muxlab
