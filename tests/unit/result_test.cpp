#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <map>
#include <string>

#include "muxlab/format.hpp"
#include "muxlab/result.hpp"

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <winsock2.h>

#include "../../backends/win32/win32.hpp"  // internal: Winsock's errors onto Errc
#else
#include <cerrno>

#include "../../backends/posix/posix.hpp"  // internal: errno onto Errc, the timeout arithmetic
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

TEST(ErrorName, NamesTheCodesAddedLater) {
  EXPECT_EQ(error_name(Errc::not_permitted), "not_permitted");
  EXPECT_EQ(error_name(Errc::connection_aborted), "connection_aborted");
  EXPECT_EQ(error_name(Errc::unreachable), "unreachable");
  EXPECT_EQ(error_name(Errc::address_not_available), "address_not_available");
  EXPECT_EQ(error_name(Errc::other), "other");
  EXPECT_EQ(static_cast<int>(Errc::no_resources), 18) << "codes are appended, never renumbered";
  EXPECT_EQ(static_cast<int>(Errc::other), 23);
}

// The native errors the backends and Net can return (errno_error.cpp, winsock_error.cpp), each
// with its portable code. Every other native value must come out as Errc::other: the sweep
// below finds a mapping added in one place and not stated here, or one that went missing.
#if defined(_WIN32)
const std::map<int, Errc> kMapped = {
    {WSAEWOULDBLOCK, Errc::would_block},
    {WSAEALREADY, Errc::already_in_progress},
    {WSAEINPROGRESS, Errc::already_in_progress},
    {WSAEISCONN, Errc::already_connected},
    {WSAENOTCONN, Errc::not_connected},
    {WSAEDESTADDRREQ, Errc::not_connected},
    {WSAECONNREFUSED, Errc::connection_refused},
    {WSAECONNRESET, Errc::connection_reset},
    {WSAENETRESET, Errc::connection_reset},
    {WSAESHUTDOWN, Errc::shut_down},
    {WSAEADDRINUSE, Errc::address_in_use},
    {WSAENOTSOCK, Errc::bad_handle},
    {WSAEBADF, Errc::bad_handle},
    {WSA_INVALID_HANDLE, Errc::bad_handle},
    {WSAEMFILE, Errc::too_many_handles},
    {WSAEOPNOTSUPP, Errc::unsupported},
    {WSAEAFNOSUPPORT, Errc::unsupported},
    {WSAEPROTONOSUPPORT, Errc::unsupported},
    {WSAESOCKTNOSUPPORT, Errc::unsupported},
    {WSAEPFNOSUPPORT, Errc::unsupported},
    {WSAEPROTOTYPE, Errc::unsupported},
    {WSAENOPROTOOPT, Errc::unsupported},
    {WSAVERNOTSUPPORTED, Errc::unsupported},
    {WSAEINVAL, Errc::invalid_argument},
    {WSAEFAULT, Errc::invalid_argument},
    {WSAEMSGSIZE, Errc::invalid_argument},
    {WSA_INVALID_PARAMETER, Errc::invalid_argument},
    {WSANOTINITIALISED, Errc::invalid_argument},
    {WSAETIMEDOUT, Errc::timed_out},
    {WSAENOBUFS, Errc::no_resources},
    {WSA_NOT_ENOUGH_MEMORY, Errc::no_resources},
    {WSAEPROCLIM, Errc::no_resources},
    {WSAEACCES, Errc::not_permitted},
    {WSAECONNABORTED, Errc::connection_aborted},
    {WSAENETUNREACH, Errc::unreachable},
    {WSAEHOSTUNREACH, Errc::unreachable},
    {WSAENETDOWN, Errc::unreachable},
    {WSAEHOSTDOWN, Errc::unreachable},
    {WSASYSNOTREADY, Errc::unreachable},
    {WSAEADDRNOTAVAIL, Errc::address_not_available},
};
constexpr int kUnmapped = WSAEINTR;
constexpr int kSweepEnd = 12000;  // past every WSA code (10004-11031)
std::error_code native_to_portable(int err) {
  return win32::error_from_wsa(err);
}
Error native_error(int err, std::string what) {
  return win32::wsa_error(err, std::move(what));
}
std::string native_text(int err) {
  return fmt::format("Winsock error {} ({})", err, std::system_category().message(err));
}
#else
const std::map<int, Errc> kMapped = {
    {EAGAIN, Errc::would_block},
    {EWOULDBLOCK, Errc::would_block},
    {EINPROGRESS, Errc::in_progress},
    {EALREADY, Errc::already_in_progress},
    {EISCONN, Errc::already_connected},
    {ENOTCONN, Errc::not_connected},
    {EDESTADDRREQ, Errc::not_connected},
    {ECONNREFUSED, Errc::connection_refused},
    {ECONNRESET, Errc::connection_reset},
    {ENETRESET, Errc::connection_reset},
    {EPIPE, Errc::broken_pipe},
    {ESHUTDOWN, Errc::shut_down},
    {EADDRINUSE, Errc::address_in_use},
    {EBADF, Errc::bad_handle},
    {ENOTSOCK, Errc::bad_handle},
    {EMFILE, Errc::too_many_handles},
    {ENFILE, Errc::too_many_handles},
    {ENOSPC, Errc::too_many_handles},
    {EEXIST, Errc::already_registered},
    {ENOENT, Errc::not_registered},
    {EOPNOTSUPP, Errc::unsupported},
    {ENOTSUP, Errc::unsupported},
    {EAFNOSUPPORT, Errc::unsupported},
    {EPROTONOSUPPORT, Errc::unsupported},
    {ESOCKTNOSUPPORT, Errc::unsupported},
    {EPFNOSUPPORT, Errc::unsupported},
    {EPROTOTYPE, Errc::unsupported},
    {ENOPROTOOPT, Errc::unsupported},
    {EINVAL, Errc::invalid_argument},
    {EFAULT, Errc::invalid_argument},
    {ELOOP, Errc::invalid_argument},
    {EMSGSIZE, Errc::invalid_argument},
    {ETIMEDOUT, Errc::timed_out},
    {ENOBUFS, Errc::no_resources},
    {ENOMEM, Errc::no_resources},
    {EPERM, Errc::not_permitted},
    {EACCES, Errc::not_permitted},
    {ECONNABORTED, Errc::connection_aborted},
    {EPROTO, Errc::connection_aborted},
    {ENETUNREACH, Errc::unreachable},
    {EHOSTUNREACH, Errc::unreachable},
    {ENETDOWN, Errc::unreachable},
    {EHOSTDOWN, Errc::unreachable},
#if defined(ENONET)
    {ENONET, Errc::unreachable},
#endif
    {EADDRNOTAVAIL, Errc::address_not_available},
};
constexpr int kUnmapped = EIO;
constexpr int kSweepEnd = 256;  // past every errno of Linux (133), macOS (106), the BSDs (~97)
std::error_code native_to_portable(int err) {
  return posix::error_from_errno(err);
}
Error native_error(int err, std::string what) {
  return posix::errno_error(err, std::move(what));
}
std::string native_text(int err) {
  return fmt::format("errno {} ({})", err, std::generic_category().message(err));
}
#endif

