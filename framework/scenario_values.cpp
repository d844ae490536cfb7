// Values in scenario lines, and their printed forms in failure reports.
#include "scenario_values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "muxlab/error.hpp"
#include "muxlab/readiness.hpp"

namespace muxlab {

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

namespace script {
namespace {

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

std::string known_error_names() {
  std::string names;
  for (int e = static_cast<int>(Errc::would_block); e <= static_cast<int>(Errc::other); ++e)
    names += (names.empty() ? "" : ", ") + error_name(make_error_code(static_cast<Errc>(e)));
  return names;
}

}  // namespace

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

bool parse_comparison(std::string_view s, Comparison& out) {
  if (s == "==" || s == "=")
    out = Comparison::eq;
  else if (s == "<=")
    out = Comparison::le;
  else if (s == ">=")
    out = Comparison::ge;
  else if (s == "<")
    out = Comparison::lt;
  else if (s == ">")
    out = Comparison::gt;
  else
    return false;
  return true;
}

std::string_view comparison_text(Comparison c) {
  switch (c) {
    case Comparison::eq:
      return "==";
    case Comparison::le:
      return "<=";
    case Comparison::ge:
      return ">=";
    case Comparison::lt:
      return "<";
    case Comparison::gt:
      return ">";
  }
  return "?";
}

bool compare(std::uint64_t a, Comparison c, std::uint64_t b) {
  switch (c) {
    case Comparison::eq:
      return a == b;
    case Comparison::le:
      return a <= b;
    case Comparison::ge:
      return a >= b;
    case Comparison::lt:
      return a < b;
    case Comparison::gt:
      return a > b;
  }
  return false;
}

bool parse_result(LineParser& p, const Words& result, Expected& out) {
  if (result.size() != 1)
    return p.fail(result[1].column, "one result after '->' (a value, a class or an error)");
  using Kind = Expected::Kind;
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
    return p.fail(t.column, fmt::format("unknown result '{}': expected a number, a \"string\", ok, "
                                        "partial, data, eof, readiness flags (readable|writable|"
                                        "read_closed|write_closed|error, or none) or an error name "
                                        "({})",
                                        t.text, known_error_names()));
  }
  return true;
}

std::string duration_text(Duration d) {
  return fmt::format("{:.3f} ms", std::chrono::duration<double, std::milli>(d).count());
}

std::string script_duration(Duration d) {
  using namespace std::chrono;
  if (d % minutes(1) == Duration::zero()) return fmt::format("{}min", d / minutes(1));
  if (d % seconds(1) == Duration::zero()) return fmt::format("{}s", d / seconds(1));
  if (d % milliseconds(1) == Duration::zero()) return fmt::format("{}ms", d / milliseconds(1));
  return fmt::format("{}us", duration_cast<microseconds>(d).count());
}

std::string printable(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '"')
      out += "\\\"";
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  if (out.size() > 200) out = out.substr(0, 200) + fmt::format("... ({} bytes)", bytes.size());
  return out;
}

std::string generated_payload(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return bytes;
}

}  // namespace script
}  // namespace muxlab
