#pragma once
// A scenario line as tokens, and the located errors found in it (`file:line:col: error: ...`).
// Private to the framework: the parser and the step families share it.
#include <string>
#include <string_view>
#include <vector>

#include "muxlab/scenario.hpp"

namespace muxlab::script {

struct Token {
  std::string text;
  int column = 0;       // 1-based
  bool quoted = false;  // a "string": text holds the decoded bytes
};
using Words = std::vector<Token>;

// Collects errors; a line's parse stops at its first error, the file's never does. Every check
// returns false once it has reported, so checks chain with &&.
class LineParser {
 public:
  LineParser(std::string file, int line, std::vector<ScriptError>& errors)
      : file_(std::move(file)), line_(line), errors_(errors) {}

  SourceLocation at(int column) const { return {file_, line_, column}; }
  bool fail(int column, std::string message);

  // Splits a line into words and quoted strings, dropping a trailing # comment.
  bool tokenize(std::string_view line, Words& out);

  // "missing arguments: USAGE", just past the last word, when there are fewer than `count`.
  bool need(const Words& w, std::size_t count, std::string_view usage);
  // "unexpected 'WORD': USAGE" at the first word past `used`.
  bool no_more(const Words& w, std::size_t used, std::string_view usage);

 private:
  std::string file_;
  int line_;
  std::vector<ScriptError>& errors_;
};

}  // namespace muxlab::script
