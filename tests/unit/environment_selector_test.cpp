// EnvironmentSelector: the words scripts and the command line name environments by.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "muxlab/environment.hpp"

namespace muxlab {
namespace {

// The names of this build's environments that `word` selects, by name.
std::vector<std::string> selected(std::string_view word) {
  const Result<EnvironmentSelector> selector = EnvironmentSelector::parse(word);
  EXPECT_TRUE(selector.ok()) << word;
  std::vector<std::string> names;
  if (!selector.ok()) return names;
  for (const std::string& name : environment_names())
    if (selector.value().matches_name(name)) names.push_back(name);
  return names;
}

TEST(EnvironmentSelector, AMechanismSelectsTheRealOneAndItsFakePersonality) {
  const std::vector<std::string> epoll = selected("epoll");
  EXPECT_NE(std::find(epoll.begin(), epoll.end(), "fake:epoll"), epoll.end());
  for (const std::string& name : epoll)
    EXPECT_TRUE(name == "epoll" || name == "fake:epoll");
  // "select" is not "win32-select".
  EXPECT_EQ(selected("fake:select"), std::vector<std::string>{"fake:select"});
  EXPECT_EQ(selected("fake:win32-select"), std::vector<std::string>{"fake:win32-select"});
}

TEST(EnvironmentSelector, FakeAndRealSplitTheBuildsEnvironments) {
  const std::vector<std::string> fake = selected("fake"), real = selected("real");
  EXPECT_EQ(fake.size() + real.size(), environment_names().size());
  for (const std::string& name : fake)
    EXPECT_TRUE(name.starts_with("fake:")) << name;
  for (const std::string& name : real)
    EXPECT_FALSE(name.starts_with("fake:")) << name;
  EXPECT_TRUE(selected("wine").empty());  // only a made environment knows it runs under Wine
}

TEST(EnvironmentSelector, EveryMechanismParsesOnEveryBuild) {
  // kqueue and win32-select have a fake personality on every build, whatever the real ones.
  for (const std::string_view word :
       {"epoll", "poll", "select", "win32-select", "kqueue", "fake:kqueue", "fake", "real", "wine"})
    EXPECT_TRUE(EnvironmentSelector::parse(word).ok()) << word;
  EXPECT_TRUE(EnvironmentSelector::parse("fake:kqueue").value().only_fakes());
  EXPECT_TRUE(EnvironmentSelector::parse("fake").value().only_fakes());
  EXPECT_FALSE(EnvironmentSelector::parse("kqueue").value().only_fakes());
}

TEST(EnvironmentSelector, AnUnknownWordListsTheKnownOnes) {
  for (const std::string_view word : {"epol", "fake:fake", "fake:real", "fake:wine", "all", ""}) {
    const Result<EnvironmentSelector> selector = EnvironmentSelector::parse(word);
    ASSERT_FALSE(selector.ok()) << word;
    EXPECT_EQ(selector.error().code, make_error_code(Errc::invalid_argument));
    EXPECT_EQ(selector.error().detail,
              "unknown environment '" + std::string(word) +
                  "' (known: epoll, poll, select, win32-select, kqueue, each also as "
                  "fake:NAME; fake; real; wine)");
  }
}

}  // namespace
}  // namespace muxlab
