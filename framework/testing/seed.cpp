// The seed a test runs with (MUXLAB_SEED), and the one place where it reaches the fake kernel.
#include <charconv>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "muxlab/testing/environment_test.hpp"
#include "seed.hpp"

namespace muxlab::testing {

SeedSetting seed_setting() {
  SeedSetting setting;
  const char* text = std::getenv("MUXLAB_SEED");
  if (text == nullptr || *text == '\0') return setting;
  setting.from_environment = true;
  const std::string_view digits(text);
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), setting.value);
  if (error != std::errc{} || end != digits.data() + digits.size()) {
    setting.value = 1;
    setting.problem = fmt::format("MUXLAB_SEED={} is not a whole number", digits);
  }
  return setting;
}

bool determinism_check_requested() {
  const char* text = std::getenv("MUXLAB_CHECK_DETERMINISM");
  return text != nullptr && *text != '\0' && std::string_view(text) != "0";
}

Result<std::unique_ptr<Environment>> make_seeded_environment(std::string_view name,
                                                             std::uint64_t seed) {
  // Every fixture environment, including check_determinism's second run, is made here.
  // (ScenarioPasses hands the seed to run_scenario, which makes its own environment with it.)
  EnvironmentOptions options;
  options.seed = seed;
  return make_environment(name, options);
}

}  // namespace muxlab::testing
