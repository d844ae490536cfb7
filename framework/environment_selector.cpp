// EnvironmentSelector: the words that name environments, read in one place
// (muxlab/environment.hpp).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "muxlab/environment.hpp"

namespace muxlab {
namespace {

constexpr std::string_view kFakePrefix = "fake:";

// The mechanisms, in environment_names()'s order: one per fake personality. The list is the
// build's, fixed: read once, as the runner matches a selector at every step with alternatives.
const std::vector<std::string>& mechanisms() {
  static const std::vector<std::string> known = [] {
    std::vector<std::string> out;
    for (const std::string& name : environment_names())
      if (name.starts_with(kFakePrefix)) out.push_back(name.substr(kFakePrefix.size()));
    return out;
  }();
  return known;
}

}  // namespace

Result<EnvironmentSelector> EnvironmentSelector::parse(std::string_view word) {
  if (word == "fake") return EnvironmentSelector(Kind::fake, {});
  if (word == "real") return EnvironmentSelector(Kind::real, {});
  if (word == "wine") return EnvironmentSelector(Kind::wine, {});
  const bool fake = word.starts_with(kFakePrefix);
  const std::string_view mechanism = fake ? word.substr(kFakePrefix.size()) : word;
  const std::vector<std::string>& known = mechanisms();
  for (const std::string& m : known)
    if (m == mechanism)
      return EnvironmentSelector(fake ? Kind::fake_mechanism : Kind::mechanism, m);
  return Error(Errc::invalid_argument,
               fmt::format("unknown environment '{}' (known: {}, each also as fake:NAME; fake; "
                           "real; wine)",
                           word, fmt::join(known, ", ")));
}

bool EnvironmentSelector::matches(const Environment& env) const {
  if (kind_ == Kind::wine) return env.under_wine();
  return matches_name(env.name());
}

bool EnvironmentSelector::matches_name(std::string_view environment_name) const {
  const bool fake = environment_name.starts_with(kFakePrefix);
  const std::string_view mechanism =
      fake ? environment_name.substr(kFakePrefix.size()) : environment_name;
  switch (kind_) {
    case Kind::mechanism:
      return mechanism == mechanism_;
    case Kind::fake_mechanism:
      return fake && mechanism == mechanism_;
    case Kind::fake:
      return fake;
    case Kind::real:
      return !fake;
    case Kind::wine:
      return false;
  }
  return false;
}

}  // namespace muxlab
