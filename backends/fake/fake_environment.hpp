#pragma once
// The fake:* environments for the registry, and the way from an Environment to its fake kernel.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "muxlab/backend.hpp"
#include "muxlab/environment.hpp"

#include "fake_kernel.hpp"

namespace muxlab::fake {

inline constexpr std::string_view kEnvironmentPrefix = "fake:";

// "fake:epoll", "fake:poll", "fake:select", "fake:win32-select", "fake:kqueue".
std::vector<std::string> environment_names();

// A fresh kernel seen through the named personality; nullptr when `name` is no fake environment.
std::unique_ptr<Environment> make_environment(std::string_view name, KernelConfig config = {});

// The kernel behind a fake environment (also through a traced one); nullptr for a real one.
FakeKernel* kernel_of(Environment& env);

// A backend of the kernel's personality: a ready list for epoll and kqueue, a scan for the rest.
std::unique_ptr<Backend> make_backend(std::shared_ptr<FakeKernel> kernel);
std::unique_ptr<Backend> make_ready_list_backend(std::shared_ptr<FakeKernel> kernel);
std::unique_ptr<Backend> make_scanning_backend(std::shared_ptr<FakeKernel> kernel);

}  // namespace muxlab::fake
