// The scenario language's parser: text in, a Scenario or every error located, never a crash.
// Lines are independent except "on ...:" lines, which add per-environment expectations to the
// step above them. docs/scenarios.md is the reference for every step parsed here.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "muxlab/program.hpp"
#include "muxlab/scenario.hpp"

namespace muxlab {

std::string ScriptError::to_string() const {
  return fmt::format("{}:{}:{}: error: {}", where.file, where.line, where.column, message);
}

std::string Expected::to_string() const {
  switch (kind) {
    case Kind::ok:
      return "ok";
    case Kind::count:
      return std::to_string(count);
    case Kind::partial:
      return "partial";
    case Kind::data:
      return "data";
    case Kind::text:
      return fmt::format("\"{}\"", text);
    case Kind::eof:
      return "eof";
    case Kind::error:
      return error_name(error);
    case Kind::readiness:
      return muxlab::to_string(readiness);
  }
  return "?";
}

namespace {

struct Token {
  std::string text;
  int column = 0;       // 1-based
  bool quoted = false;  // a "string": text holds the decoded bytes
};

// Collects errors; a line's parse stops at its first error, the file's never does.
class LineParser {
 public:
  LineParser(std::string file, int line, std::vector<ScriptError>& errors)
      : file_(std::move(file)), line_(line), errors_(errors) {}

  SourceLocation at(int column) const { return {file_, line_, column}; }

  bool fail(int column, std::string message) {
    errors_.push_back({at(column), std::move(message)});
    return false;
  }

  // Splits a line into words and quoted strings, dropping a trailing # comment.
  bool tokenize(std::string_view line, std::vector<Token>& out) {
    std::size_t i = 0;
    while (i < line.size()) {
      const char c = line[i];
      if (c == ' ' || c == '\t' || c == '\r') {
        ++i;
        continue;
      }
      if (c == '#') break;
      const int column = static_cast<int>(i) + 1;
      if (c == '"') {
        std::string text;
        ++i;
        bool closed = false;
        while (i < line.size()) {
          const char d = line[i++];
          if (d == '"') {
            closed = true;
            break;
          }
          if (d != '\\') {
            text += d;
            continue;
          }
          if (i >= line.size()) break;
          const char e = line[i++];
          switch (e) {
            case 'n':
              text += '\n';
              break;
            case 'r':
              text += '\r';
              break;
            case 't':
              text += '\t';
              break;
            case '0':
              text += '\0';
              break;
            case '\\':
              text += '\\';
              break;
            case '"':
              text += '"';
              break;
            case 'x': {
              unsigned value = 0;
              if (i + 2 > line.size() ||
                  std::from_chars(line.data() + i, line.data() + i + 2, value, 16).ptr !=
                      line.data() + i + 2)
                return fail(static_cast<int>(i) - 1, "\\x needs two hex digits");
              text += static_cast<char>(value);
              i += 2;
              break;
            }
            default:
              return fail(
                  static_cast<int>(i) - 1,
                  fmt::format("unknown escape '\\{}' (known: \\n \\r \\t \\0 \\\\ \\\" \\xHH)", e));
          }
        }
        if (!closed) return fail(column, "unterminated string: a closing '\"' is missing");
        out.push_back({std::move(text), column, true});
        continue;
      }
      std::size_t end = i;
      while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '"' &&
             line[end] != '#' && line[end] != '\r')
        ++end;
      out.push_back({std::string(line.substr(i, end - i)), column, false});
      i = end;
    }
    return true;
  }

