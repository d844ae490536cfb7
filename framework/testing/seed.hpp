#pragma once
// Private to the toolkit: the one place where a test's seed reaches an environment.
#include <cstdint>
#include <memory>
#include <string_view>

#include "muxlab/environment.hpp"
#include "muxlab/result.hpp"

namespace muxlab::testing {

// make_environment with the test's seed: the fake kernel's random choices follow it; real
// kernels ignore it.
Result<std::unique_ptr<Environment>> make_seeded_environment(std::string_view name,
                                                             std::uint64_t seed);

}  // namespace muxlab::testing
