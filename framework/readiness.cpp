#include "muxlab/readiness.hpp"

#include <array>
#include <utility>

namespace muxlab {
namespace {

constexpr std::array<std::pair<Readiness, std::string_view>, 5> kReadinessNames = {{
    {Readiness::readable, "readable"},
    {Readiness::writable, "writable"},
    {Readiness::read_closed, "read_closed"},
    {Readiness::write_closed, "write_closed"},
    {Readiness::error, "error"},
}};

template <class Flags, std::size_t N>
std::string join(Flags set, const std::array<std::pair<Flags, std::string_view>, N>& names,
                 std::string_view empty) {
  std::string text;
  for (const auto& [flag, name] : names) {
    if (!has(set, flag)) continue;
    if (!text.empty()) text += '|';
    text += name;
  }
  return text.empty() ? std::string(empty) : text;
}

}  // namespace

std::string to_string(Readiness r) {
  return join(r, kReadinessNames, "none");
}

std::string to_string(Interest i) {
  constexpr std::array<std::pair<Interest, std::string_view>, 2> names = {{
      {Interest::read, "read"},
      {Interest::write, "write"},
  }};
  return join(i, names, "none");
}

std::string to_string(Trigger t) {
  constexpr std::array<std::pair<Trigger, std::string_view>, 2> names = {{
      {Trigger::edge, "edge"},
      {Trigger::oneshot, "oneshot"},
  }};
  return join(t, names, "level");
}

bool parse_readiness(std::string_view text, Readiness& out) {
  Readiness result = Readiness::none;
  if (text.empty()) return false;
  if (text == "none") {
    out = result;
    return true;
  }
  for (;;) {
    const auto bar = text.find('|');
    const std::string_view word = text.substr(0, bar);
    bool known = false;
    for (const auto& [flag, name] : kReadinessNames) {
      if (word == name) {
        result |= flag;
        known = true;
      }
    }
    if (!known) return false;  // also an empty word: "readable|" or "|writable"
    if (bar == std::string_view::npos) break;
    text = text.substr(bar + 1);
  }
  out = result;
  return true;
}

}  // namespace muxlab