TEST(NativeErrors, EveryMappedOneHasItsPortableCode) {
  for (const auto& [err, portable] : kMapped) {
    const std::error_code code = native_to_portable(err);
    EXPECT_EQ(&code.category(), &muxlab_category()) << "native " << err;
    EXPECT_EQ(code, portable) << "native " << err << " gave " << error_name(code);
    const Error e = native_error(err, "close fd 7");
    EXPECT_EQ(e.detail, "close fd 7") << "a mapped error needs no native text";
  }
}

TEST(NativeErrors, EveryOtherOneIsOtherWithItsNumberAndText) {
  for (int err = 1; err < kSweepEnd; ++err) {
    if (kMapped.contains(err)) continue;
    const std::error_code code = native_to_portable(err);
    EXPECT_EQ(code, Errc::other) << "native " << err << " (" << native_text(err)
                                 << ") is mapped to " << error_name(code)
                                 << ": state it in kMapped";
  }
  const Error e = native_error(kUnmapped, "close fd 7");
  EXPECT_EQ(e.code, Errc::other);
  EXPECT_EQ(&e.code.category(), &muxlab_category());
  EXPECT_EQ(e.detail, "close fd 7: " + native_text(kUnmapped));
  EXPECT_EQ(e.message(), "other: close fd 7: " + native_text(kUnmapped));
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
