// The fake:* environments as the registry offers them.
#include <gtest/gtest.h>

#include <algorithm>

#include "kernel_fixture.hpp"
#include "muxlab/environment.hpp"

namespace muxlab::fake {
namespace {

TEST(Environments, TheFakeOnesComeAfterTheRealOnes) {
  const std::vector<std::string> names = muxlab::environment_names();
  const std::vector<std::string> fakes = {"fake:epoll", "fake:poll", "fake:select",
                                          "fake:win32-select", "fake:kqueue"};
  ASSERT_GE(names.size(), fakes.size());
  EXPECT_TRUE(
      std::equal(fakes.begin(), fakes.end(), names.end() - static_cast<long>(fakes.size())));
  for (std::size_t i = 0; i + fakes.size() < names.size(); ++i)
    EXPECT_FALSE(names[i].starts_with("fake:")) << names[i];
}

TEST(Environments, EachIsFakeAndNamesItsMechanism) {
  for (const std::string& name : environment_names()) {
    SCOPED_TRACE(name);
    Result<std::unique_ptr<Environment>> env = muxlab::make_environment(name);
    ASSERT_TRUE(env.ok()) << env.error().message();
    EXPECT_EQ((*env)->name(), name);
    EXPECT_TRUE((*env)->is_fake());
    EXPECT_EQ((*env)->mechanism(), name.substr(5));
    FakeKernel* kernel = kernel_of(**env);
    ASSERT_NE(kernel, nullptr);
    EXPECT_EQ(&(*env)->net(), static_cast<Net*>(kernel));
    EXPECT_EQ((*env)->clock().now(), kernel->now());
    Result<std::unique_ptr<Backend>> backend = (*env)->make_backend();
    ASSERT_TRUE(backend.ok());
    EXPECT_EQ((*backend)->capabilities().mechanism, (*env)->mechanism());
  }
}

TEST(Environments, UnknownFakeNamesAreRefused) {
  EXPECT_EQ(make_environment("fake:iocp"), nullptr);
  EXPECT_EQ(make_environment("epoll"), nullptr) << "not a fake name";
  const auto env = muxlab::make_environment("fake:iocp");
  EXPECT_EQ(env.code(), Errc::invalid_argument);
}

TEST(Environments, RealEnvironmentsHaveNoFakeKernel) {
  for (const std::string& name : muxlab::environment_names()) {
    if (name.starts_with("fake:")) continue;
    auto env = muxlab::make_environment(name);
    ASSERT_TRUE(env.ok());
    EXPECT_EQ(kernel_of(**env), nullptr) << name;
  }
}

TEST(Environments, BackendsMayOutliveTheirEnvironment) {
  auto env = make_environment("fake:epoll");
  ASSERT_NE(env, nullptr);
  Net& net = env->net();
  const Handle s = ok(net.socket());
  auto backend = env->make_backend();
  ASSERT_TRUE(backend.ok());
  ok((*backend)->add(s, Interest::write, 1));
  env.reset();
  std::vector<Event> events(2);
  EXPECT_TRUE((*backend)->wait(events, Duration::zero()).ok());
}

}  // namespace
}  // namespace muxlab::fake
