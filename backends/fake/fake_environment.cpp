// The fake:* environments: each has its own fake kernel, seen through one personality, and its
// Net and Clock are that kernel.
#include "fake_environment.hpp"

#include <utility>

namespace muxlab::fake {
namespace {

class FakeEnvironment final : public Environment {
 public:
  FakeEnvironment(const Personality& personality, KernelConfig config)
      : name_(std::string(kEnvironmentPrefix) + std::string(personality.mechanism)),
        kernel_(std::make_shared<FakeKernel>(personality, std::move(config))) {}

  std::string_view name() const override { return name_; }
  std::string_view mechanism() const override { return kernel_->personality().mechanism; }
  bool is_fake() const override { return true; }
  KernelControls* fake_kernel() override { return kernel_.get(); }
  Net& net() override { return *kernel_; }
  Clock& clock() override { return *kernel_; }
  Result<std::unique_ptr<Backend>> make_backend() override { return fake::make_backend(kernel_); }

 private:
  std::string name_;
  std::shared_ptr<FakeKernel> kernel_;  // shared with the backends, which may outlive us
};

}  // namespace

std::vector<std::string> environment_names() {
  std::vector<std::string> names;
  for (const Personality& p : personalities())
    names.push_back(std::string(kEnvironmentPrefix) + std::string(p.mechanism));
  return names;
}

std::unique_ptr<Environment> make_environment(std::string_view name, KernelConfig config) {
  if (!name.starts_with(kEnvironmentPrefix)) return nullptr;
  const Personality* personality = find_personality(name.substr(kEnvironmentPrefix.size()));
  if (personality == nullptr) return nullptr;
  return std::make_unique<FakeEnvironment>(*personality, std::move(config));
}

FakeKernel* kernel_of(Environment& env) {
  return dynamic_cast<FakeKernel*>(env.fake_kernel());
}

std::unique_ptr<Backend> make_backend(std::shared_ptr<FakeKernel> kernel) {
  if (kernel->personality().keeps_ready_list) return make_ready_list_backend(std::move(kernel));
  return make_scanning_backend(std::move(kernel));
}

}  // namespace muxlab::fake
