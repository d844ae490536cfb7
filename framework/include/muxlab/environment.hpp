#pragma once
// An Environment is a Net, a Clock and a backend factory under one name ("epoll", "fake:poll").
// Code under test takes an Environment and never knows whether the kernel is real or simulated.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "muxlab/backend.hpp"
#include "muxlab/clock.hpp"
#include "muxlab/net.hpp"
#include "muxlab/result.hpp"

namespace muxlab {

namespace fake {
class KernelControls;  // muxlab/fake.hpp
}

class Environment {
 public:
  virtual ~Environment() = default;

  virtual std::string_view name() const = 0;  // "epoll", "fake:epoll"
  // The readiness mechanism whose behaviour it shows: "epoll" for both "epoll" and "fake:epoll".
  virtual std::string_view mechanism() const = 0;
  virtual bool is_fake() const = 0;
  // A real win32-select environment running under Wine, whose Winsock differs from Windows in
  // known ways (docs/windows.md). Scripts select it with "on wine:".
  virtual bool under_wine() const { return false; }

  // The fake kernel's configuration, faults and counts (muxlab/fake.hpp); nullptr when real.
  virtual fake::KernelControls* fake_kernel() { return nullptr; }

  virtual Net& net() = 0;
  virtual Clock& clock() = 0;
  virtual Result<std::unique_ptr<Backend>> make_backend() = 0;
};

// Every environment this build can run, real ones first. Defined by backends/registry.cpp,
// the one place that knows them all by name.
std::vector<std::string> environment_names();

// What every environment can be made with. Real kernels ignore the seed: nothing in them is ours
// to choose.
struct EnvironmentOptions {
  std::uint64_t seed = 1;  // the fake kernel's random choices (faults, jitter)
};

// not found: invalid_argument naming the environment and listing the known ones.
Result<std::unique_ptr<Environment>> make_environment(std::string_view name,
                                                      const EnvironmentOptions& options = {});

}  // namespace muxlab