 private:
  std::string file_;
  int line_;
  std::vector<ScriptError>& errors_;
};

constexpr std::string_view kVerbs =
    "socket, listen, connect, accept, send, fill, recv, drain, shutdown, close, abort, set, "
    "fault, kernel, pending_error, watch, watch_many, open_until_fd, unwatch, wait, sleep, start, "
    "run, expect, "
    "on, only, "
    "skip, scenario";

bool is_name(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

bool parse_number(std::string_view s, std::uint64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

bool parse_error_name(std::string_view s, std::error_code& out) {
  for (int e = static_cast<int>(Errc::would_block); e <= static_cast<int>(Errc::other); ++e) {
    const std::error_code code = make_error_code(static_cast<Errc>(e));
    if (error_name(code) == s) {
      out = code;
      return true;
    }
  }
  return false;
}

// "25%" or "0.25": a chance from 0 to 1.
bool parse_chance(std::string_view s, double& out) {
  const bool percent = s.ends_with('%');
  if (percent) s.remove_suffix(1);
  if (s.empty() || s.size() > 16) return false;
  double value = 0;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (error != std::errc{} || end != s.data() + s.size()) return false;
  if (percent) value /= 100;
  if (!(value >= 0 && value <= 1)) return false;
  out = value;
  return true;
}

std::string known_error_names() {
  std::string names;
  for (int e = static_cast<int>(Errc::would_block); e <= static_cast<int>(Errc::other); ++e)
    names += (names.empty() ? "" : ", ") + error_name(make_error_code(static_cast<Errc>(e)));
  return names;
}

// Which result forms each step may state.
using Kind = Expected::Kind;
std::set<Kind> allowed_results(StepKind step) {
  switch (step) {
    case StepKind::send:
      return {Kind::ok, Kind::count, Kind::partial, Kind::error};
    case StepKind::recv:
      return {Kind::text, Kind::eof, Kind::data, Kind::count, Kind::error};
    case StepKind::drain:
      return {Kind::count, Kind::ok, Kind::error};
    case StepKind::wait:
      return {Kind::readiness, Kind::error};
    case StepKind::fill:
      return {Kind::count, Kind::ok, Kind::error};
    case StepKind::watch_many:
    case StepKind::open_until_fd:
      return {Kind::ok, Kind::error};
    case StepKind::socket:
    case StepKind::listen:
    case StepKind::connect:
    case StepKind::accept:
    case StepKind::shutdown:
    case StepKind::close:
    case StepKind::abort:
    case StepKind::set_buffers:
    case StepKind::fault:
    case StepKind::kernel:
    case StepKind::pending_error:
    case StepKind::watch:
    case StepKind::unwatch:
      return {Kind::ok, Kind::error};
    default:
      return {};
  }
}

class ScriptParser {
 public:
  ScriptParser(std::string file) : file_(std::move(file)) { scenario_.file = file_; }

  ParseResult parse(std::string_view text) {
    int line_number = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
      const std::size_t end = std::min(text.find('\n', pos), text.size());
      ++line_number;
      parse_line(text.substr(pos, end - pos), line_number);
      if (end == text.size()) break;
      pos = end + 1;
    }
    ParseResult result;
    if (errors_.empty()) result.scenario = std::move(scenario_);
    result.errors = std::move(errors_);
    return result;
  }

 private:
  void parse_line(std::string_view line, int number) {
    LineParser p(file_, number, errors_);
    if (line.find('\0') != std::string_view::npos) {
      p.fail(static_cast<int>(line.find('\0')) + 1, "a NUL byte in the script");
      return;
    }
    std::vector<Token> tokens;
    if (!p.tokenize(line, tokens) || tokens.empty()) return;
    const Token& verb = tokens[0];
    if (verb.quoted) {
      p.fail(verb.column, fmt::format("a step starts with a verb ({}), not a string", kVerbs));
      return;
    }
    if (verb.text == "on") {
      parse_alternative(p, tokens);
      return;
    }
    const std::size_t errors_before = errors_.size();
    step_line_failed_ = true;
    last_step_has_result_ = false;
    parse_statement(p, line, tokens);
    step_line_failed_ = errors_.size() > errors_before;
  }

  void parse_statement(LineParser& p, std::string_view line, const std::vector<Token>& tokens) {
    const Token& verb = tokens[0];
    if (verb.text == "scenario") {
      if (tokens.size() != 2 || !tokens[1].quoted) {
        p.fail(verb.column, "scenario takes one quoted title: scenario \"what this shows\"");
        return;
      }
      scenario_.title = tokens[1].text;
      return;
    }
    if (verb.text == "only" || verb.text == "skip") {
      parse_environment_list(p, tokens,
                             verb.text == "only" ? scenario_.only_on : scenario_.skip_on);
      return;
    }

    // Split off "-> result". The first word is the verb even when it is "->": words must never
    // be empty, parse_step reads words[0] (a line "-> ok" is an unknown step).
    std::vector<Token> words;
    const Token* arrow = nullptr;
    std::vector<Token> result;
    for (const Token& t : tokens) {
      if (&t != &tokens[0] && !t.quoted && t.text == "->" && !arrow) {
        arrow = &t;
        continue;
      }
      (arrow ? result : words).push_back(t);
    }

    Step step;
    step.where = p.at(verb.column);
    step.source = std::string(line);
    while (!step.source.empty() && (step.source.back() == '\r' || step.source.back() == ' '))
      step.source.pop_back();
    if (!parse_step(p, words, step)) return;

    if (arrow) {
      if (result.empty()) {
        p.fail(arrow->column + 2, "'->' must be followed by the expected result");
        return;
      }
      if (!parse_expected(p, result, step.kind, step.expected)) return;
    } else if (step.kind == StepKind::wait) {
      p.fail(verb.column, "wait must state the readiness it expects: wait c -> readable");
      return;
    }
    if (!follow_watches(p, words, step)) return;
    scenario_.steps.push_back(std::move(step));
    last_step_has_result_ = arrow != nullptr;
  }

  // A wait reports what a watch registered: without one it could only time out.
  bool follow_watches(LineParser& p, const std::vector<Token>& words, const Step& step) {
    if (step.kind == StepKind::watch) watched_.insert(step.name);
    if (step.kind == StepKind::unwatch) watched_.erase(step.name);
    if (step.kind != StepKind::wait || watched_.count(step.name)) return true;
    const Readiness r = step.expected.readiness;
    const bool readable = (r & Readiness::readable) != Readiness::none;
    const bool writable = (r & Readiness::writable) != Readiness::none;
    const std::string_view interest = readable && writable ? "read|write"
                                      : writable           ? "write"
                                                           : "read";
    return p.fail(words[1].column,
                  fmt::format("`{0}` is not watched: `watch {0} {1}` first", step.name, interest));
  }

  // "on select, win32-select: readable|writable"
  void parse_alternative(LineParser& p, const std::vector<Token>& tokens) {
    if (step_line_failed_) return;  // the step above was reported already
    if (scenario_.steps.empty() || !last_step_has_result_) {
      p.fail(tokens[0].column,
             "an 'on' line states another result for the step above it, which must have "
             "'-> result' itself");
      return;
    }
    Alternative alt;
    alt.where = p.at(tokens[0].column);
    std::size_t i = 1;
    bool colon = false;
    for (; i < tokens.size() && !colon; ++i) {
      std::string word = tokens[i].text;
      if (tokens[i].quoted) {
        p.fail(tokens[i].column, "environment names are not quoted");
        return;
      }
      if (!word.empty() && word.back() == ':') {
        colon = true;
        word.pop_back();
      }
      if (!word.empty() && word.back() == ',') word.pop_back();
      if (word.empty()) continue;
      if (!check_selector(p, word, tokens[i].column)) return;
      alt.environments.push_back(word);
    }
    if (!colon || alt.environments.empty()) {
      p.fail(tokens[0].column, "expected 'on NAME[, NAME...]: result'");
      return;
    }
    const std::vector<Token> result(tokens.begin() + static_cast<long>(i), tokens.end());
    if (result.empty()) {
      p.fail(tokens.back().column, "the 'on' line names no result after ':'");
      return;
    }
    Step& step = scenario_.steps.back();
    if (!parse_expected(p, result, step.kind, alt.expected)) return;
    step.alternatives.push_back(std::move(alt));
  }

  // "only on NAME, ..." and "skip on NAME, ...".
  void parse_environment_list(LineParser& p, const std::vector<Token>& tokens,
                              std::vector<std::string>& out) {
    if (tokens.size() < 3 || tokens[1].text != "on") {
      p.fail(tokens[0].column, fmt::format("expected '{} on NAME[, NAME...]'", tokens[0].text));
      return;
    }
    for (std::size_t i = 2; i < tokens.size(); ++i) {
      std::string word = tokens[i].text;
      if (!word.empty() && word.back() == ',') word.pop_back();
      if (!check_selector(p, word, tokens[i].column)) return;
      out.push_back(word);
    }
  }

  bool check_selector(LineParser& p, const std::string& word, int column) {
    const Result<EnvironmentSelector> selector = EnvironmentSelector::parse(word);
    return selector.ok() || p.fail(column, selector.error().detail);
  }

  bool parse_expected(LineParser& p, const std::vector<Token>& result, StepKind step,
                      Expected& out) {
    if (result.size() != 1)
      return p.fail(result[1].column, "one result after '->' (a value, a class or an error)");
    const Token& t = result[0];
    if (t.quoted) {
      out.kind = Kind::text;
      out.text = t.text;
    } else if (parse_number(t.text, out.count)) {
      out.kind = Kind::count;
    } else if (t.text == "ok") {
      out.kind = Kind::ok;
    } else if (t.text == "partial") {
      out.kind = Kind::partial;
    } else if (t.text == "data") {
      out.kind = Kind::data;
    } else if (t.text == "eof") {
      out.kind = Kind::eof;
    } else if (parse_readiness(t.text, out.readiness)) {
      out.kind = Kind::readiness;
    } else if (parse_error_name(t.text, out.error)) {
      out.kind = Kind::error;
    } else {
      return p.fail(t.column,
                    fmt::format("unknown result '{}': expected a number, a \"string\", ok, "
                                "partial, data, eof, readiness flags (readable|writable|"
                                "read_closed|write_closed|error, or none) or an error name ({})",
                                t.text, known_error_names()));
    }
    const std::set<Kind> allowed = allowed_results(step);
    if (!allowed.count(out.kind))
      return p.fail(t.column, fmt::format("this step cannot result in '{}'", t.text));
    return true;
  }

  // --- steps --------------------------------------------------------------------------------

  bool need(LineParser& p, const std::vector<Token>& w, std::size_t count, std::string_view usage) {
    if (w.size() >= count) return true;
    return p.fail(w.back().column + static_cast<int>(w.back().text.size()) + 1,
                  fmt::format("missing arguments: {}", usage));
  }

  bool no_more(LineParser& p, const std::vector<Token>& w, std::size_t used,
               std::string_view usage) {
    if (w.size() <= used) return true;
    return p.fail(w[used].column, fmt::format("unexpected '{}': {}", w[used].text, usage));
  }

  bool new_name(LineParser& p, const Token& t, std::set<std::string>& names, std::string& out) {
    if (t.quoted || !is_name(t.text))
      return p.fail(t.column, fmt::format("'{}' is not a name (letters, digits, _ and -)", t.text));
    if (sockets_.count(t.text) || programs_.count(t.text))
      return p.fail(t.column, fmt::format("'{}' is already a name in this script", t.text));
    names.insert(t.text);
    out = t.text;
    return true;
  }

  // fault SOCKET|all [KEY=VALUE...]: the fake kernel's seeded faults (muxlab/fake.hpp), for one
  // socket or for every socket without a plan of its own; with no KEY=VALUE, none. Real kernels
  // have none, so the script must say `only on fake` (or fake environments only) before.
  bool fault(LineParser& p, const std::vector<Token>& w, Step& step) {
    static constexpr std::string_view kUsage = "fault SOCKET|all [KEY=VALUE...]";
    step.kind = StepKind::fault;
    if (!need(p, w, 2, kUsage)) return false;
    const bool only_fakes =
        !scenario_.only_on.empty() &&
        std::all_of(scenario_.only_on.begin(), scenario_.only_on.end(), [](const std::string& env) {
          return EnvironmentSelector::parse(env).value().only_fakes();
        });
    if (!only_fakes)
      return p.fail(w[0].column,
                    "faults are the fake kernel's: say `only on fake` (or only fake "
                    "environments) before the first fault");
    if (w[1].text == "all")
      step.name = "all";
    else if (!socket_name(p, w[1], step.name))
      return false;
    for (std::size_t i = 2; i < w.size(); ++i) {
      const std::string& kv = w[i].text;
      const auto eq = kv.find('=');
      const std::string key = kv.substr(0, std::min(eq, kv.size()));
      const std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
      fake::FaultPlan& plan = step.faults;
      double* chance = key == "short_send"        ? &plan.short_send
                       : key == "spurious_wakeup" ? &plan.spurious_wakeup
                       : key == "refuse_connect"  ? &plan.refuse_connect
                                                  : nullptr;
      std::size_t bytes = 0;
      Duration jitter{};
      if (chance != nullptr) {
        if (!parse_chance(value, *chance))
          return p.fail(w[i].column, fmt::format("{} takes a chance: 25% or 0.25", key));
      } else if (key == "reset_after") {
        if (!parse_bytes(value, bytes))
          return p.fail(w[i].column, "reset_after takes a size: 4096, 4KiB, 1MiB");
        plan.reset_after_bytes = bytes;
      } else if (key == "jitter") {
        if (!parse_duration(value, jitter))
          return p.fail(w[i].column, "jitter takes a duration: 2ms");
        plan.latency_jitter = jitter;
      } else {
        return p.fail(w[i].column,
                      "expected short_send=, spurious_wakeup=, refuse_connect= (chances), "
                      "reset_after=SIZE or jitter=DURATION");
      }
    }
    return true;
  }

  bool socket_name(LineParser& p, const Token& t, std::string& out) {
    if (!sockets_.count(t.text))
      return p.fail(t.column, fmt::format("no socket named '{}' (make it with socket, listen or "
                                          "accept first)",
                                          t.text));
    out = t.text;
    return true;
  }

  bool program_name(LineParser& p, const Token& t, std::string& out) {
    if (!programs_.count(t.text))
      return p.fail(t.column, fmt::format("no program named '{}' (start it first)", t.text));
    out = t.text;
    return true;
  }

  bool duration(LineParser& p, const Token& t, Duration& out) {
    if (t.quoted || !parse_duration(t.text, out))
      return p.fail(
          t.column,
          fmt::format("'{}' is not a duration (like 1s, 250ms, 100us; at most a day)", t.text));
    return true;
  }

  bool parse_step(LineParser& p, const std::vector<Token>& w, Step& step) {
    const std::string& verb = w[0].text;
    if (verb == "socket") {
      step.kind = StepKind::socket;
      return need(p, w, 2, "socket NAME") && new_name(p, w[1], sockets_, step.name) &&
             no_more(p, w, 2, "socket NAME");
    }
    if (verb == "listen") {
      step.kind = StepKind::listen;
      step.size = 64;
      if (!need(p, w, 2, "listen NAME [backlog=N]") || !new_name(p, w[1], sockets_, step.name))
        return false;
      if (w.size() > 2) {
        if (w[2].text.rfind("backlog=", 0) != 0 || !parse_number(w[2].text.substr(8), step.size))
          return p.fail(w[2].column, "expected backlog=N");
      }
      return no_more(p, w, 3, "listen NAME [backlog=N]");
    }
    if (verb == "connect") {
      step.kind = StepKind::connect;
      if (!need(p, w, 3, "connect SOCKET LISTENER|SERVER") || !socket_name(p, w[1], step.name))
        return false;
      if (!sockets_.count(w[2].text) && !programs_.count(w[2].text))
        return p.fail(w[2].column,
                      fmt::format("no listening socket or server program named '{}'", w[2].text));
      step.target = w[2].text;
      return no_more(p, w, 3, "connect SOCKET LISTENER|SERVER");
    }
    if (verb == "accept") {
      step.kind = StepKind::accept;
      return need(p, w, 3, "accept NEW_SOCKET LISTENER") && socket_name(p, w[2], step.target) &&
             new_name(p, w[1], sockets_, step.name) &&
             no_more(p, w, 3, "accept NEW_SOCKET LISTENER");
    }
    if (verb == "send") {
      step.kind = StepKind::send;
      if (!need(p, w, 3, "send SOCKET \"text\"|SIZE") || !socket_name(p, w[1], step.name))
        return false;
      if (w[2].quoted) {
        step.payload = w[2].text;
      } else if (!parse_bytes(w[2].text, step.size) || step.size == 0 || step.size > (64u << 20)) {
        // The payload is built in memory for one call, which takes at most the send buffer: a
        // larger one only costs time and memory (1GiB took 4 s and 1 GB).
        return p.fail(w[2].column, "expected a \"string\" or a size from 1 to 64MiB (64KiB, 1MiB)");
      }
      return no_more(p, w, 3, "send SOCKET \"text\"|SIZE");
    }
    if (verb == "fill") {
      step.kind = StepKind::fill;
      return need(p, w, 2, "fill SOCKET") && socket_name(p, w[1], step.name) &&
             no_more(p, w, 2, "fill SOCKET");
    }
    if (verb == "recv" || verb == "drain") {
      step.kind = verb == "recv" ? StepKind::recv : StepKind::drain;
      step.size = 65536;
      if (!need(p, w, 2, verb + " SOCKET [SIZE]") || !socket_name(p, w[1], step.name)) return false;
      if (w.size() > 2 &&
          (!parse_bytes(w[2].text, step.size) || step.size == 0 || step.size > (64u << 20)))
        return p.fail(w[2].column, "expected a buffer size from 1 to 64MiB");
      return no_more(p, w, 3, verb + " SOCKET [SIZE]");
    }
    if (verb == "shutdown") {
      step.kind = StepKind::shutdown;
      if (!need(p, w, 3, "shutdown SOCKET read|write|both") || !socket_name(p, w[1], step.name))
        return false;
      if (w[2].text == "read")
        step.direction = Direction::read;
      else if (w[2].text == "write")
        step.direction = Direction::write;
      else if (w[2].text == "both")
        step.direction = Direction::both;
      else
        return p.fail(w[2].column, "expected read, write or both");
      return no_more(p, w, 3, "shutdown SOCKET read|write|both");
    }
    if (verb == "close" || verb == "abort" || verb == "pending_error" || verb == "unwatch") {
      step.kind = verb == "close"           ? StepKind::close
                  : verb == "abort"         ? StepKind::abort
                  : verb == "pending_error" ? StepKind::pending_error
                                            : StepKind::unwatch;
      return need(p, w, 2, verb + " SOCKET") && socket_name(p, w[1], step.name) &&
             no_more(p, w, 2, verb + " SOCKET");
    }
    if (verb == "set") {
      step.kind = StepKind::set_buffers;
      if (!need(p, w, 3, "set SOCKET sndbuf=SIZE rcvbuf=SIZE") || !socket_name(p, w[1], step.name))
        return false;
      for (std::size_t i = 2; i < w.size(); ++i) {
        const std::string& kv = w[i].text;
        std::size_t bytes = 0;
        const auto eq = kv.find('=');
        const std::string key = kv.substr(0, eq);
        if (eq == std::string::npos || (key != "sndbuf" && key != "rcvbuf") ||
            !parse_bytes(kv.substr(eq + 1), bytes))
          return p.fail(w[i].column, "expected sndbuf=SIZE or rcvbuf=SIZE");
        (key == "sndbuf" ? step.send_buffer : step.receive_buffer) = bytes;
      }
      return true;
    }
    if (verb == "fault") return fault(p, w, step);
    if (verb == "kernel") {
      // The fake kernel's virtual cost of each call (1us by default): exact timings over long
      // flows need 0. A real kernel's calls cost what they cost, so there it changes nothing.
      step.kind = StepKind::kernel;
      constexpr std::string_view usage = "kernel call_cost=DURATION";
      if (!need(p, w, 2, usage)) return false;
      const std::string& kv = w[1].text;
      if (w[1].quoted || kv.rfind("call_cost=", 0) != 0)
        return p.fail(w[1].column,
                      fmt::format("unknown kernel setting '{}': expected {}", kv, usage));
      if (!parse_duration(std::string_view(kv).substr(10), step.duration))
        return p.fail(
            w[1].column + 10,
            fmt::format("'{}' is not a duration (like 0, 1us, 2ms; at most a day)", kv.substr(10)));
      return no_more(p, w, 2, usage);
    }
    if (verb == "watch") {
      step.kind = StepKind::watch;
      if (!need(p, w, 3, "watch SOCKET read|write|read|write [edge] [oneshot]") ||
          !socket_name(p, w[1], step.name))
        return false;
      const std::string& i = w[2].text;
      if (i == "read")
        step.interest = Interest::read;
      else if (i == "write")
        step.interest = Interest::write;
      else if (i == "read|write" || i == "write|read")
        step.interest = Interest::read_write;
      else if (i == "none")
        step.interest = Interest::none;
      else
        return p.fail(w[2].column, "expected read, write, read|write or none");
      for (std::size_t k = 3; k < w.size(); ++k) {
        if (w[k].text == "edge")
          step.trigger |= Trigger::edge;
        else if (w[k].text == "oneshot")
          step.trigger |= Trigger::oneshot;
        else
          return p.fail(w[k].column, "expected edge or oneshot");
      }
      return true;
    }
    if (verb == "watch_many") {
      step.kind = StepKind::watch_many;
      constexpr std::string_view usage = "watch_many COUNT";
      if (!need(p, w, 2, usage)) return false;
      if (!parse_number(w[1].text, step.number) || step.number == 0 || step.number > 100000)
        return p.fail(w[1].column, "expected a count from 1 to 100000");
      return no_more(p, w, 2, usage);
    }
    if (verb == "open_until_fd") {
      // open_until_fd FD as NAME: a socket with this handle number, however many it takes.
      step.kind = StepKind::open_until_fd;
      constexpr std::string_view usage = "open_until_fd FD as NAME";
      if (!need(p, w, 4, usage)) return false;
      if (!parse_number(w[1].text, step.number) || step.number > 100000)
        return p.fail(w[1].column, "expected a handle number from 0 to 100000");
      if (w[2].text != "as") return p.fail(w[2].column, fmt::format("expected: {}", usage));
      return new_name(p, w[3], sockets_, step.name) && no_more(p, w, 4, usage);
    }
    if (verb == "wait") {
      step.kind = StepKind::wait;
      step.duration = std::chrono::seconds(1);
      if (!need(p, w, 2, "wait SOCKET [within DURATION] -> READINESS") ||
          !socket_name(p, w[1], step.name))
        return false;
      if (w.size() > 2) {
        if (w[2].text != "within") return p.fail(w[2].column, "expected 'within DURATION'");
        if (!need(p, w, 4, "wait SOCKET within DURATION") || !duration(p, w[3], step.duration))
          return false;
      }
      return no_more(p, w, 4, "wait SOCKET [within DURATION] -> READINESS");
    }
    if (verb == "sleep") {
      step.kind = StepKind::sleep;
      return need(p, w, 2, "sleep DURATION") && duration(p, w[1], step.duration) &&
             no_more(p, w, 2, "sleep DURATION");
    }
    if (verb == "start") return parse_start(p, w, step);
    if (verb == "run") {
      step.kind = StepKind::run_until;
      step.duration = std::chrono::seconds(60);
      constexpr std::string_view usage = "run until PROGRAM finished [within DURATION]";
      if (!need(p, w, 4, usage)) return false;
      if (w[1].text != "until") return p.fail(w[1].column, fmt::format("expected: {}", usage));
      if (!program_name(p, w[2], step.name)) return false;
      if (w[3].text != "finished") return p.fail(w[3].column, fmt::format("expected: {}", usage));
      if (w.size() > 4) {
        if (w[4].text != "within") return p.fail(w[4].column, fmt::format("expected: {}", usage));
        if (!need(p, w, 6, usage) || !duration(p, w[5], step.duration)) return false;
      }
      return no_more(p, w, 6, usage);
    }
    if (verb == "expect") return parse_expect(p, w, step);
    return p.fail(w[0].column, fmt::format("unknown step '{}' (steps: {})", verb, kVerbs));
  }

  bool parse_start(LineParser& p, const std::vector<Token>& w, Step& step) {
    step.kind = StepKind::start;
    constexpr std::string_view usage = "start PROGRAM as NAME [key=value ...]";
    if (!need(p, w, 4, usage)) return false;
    if (!find_program(w[1].text)) {
      std::string known;
      for (const ProgramInfo& info : builtin_programs())
        known += (known.empty() ? "" : ", ") + std::string(info.name);
      return p.fail(w[1].column,
                    fmt::format("no built-in program named '{}' (programs: {})", w[1].text, known));
    }
    step.program = w[1].text;
    if (w[2].text != "as") return p.fail(w[2].column, fmt::format("expected: {}", usage));
    if (!new_name(p, w[3], programs_, step.name)) return false;
    for (std::size_t i = 4; i < w.size(); ++i) {
      const auto eq = w[i].text.find('=');
      if (w[i].quoted || eq == std::string::npos || eq == 0)
        return p.fail(w[i].column, "program arguments are key=value (a quoted value follows '=')");
      std::string key = w[i].text.substr(0, eq);
      std::string value = w[i].text.substr(eq + 1);
      // key="quoted value": the tokenizer split the string off as the next token.
      if (value.empty() && i + 1 < w.size() && w[i + 1].quoted &&
          w[i + 1].column == w[i].column + static_cast<int>(w[i].text.size()))
        value = w[++i].text;
      if (step.arguments.count(key))
        return p.fail(w[i].column, fmt::format("argument '{}' given twice", key));
      step.arguments[key] = value;
    }
    return true;
  }

  bool comparison(LineParser& p, const Token& t, Comparison& out) {
    if (t.text == "==" || t.text == "=")
      out = Comparison::eq;
    else if (t.text == "<=")
      out = Comparison::le;
    else if (t.text == ">=")
      out = Comparison::ge;
    else if (t.text == "<")
      out = Comparison::lt;
    else if (t.text == ">")
      out = Comparison::gt;
    else
      return p.fail(t.column, "expected a comparison: ==, <=, >=, < or >");
    return true;
  }

  // "±1ms" or "+-1ms" after a duration.
  bool tolerance(LineParser& p, const std::vector<Token>& w, std::size_t i, Duration& out) {
    if (i >= w.size()) return true;
    std::string_view t = w[i].text;
    if (t.rfind("±", 0) == 0)
      t.remove_prefix(std::string_view("±").size());
    else if (t.rfind("+-", 0) == 0)
      t.remove_prefix(2);
    else
      return p.fail(w[i].column, "expected a tolerance like ±1ms (or +-1ms)");
    if (!parse_duration(t, out))
      return p.fail(w[i].column, fmt::format("'{}' is not a tolerance like ±1ms", w[i].text));
    return no_more(p, w, i + 1, "expect ... DURATION [±TOLERANCE]");
  }

  bool parse_expect(LineParser& p, const std::vector<Token>& w, Step& step) {
    constexpr std::string_view usage =
        "expect PROGRAM output \"text\" | PROGRAM elapsed DURATION [±TOL] | PROGRAM calls OP N[x "
        "OTHER] | PROGRAM would_block OP N | PROGRAM finished | PROGRAM running | PROGRAM failed "
        "\"text\" | time DURATION [±TOL] | open_handles N";
    if (!need(p, w, 3, usage)) return false;
    if (w[1].text == "time") {
      step.kind = StepKind::expect_time;
      return duration(p, w[2], step.duration) && tolerance(p, w, 3, step.tolerance);
    }
    if (w[1].text == "open_handles") {
      step.kind = StepKind::expect_open_handles;
      if (!parse_number(w[2].text, step.number))
        return p.fail(w[2].column, "expected a number of handles");
      return no_more(p, w, 3, usage);
    }
    if (!program_name(p, w[1], step.name)) return false;
    const std::string& what = w[2].text;
    if (what == "output") {
      step.kind = StepKind::expect_output;
      if (!need(p, w, 4, usage)) return false;
      if (!w[3].quoted) return p.fail(w[3].column, "the expected output is a \"string\"");
      step.payload = w[3].text;
      return no_more(p, w, 4, usage);
    }
    if (what == "elapsed") {
      step.kind = StepKind::expect_elapsed;
      return need(p, w, 4, usage) && duration(p, w[3], step.duration) &&
             tolerance(p, w, 4, step.tolerance);
    }
    if (what == "finished" || what == "running") {
      step.kind = StepKind::expect_finished;
      step.number = what == "finished" ? 1 : 0;
      return no_more(p, w, 3, usage);
    }
    if (what == "failed") {
      step.kind = StepKind::expect_failed;
      if (!need(p, w, 4, usage)) return false;
      if (!w[3].quoted || w[3].text.empty())
        return p.fail(w[3].column, "the expected failure is a \"string\" its message contains");
      step.payload = w[3].text;
      return no_more(p, w, 4, usage);
    }
    if (what == "calls" || what == "would_block") {
      step.would_block_only = what == "would_block";
      if (!need(p, w, 5, usage) || !comparison(p, w[3], step.comparison)) return false;
      std::string_view n = w[4].text;
      if (!n.empty() && n.back() == 'x') {
        // "calls >= 100x other": a ratio to another program's count.
        step.kind = StepKind::expect_calls_ratio;
        if (!parse_number(n.substr(0, n.size() - 1), step.number))
          return p.fail(w[4].column, "expected a factor like 100x");
        return need(p, w, 6, usage) && program_name(p, w[5], step.target) &&
               no_more(p, w, 6, usage);
      }
      step.kind = StepKind::expect_calls;
      if (!parse_number(n, step.number)) return p.fail(w[4].column, "expected a count");
      return no_more(p, w, 5, usage);
    }
    return p.fail(w[2].column, fmt::format("unknown expectation '{}': {}", what, usage));
  }

  std::string file_;
  Scenario scenario_;
  std::vector<ScriptError> errors_;
  std::set<std::string> sockets_;
  std::set<std::string> watched_;  // sockets watched by now, in the order of the lines
  std::set<std::string> programs_;
  bool step_line_failed_ = false;      // the last step line had an error
  bool last_step_has_result_ = false;  // the last step stated "-> result"
};

}  // namespace

ParseResult parse_scenario(std::string_view text, std::string file_name) {
  return ScriptParser(std::move(file_name)).parse(text);
}

bool selects_environment(std::string_view selector, const Environment& env) {
  const Result<EnvironmentSelector> parsed = EnvironmentSelector::parse(selector);
  return parsed.ok() && parsed.value().matches(env);
}

}  // namespace muxlab
