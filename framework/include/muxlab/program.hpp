#pragma once
// Built-in programs: the documents' servers and clients, written on the Scheduler, that scenario
// scripts start by name ("start delay_http_server as server delay=1s"). Each is a short,
// readable example of one I/O model.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "muxlab/net.hpp"
#include "muxlab/result.hpp"
#include "muxlab/scheduler.hpp"

namespace muxlab {

// key=value arguments from a script line, with typed, located errors.
class ProgramArgs {
 public:
  // Durations are multiplied by time_scale: a real-kernel run scales a script's pauses down.
  explicit ProgramArgs(std::map<std::string, std::string> values, double time_scale = 1.0)
      : values_(std::move(values)), time_scale_(time_scale) {}

  bool has(std::string_view key) const { return values_.count(std::string(key)) != 0; }
  Result<std::string> text(std::string_view key, std::string fallback) const;
  Result<long long> integer(std::string_view key, long long fallback) const;
  // "1s", "500ms", "250us", "0"
  Result<Duration> duration(std::string_view key, Duration fallback) const;
  // "64KiB", "1MiB", "4096"
  Result<std::size_t> bytes(std::string_view key, std::size_t fallback) const;
  // Keys no program read: the runner reports them as errors (a typo must not pass silently).
  std::vector<std::string> unused() const;

 private:
  const std::string* find(std::string_view key) const;
  std::map<std::string, std::string> values_;
  double time_scale_;
  mutable std::map<std::string, bool> read_;
};

// What a running program can reach: the scheduler (and through it the Net and the clock), the
// endpoints other programs listen on, and its own output, which scripts compare.
struct ProgramContext {
  Scheduler& scheduler;
  std::string name;  // the script's name for it ("server", "client")
  std::string output;
  // A server publishes where it listens; clients look a server up by its script name.
  std::map<std::string, Endpoint>& endpoints;

  Net& net() { return scheduler.net(); }
  Result<Endpoint> endpoint_of(std::string_view program) const;
};

using ProgramFactory =
    std::function<Result<Task<>>(ProgramContext& context, const ProgramArgs& args)>;

// What a program argument's value must be, so a script's mistake is found when it is parsed.
enum class ArgumentKind : std::uint8_t {
  text,      // any word: message=hello
  count,     // a whole number: requests=3
  duration,  // 1s, 500ms, 250us
  bytes,     // 4096, 64KiB, 1MiB
  server,    // the script name of a server started on an earlier line
};

struct ProgramArgument {
  std::string_view key;
  ArgumentKind kind;
  std::string_view fallback;  // the default as a script would write it; "<name>": required
};

struct ProgramInfo {
  std::string_view name;
  std::string_view summary;  // one line for `muxlab programs` and docs
  std::vector<ProgramArgument> arguments;
  ProgramFactory make;

  const ProgramArgument* argument(std::string_view key) const;
  std::string arguments_text() const;  // "delay=1s backlog=128", "" for none
  // Every server takes backlog=N, its listen backlog, and no client does.
  bool is_server() const { return argument("backlog") != nullptr; }
};

// Every built-in program, in the order docs list them.
const std::vector<ProgramInfo>& builtin_programs();
const ProgramInfo* find_program(std::string_view name);

// Parsers shared by scripts and program arguments: false on malformed text.
bool parse_duration(std::string_view text, Duration& out);
bool parse_bytes(std::string_view text, std::size_t& out);

// Why `value` is not of `kind` ("expected a duration such as 1s, 500ms or 250us"), or "" when it
// is. A server name is the script's business (which programs it started): always "" here.
std::string argument_kind_error(ArgumentKind kind, std::string_view value);

}  // namespace muxlab
