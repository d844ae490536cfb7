// The one place that knows every environment by name. Real ones first, then the fake kernel's
// personalities; each platform contributes what its build has.
#include <algorithm>

#include <fmt/format.h>

#include "muxlab/environment.hpp"

#if defined(_WIN32)
#include "win32/win32.hpp"
#else
#include "posix/posix.hpp"
#endif

#include "fake/fake_environment.hpp"

namespace muxlab {
namespace {

using BackendFactory = Result<std::unique_ptr<Backend>> (*)();

struct RealEnvironmentSpec {
  std::string_view name;
  BackendFactory make_backend;
};

constexpr RealEnvironmentSpec kRealEnvironments[] = {
#if defined(__linux__)
    {"epoll", posix::make_epoll_backend},
#endif
#if !defined(_WIN32)
    {"poll", posix::make_poll_backend},           {"select", posix::make_select_backend},
#endif
#if defined(_WIN32)
    {"win32-select", win32::make_select_backend},
#endif
#if defined(MUXLAB_HAVE_KQUEUE)
    {"kqueue", posix::make_kqueue_backend},
#endif
};

// A real kernel: the platform's sockets, the steady clock, one readiness mechanism.
class RealEnvironment final : public Environment {
 public:
  RealEnvironment(const RealEnvironmentSpec& spec, std::unique_ptr<Net> net)
      : spec_(spec), net_(std::move(net)) {}

  std::string_view name() const override { return spec_.name; }
  std::string_view mechanism() const override { return spec_.name; }
  bool is_fake() const override { return false; }
#if defined(_WIN32)
  bool under_wine() const override {
    return win32::running_under_wine();
  }
#endif
  Net& net() override {
    return *net_;
  }
  Clock& clock() override {
    return clock_;
  }
  Result<std::unique_ptr<Backend>> make_backend() override {
    return spec_.make_backend();
  }

 private:
  const RealEnvironmentSpec& spec_;
  std::unique_ptr<Net> net_;
  SteadyClock clock_;
};

std::unique_ptr<Net> make_platform_net() {
#if defined(_WIN32)
  return win32::make_winsock_net();
#else
  return posix::make_socket_net();
#endif
}

}  // namespace

std::vector<std::string> environment_names() {
  std::vector<std::string> names;
  for (const auto& spec : kRealEnvironments)
    names.emplace_back(spec.name);
  for (auto& fake_name : fake::environment_names())
    names.push_back(std::move(fake_name));
  return names;
}

Result<std::unique_ptr<Environment>> make_environment(std::string_view name,
                                                      const EnvironmentOptions& options) {
  for (const auto& spec : kRealEnvironments) {
    if (spec.name == name)
      return std::unique_ptr<Environment>(
          std::make_unique<RealEnvironment>(spec, make_platform_net()));
  }
  fake::KernelConfig config;
  config.seed = options.seed;
  if (auto fake_environment = fake::make_environment(name, config))
    return std::unique_ptr<Environment>(std::move(fake_environment));
  return Error(Errc::invalid_argument,
               fmt::format("no environment named '{}' in this build (it has: {})", name,
                           fmt::join(environment_names(), ", ")));
}

}  // namespace muxlab
