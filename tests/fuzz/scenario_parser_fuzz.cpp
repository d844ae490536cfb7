// libFuzzer target for the scenario parser (issue #4): whatever the bytes, parse_scenario must
// return a script or located errors, without a crash, a leak or undefined behaviour. The
// sanitizers catch the latter; this file checks the contract a caller relies on, and traps when it
// is broken so that libFuzzer saves the input. It only parses: running a script would open
// sockets and make the fuzzer slow and flaky.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "muxlab/scenario.hpp"

namespace {

constexpr std::string_view kFile = "fuzz.scenario";

// The lines as the parser splits them: on '\n' only, so a '\r' stays in the line and counts in
// its length, and a text that ends with '\n' has one more, empty, line.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(pos));
      return lines;
    }
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
}

[[noreturn]] void violated(std::string_view what, const muxlab::SourceLocation& where) {
  // stderr, unbuffered: the message must be out before the trap ends the process.
  std::fprintf(stderr, "scenario_parser_fuzz: contract broken at %s:%d:%d: %.*s\n",
               where.file.c_str(), where.line, where.column, static_cast<int>(what.size()),
               what.data());
  __builtin_trap();
}

// Errors point into the text (a line that exists, a column at or past the line's start) so that
// an editor can jump there. Columns count bytes from 1. The exact upper bound:
//   - every error: column <= length + 1, one past the last byte: where "'->' must be followed by
//     the expected result" points when the arrow ends the line;
//   - "missing arguments" errors: column <= length + 2. need() points one past the space that
//     would separate the next word, at the last word's column + its length + 1, and there is
//     no such space when the last word ends the line ("connect" alone: column 9 of 7 bytes).
// A quoted last word is shorter decoded than written (quotes, escapes), so it points inside the
// line: the bound holds for it too.
void check_location(const muxlab::SourceLocation& where, const std::vector<std::string_view>& lines,
                    int slack) {
  if (where.file != kFile) violated("the location names another file", where);
  if (where.line < 1 || static_cast<std::size_t>(where.line) > lines.size())
    violated(fmt::format("line out of 1..{}", lines.size()), where);
  const auto length =
      static_cast<long long>(lines[static_cast<std::size_t>(where.line) - 1].size());
  if (where.column < 1 || where.column > length + slack)
    violated(fmt::format("column out of 1..{} (the line has {} bytes)", length + slack, length),
             where);
}

void check_errors(const std::vector<muxlab::ScriptError>& errors,
                  const std::vector<std::string_view>& lines) {
  int previous_line = 0;
  for (const muxlab::ScriptError& e : errors) {
    const bool missing = e.message.rfind("missing arguments", 0) == 0;
    check_location(e.where, lines, missing ? 2 : 1);
    if (e.message.empty()) violated("an error without a message", e.where);
    // "a line's parse stops at its first error, the file's never does", in order: at most one
    // error a line, by increasing line.
    if (e.where.line <= previous_line)
      violated(fmt::format("an error at line {} after one at line {}", e.where.line, previous_line),
               e.where);
    previous_line = e.where.line;
    const std::string prefix =
        fmt::format("{}:{}:{}: error: ", kFile, e.where.line, e.where.column);
    const std::string text = e.to_string();
    if (text.rfind(prefix, 0) != 0 || text.size() == prefix.size())
      violated(fmt::format("to_string() is '{}', not '{}message'", text, prefix), e.where);
  }
}

void check_scenario(const muxlab::Scenario& scenario, const std::vector<std::string_view>& lines) {
  if (scenario.file != kFile) violated("the scenario names another file", {});
  int previous_line = 0;
  for (const muxlab::Step& step : scenario.steps) {
    // A step is its line's first word: inside the line, one step a line, in file order.
    check_location(step.where, lines, 0);
    if (step.where.line <= previous_line)
      violated(
          fmt::format("a step at line {} after one at line {}", step.where.line, previous_line),
          step.where);
    const std::string_view line = lines[static_cast<std::size_t>(step.where.line) - 1];
    if (step.source.empty() || line.rfind(step.source, 0) != 0)
      violated("the step's source is not its line", step.where);
    // Its verb, from the table, is the word it starts with.
    std::string_view word = line.substr(static_cast<std::size_t>(step.where.column) - 1);
    word = word.substr(0, word.find_first_of(" \t\"#\r"));
    if (word != step.verb())
      violated(
          fmt::format("the step's verb '{}' is not its line's first word '{}'", step.verb(), word),
          step.where);
    // "on" lines follow their step, before the next step.
    int alternative_line = step.where.line;
    for (const muxlab::Alternative& alt : step.alternatives) {
      check_location(alt.where, lines, 0);
      if (alt.where.line <= alternative_line)
        violated("an 'on' line not after its step and the 'on' lines above it", alt.where);
      if (alt.environments.empty()) violated("an 'on' line without environments", alt.where);
      alternative_line = alt.where.line;
    }
    previous_line = alternative_line;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const muxlab::ParseResult result = muxlab::parse_scenario(text, std::string(kFile));
  const std::vector<std::string_view> lines = split_lines(text);
  if (result.scenario.has_value() == !result.errors.empty())
    violated(result.scenario ? "a scenario and errors" : "neither a scenario nor an error", {});
  check_errors(result.errors, lines);
  if (result.scenario) check_scenario(*result.scenario, lines);
  return 0;
}
