#pragma once
// An Environment is a Net, a Clock and a backend factory under one name ("epoll", "fake:poll").
// Code under test takes an Environment and never knows whether the kernel is real or simulated.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
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

// A word that names environments, as scripts write it (`on epoll:`, `only on fake`, `skip on
// wine`) and as `muxlab run --env fake|real` takes it: the one place that vocabulary is read.
//   a mechanism ("epoll")  the real one and its fake personality (fake:epoll)
//   fake:MECHANISM         only the fake personality
//   fake, real             every fake environment, every real one
//   wine                   a real environment under Wine (the Windows build)
// The mechanisms are those the fake kernel has a personality for, so a script that names one
// parses on every build, whichever real environments the build has.
class EnvironmentSelector {
 public:
  // invalid_argument, listing the known words, when `word` is none of them.
  static Result<EnvironmentSelector> parse(std::string_view word);

  bool matches(const Environment& env) const;
  // By name, before any environment is made; never true for "wine", which only a made
  // environment knows.
  bool matches_name(std::string_view environment_name) const;
  // Every environment it can select is a fake one.
  bool only_fakes() const { return kind_ == Kind::fake || kind_ == Kind::fake_mechanism; }

 private:
  enum class Kind : std::uint8_t { mechanism, fake_mechanism, fake, real, wine };
  EnvironmentSelector(Kind kind, std::string mechanism)
      : kind_(kind), mechanism_(std::move(mechanism)) {}
  Kind kind_;
  std::string mechanism_;  // for mechanism and fake_mechanism
};

}  // namespace muxlab
