// The scenario language's parser: text in, a Scenario or every error located, never a crash.
// Lines are independent except "on ...:" lines, which add per-environment expectations to the
// step above them. What each verb's line holds is its row's business (scenario_steps.hpp); here
// are lines, "->" results, "on" alternatives and the script's own lines (scenario, only, skip).
// docs/scenarios.md is the reference.
#include <algorithm>

#include <fmt/format.h>

#include "muxlab/program.hpp"
#include "muxlab/scenario.hpp"
#include "scenario_steps.hpp"
#include "scenario_values.hpp"

namespace muxlab {
namespace script {

bool StepParser::new_name(const Token& t, std::set<std::string>& names, std::string& out) {
  if (t.quoted || !is_name(t.text))
    return fail(t.column, fmt::format("'{}' is not a name (letters, digits, _ and -)", t.text));
  if (is_socket(t.text) || is_program(t.text))
    return fail(t.column, fmt::format("'{}' is already a name in this script", t.text));
  names.insert(t.text);
  out = t.text;
  return true;
}

bool StepParser::socket_name(const Token& t, std::string& out) {
  if (!is_socket(t.text))
    return fail(t.column, fmt::format("no socket named '{}' (make it with socket, listen or "
                                      "accept first)",
                                      t.text));
  out = t.text;
  return true;
}

bool StepParser::program_name(const Token& t, std::string& out) {
  if (!is_program(t.text))
    return fail(t.column, fmt::format("no program named '{}' (start it first)", t.text));
  out = t.text;
  return true;
}

bool StepParser::duration(const Token& t, Duration& out) {
  if (t.quoted || !parse_duration(t.text, out))
    return fail(
        t.column,
        fmt::format("'{}' is not a duration (like 1s, 250ms, 100us; at most a day)", t.text));
  return true;
}

namespace {

// Every word a line may start with: the table's verbs, then the lines that are not steps.
const std::string& verb_list() {
  static const std::string list = [] {
    std::string names;
    for (const Verb& verb : verbs())
      names += std::string(verb.name) + ", ";
    return names + "on, only, skip, scenario";
  }();
  return list;
}

class ScriptParser {
 public:
  explicit ScriptParser(std::string file) : file_(std::move(file)) { scenario_.file = file_; }

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
    // A script that states nothing would pass everywhere: an empty file, a forgotten body.
    if (errors_.empty() && scenario_.steps.empty())
      errors_.push_back(ScriptError{{file_, 1, 1},
                                    "no steps: the script has only comments, blank lines or its "
                                    "own lines (scenario, only, skip)"});
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
    Words tokens;
    if (!p.tokenize(line, tokens) || tokens.empty()) return;
    const Token& verb = tokens[0];
    if (verb.quoted) {
      p.fail(verb.column, fmt::format("a step starts with a verb ({}), not a string", verb_list()));
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

  void parse_statement(LineParser& p, std::string_view line, const Words& tokens) {
    const Token& first = tokens[0];
    if (first.text == "scenario") {
      if (tokens.size() != 2 || !tokens[1].quoted) {
        p.fail(first.column, "scenario takes one quoted title: scenario \"what this shows\"");
        return;
      }
      scenario_.title = tokens[1].text;
      return;
    }
    if (first.text == "only" || first.text == "skip") {
      parse_environment_list(p, tokens,
                             first.text == "only" ? scenario_.only_on : scenario_.skip_on);
      return;
    }

    // Split off "-> result". The first word is the verb even when it is "->": words must never
    // be empty, a verb's parse reads words[0] (a line "-> ok" is an unknown step).
    Words words;
    const Token* arrow = nullptr;
    Words result;
    for (const Token& t : tokens) {
      if (&t != &tokens[0] && !t.quoted && t.text == "->" && !arrow) {
        arrow = &t;
        continue;
      }
      (arrow ? result : words).push_back(t);
    }

    const Verb* verb = find_verb(first.text);
    if (verb == nullptr) {
      p.fail(first.column, fmt::format("unknown step '{}' (steps: {})", first.text, verb_list()));
      return;
    }
    StepParser step_parser(p, scenario_, names_, verb->usage);
    Step step;
    step.where = p.at(first.column);
    step.source = std::string(line);
    while (!step.source.empty() && (step.source.back() == '\r' || step.source.back() == ' '))
      step.source.pop_back();
    if (!verb->parse(step_parser, words, step)) return;

    if (arrow) {
      if (result.empty()) {
        p.fail(arrow->column + 2, "'->' must be followed by the expected result");
        return;
      }
      if (!parse_result_for(p, *verb, result, step.expected)) return;
    } else if (!verb->needs_result.empty()) {
      p.fail(first.column, std::string(verb->needs_result));
      return;
    }
    if (verb->parsed && !verb->parsed(step_parser, words, step)) return;
    scenario_.steps.push_back(std::move(step));
    last_step_has_result_ = arrow != nullptr;
  }

  bool parse_result_for(LineParser& p, const Verb& verb, const Words& result, Expected& out) {
    if (!parse_result(p, result, out)) return false;
    if (!verb.results.has(out.kind))
      return p.fail(result[0].column,
                    fmt::format("this step cannot result in '{}'", result[0].text));
    return true;
  }

  // "on select, win32-select: readable|writable"
  void parse_alternative(LineParser& p, const Words& tokens) {
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
    const Words result(tokens.begin() + static_cast<long>(i), tokens.end());
    if (result.empty()) {
      p.fail(tokens.back().column, "the 'on' line names no result after ':'");
      return;
    }
    Step& step = scenario_.steps.back();
    if (!parse_result_for(p, verb_of(step), result, alt.expected)) return;
    step.alternatives.push_back(std::move(alt));
  }

  // "only on NAME, ..." and "skip on NAME, ...".
  void parse_environment_list(LineParser& p, const Words& tokens, std::vector<std::string>& out) {
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

  static bool check_selector(LineParser& p, const std::string& word, int column) {
    const Result<EnvironmentSelector> selector = EnvironmentSelector::parse(word);
    return selector.ok() || p.fail(column, selector.error().detail);
  }

  std::string file_;
  Scenario scenario_;
  std::vector<ScriptError> errors_;
  ScriptNames names_;
  bool step_line_failed_ = false;      // the last step line had an error
  bool last_step_has_result_ = false;  // the last step stated "-> result"
};

}  // namespace
}  // namespace script

ParseResult parse_scenario(std::string_view text, std::string file_name) {
  return script::ScriptParser(std::move(file_name)).parse(text);
}

bool selects_environment(std::string_view selector, const Environment& env) {
  const Result<EnvironmentSelector> parsed = EnvironmentSelector::parse(selector);
  return parsed.ok() && parsed.value().matches(env);
}

}  // namespace muxlab
