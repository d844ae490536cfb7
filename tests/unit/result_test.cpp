#include <gtest/gtest.h>

#include <climits>
#include <cstdint>

#include "muxlab/format.hpp"
#include "muxlab/result.hpp"

#if !defined(_WIN32)
#include "../../backends/posix/posix.hpp"  // internal: the timeout arithmetic of every backend
#endif

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

#if !defined(_WIN32)
// What the POSIX backends give poll() and epoll_wait() for a timeout: rounded-up milliseconds,
// never more than an int holds, and -1 only for `infinite`.
TEST(WaitDeadline, FirstCallMillisecondsFitAnIntAndKeepTheirMeaning) {
  using std::chrono::milliseconds;
  const auto first_ms = [](Duration timeout) { return posix::WaitDeadline(timeout).first_ms(); };
  EXPECT_EQ(first_ms(infinite), -1);
  EXPECT_EQ(first_ms(Duration::zero()), 0);
  EXPECT_EQ(first_ms(Duration(-1)), 0) << "a negative timeout polls";
  EXPECT_EQ(first_ms(Duration::min()), 0);
  EXPECT_EQ(first_ms(Duration(500'000)), 1) << "0.5 ms rounds up, not down to a busy poll";
  EXPECT_EQ(first_ms(milliseconds(120)), 120);
  EXPECT_EQ(first_ms(milliseconds(INT_MAX)), INT_MAX);
  // Past INT_MAX ms a cast would give a negative count (block forever) or, from 2^32 ms, wrap
  // round to a short wait; the call is clamped and the backend waits again for the rest.
  EXPECT_EQ(first_ms(milliseconds(std::int64_t{INT_MAX} + 1)), INT_MAX);
  EXPECT_EQ(first_ms(milliseconds((std::int64_t{1} << 32) + 5)), INT_MAX);
  EXPECT_EQ(first_ms(Duration::max() - Duration(1)), INT_MAX) << "the rounding must not overflow";
}

TEST(WaitDeadline, OnlyAClampedCallThatTimedOutWaitsAgain) {
  using std::chrono::milliseconds;
  posix::WaitDeadline ordinary(milliseconds(10));
  (void)ordinary.first_ms();
  EXPECT_FALSE(ordinary.timed_out_early()) << "a 10 ms call that timed out is the whole wait";

  posix::WaitDeadline near_max(Duration::max() - Duration(1));
  EXPECT_EQ(near_max.first_ms(), INT_MAX);
  EXPECT_TRUE(near_max.timed_out_early()) << "292 years minus 24.8 days are left";
  // After an interruption: what is left, from a deadline that saturated instead of overflowing.
  EXPECT_EQ(near_max.remaining(), posix::WaitDeadline::kLongestCall);
  EXPECT_EQ(near_max.remaining_ms(), INT_MAX);

  posix::WaitDeadline forever(infinite);
  EXPECT_EQ(forever.first_ms(), -1);
  EXPECT_FALSE(forever.timed_out_early());
  EXPECT_EQ(forever.remaining(), infinite);
}
#endif

}  // namespace
}  // namespace muxlab
