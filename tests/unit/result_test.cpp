#include <gtest/gtest.h>

#include "muxlab/format.hpp"
#include "muxlab/result.hpp"

namespace muxlab {
namespace {

TEST(Result, CarriesValueOrError) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  EXPECT_EQ(good.code(), std::error_code{});

  Result<int> bad = Error(Errc::too_many_handles, "fd 1030 is over the limit (1024)");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), Errc::too_many_handles);
  EXPECT_EQ(bad.error().message(), "too_many_handles: fd 1030 is over the limit (1024)");
}

TEST(Result, StatusIsOkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  Status e = Errc::would_block;
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.error().message(), "would_block");
}

TEST(ErrorName, NamesEveryPortableCode) {
  EXPECT_EQ(error_name(Errc::connection_reset), "connection_reset");
  EXPECT_EQ(error_name(Errc::timed_out), "timed_out");
  EXPECT_EQ(error_name(Errc::no_resources), "no_resources");
  EXPECT_EQ(error_name({}), "ok");
  EXPECT_NE(error_name(std::error_code(5, std::generic_category())).find("generic:5"),
            std::string::npos);
}

TEST(Readiness, PrintsAndParses) {
  const Readiness r = Readiness::readable | Readiness::read_closed | Readiness::error;
  EXPECT_EQ(fmt::format("{}", r), "readable|read_closed|error");
  EXPECT_EQ(to_string(Readiness::none), "none");
  Readiness parsed = Readiness::none;
  ASSERT_TRUE(parse_readiness("readable|read_closed|error", parsed));
  EXPECT_EQ(parsed, r);
  ASSERT_TRUE(parse_readiness("none", parsed));
  EXPECT_EQ(parsed, Readiness::none);
  EXPECT_FALSE(parse_readiness("readable|hangup", parsed));
  EXPECT_FALSE(parse_readiness("", parsed));
  EXPECT_FALSE(parse_readiness("readable|", parsed));
}

TEST(Endpoint, Prints) {
  EXPECT_EQ(fmt::format("{}", Endpoint{0x7f000001, 8000}), "127.0.0.1:8000");
}

}  // namespace
}  // namespace muxlab
