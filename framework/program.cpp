#include "muxlab/program.hpp"

#include <charconv>

#include <fmt/format.h>

namespace muxlab {
namespace {

// A whole number followed by a unit from `units`; the unit may be omitted only where "" is one.
template <class Unit, std::size_t N>
bool parse_with_unit(std::string_view text, const std::pair<std::string_view, Unit> (&units)[N],
                     Unit limit, Unit& out) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || rest == text.data() || value < 0) return false;
  const std::string_view unit(rest, static_cast<std::size_t>(end - rest));
  for (const auto& [name, scale] : units) {
    if (unit == name) {
      // "9999999999999min" fits no Duration: refuse it rather than overflow (found by fuzzing).
      if (static_cast<unsigned long long>(value) > static_cast<unsigned long long>(limit / scale))
        return false;
      out = scale * value;
      return true;
    }
  }
  return false;
}

}  // namespace

bool parse_duration(std::string_view text, Duration& out) {
  using namespace std::chrono;
  static const std::pair<std::string_view, Duration> units[] = {{"s", seconds(1)},
                                                                {"ms", milliseconds(1)},
                                                                {"us", microseconds(1)},
                                                                {"ns", nanoseconds(1)},
                                                                {"min", minutes(1)}};
  if (text == "0") {
    out = Duration::zero();
    return true;
  }
  // A day is longer than any scenario; the bound also keeps clock + duration from overflowing.
  return parse_with_unit(text, units, Duration(hours(24)), out);
}

bool parse_bytes(std::string_view text, std::size_t& out) {
  static const std::pair<std::string_view, std::size_t> units[] = {
      {"", 1}, {"B", 1}, {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024 * 1024 * 1024}};
  return parse_with_unit(text, units, std::size_t{1} << 40, out);  // 1 TiB
}

const std::string* ProgramArgs::find(std::string_view key) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return nullptr;
  read_[it->first] = true;
  return &it->second;
}

std::vector<std::string> ProgramArgs::unused() const {
  std::vector<std::string> keys;
  for (const auto& [key, value] : values_)
    if (!read_.count(key)) keys.push_back(key);
  return keys;
}

Result<std::string> ProgramArgs::text(std::string_view key, std::string fallback) const {
  const std::string* v = find(key);
  return v ? *v : fallback;
}

namespace {

bool parse_integer(std::string_view text, long long& out) {
  auto [rest, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && rest == text.data() + text.size() && !text.empty();
}

}  // namespace

std::string argument_kind_error(ArgumentKind kind, std::string_view value) {
  long long n = 0;
  Duration d{};
  std::size_t size = 0;
  switch (kind) {
    case ArgumentKind::count:
      return parse_integer(value, n) ? "" : "expected a whole number";
    case ArgumentKind::duration:
      return parse_duration(value, d) ? "" : "expected a duration such as 1s, 500ms or 250us";
    case ArgumentKind::bytes:
      return parse_bytes(value, size) ? "" : "expected a size such as 4096, 64KiB or 1MiB";
    case ArgumentKind::text:
    case ArgumentKind::server:
      break;
  }
  return "";
}

Result<long long> ProgramArgs::integer(std::string_view key, long long fallback) const {
  const std::string* v = find(key);
  if (!v) return fallback;
  long long value = 0;
  if (!parse_integer(*v, value))
    return Error(Errc::invalid_argument,
                 fmt::format("{}={}: {}", key, *v, argument_kind_error(ArgumentKind::count, *v)));
  return value;
}

Result<Duration> ProgramArgs::duration(std::string_view key, Duration fallback) const {
  const std::string* v = find(key);
  if (!v) return fallback;
  Duration d{};
  if (!parse_duration(*v, d))
    return Error(
        Errc::invalid_argument,
        fmt::format("{}={}: {}", key, *v, argument_kind_error(ArgumentKind::duration, *v)));
  return std::chrono::duration_cast<Duration>(d * time_scale_);
}

Result<std::size_t> ProgramArgs::bytes(std::string_view key, std::size_t fallback) const {
  const std::string* v = find(key);
  if (!v) return fallback;
  std::size_t n = 0;
  if (!parse_bytes(*v, n))
    return Error(Errc::invalid_argument,
                 fmt::format("{}={}: {}", key, *v, argument_kind_error(ArgumentKind::bytes, *v)));
  return n;
}

const ProgramArgument* ProgramInfo::argument(std::string_view key) const {
  for (const ProgramArgument& a : arguments)
    if (a.key == key) return &a;
  return nullptr;
}

std::string ProgramInfo::arguments_text() const {
  std::string text;
  for (const ProgramArgument& a : arguments)
    text += fmt::format("{}{}={}", text.empty() ? "" : " ", a.key, a.fallback);
  return text;
}

Result<Endpoint> ProgramContext::endpoint_of(std::string_view program) const {
  auto it = endpoints.find(std::string(program));
  if (it == endpoints.end())
    return Error(Errc::invalid_argument,
                 fmt::format("no program named '{}' listens (start the server first)", program));
  return it->second;
}

const ProgramInfo* find_program(std::string_view name) {
  for (const ProgramInfo& p : builtin_programs())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace muxlab
