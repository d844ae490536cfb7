// Tokens: words, quoted strings with C's escapes, and comments.
#include "scenario_tokens.hpp"

#include <charconv>

#include <fmt/format.h>

namespace muxlab {

std::string ScriptError::to_string() const {
  return fmt::format("{}:{}:{}: error: {}", where.file, where.line, where.column, message);
}

namespace script {

bool LineParser::fail(int column, std::string message) {
  errors_.push_back({at(column), std::move(message)});
  return false;
}

bool LineParser::need(const Words& w, std::size_t count, std::string_view usage) {
  if (w.size() >= count) return true;
  return fail(w.back().column + static_cast<int>(w.back().text.size()) + 1,
              fmt::format("missing arguments: {}", usage));
}

bool LineParser::no_more(const Words& w, std::size_t used, std::string_view usage) {
  if (w.size() <= used) return true;
  return fail(w[used].column, fmt::format("unexpected '{}': {}", w[used].text, usage));
}

bool LineParser::tokenize(std::string_view line, Words& out) {
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

}  // namespace script
}  // namespace muxlab
