#include "conformance_fixture.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX  // std::min and std::max, not the macros
#endif
#include <windows.h>
#endif

namespace muxlab::conformance {
namespace {

struct RegisteredCase {
  const char* name;
  const char* file;
  int line;
  CaseFactory factory;
  const char* no_differential;
};

std::vector<RegisteredCase>& cases() {
  static std::vector<RegisteredCase> all;
  return all;
}

// gtest filters split on ':' and read '-' as "not": neither may appear in a suite name.
std::string differential_suite_name(std::string env) {
  std::replace(env.begin(), env.end(), '-', '_');
  return "Differential/" + env;
}

std::string suite_name(std::string env) {
  std::replace(env.begin(), env.end(), ':', '_');
  std::replace(env.begin(), env.end(), '-', '_');
  return "Conformance/" + env;
}

}  // namespace

bool register_case(const char* name, const char* file, int line, CaseFactory factory,
                   const char* no_differential) {
  cases().push_back({name, file, line, std::move(factory), no_differential});
  return true;
}

// Cases where Wine 8's Winsock differs from Windows' (docs/windows.md), when `real` runs under
// Wine: the reason, or null.
const char* wine_deviation(std::string_view case_name, const std::string& real) {
  auto env = make_environment(real);
  if (!env || !(*env)->under_wine()) return nullptr;
  if (case_name == "PeerResetIsError") return "recv after a reset returns 0, not WSAECONNRESET";
  if (case_name == "CloseWithUnreadDataResetsPeer") return "SO_ERROR reads 0 after a reset";
  if (case_name == "ConnectRefusedIsReported")
    return "a refused connect is reported at once; Windows retries the SYN for about 2 s";
  return nullptr;
}

// Runs one case on a real mechanism and on its fake personality; the normalized traces (the
// class of every call's result, the readiness set of every report) must be equal.
class DifferentialTest final : public ::testing::Test {
 public:
  DifferentialTest(const RegisteredCase& c, std::string real, std::string fake)
      : case_(c), real_(std::move(real)), fake_(std::move(fake)) {}
  void TestBody() override {
    if (case_.no_differential) GTEST_SKIP() << case_.no_differential;
    if (const char* deviation = wine_deviation(case_.name, real_))
      GTEST_SKIP() << "Wine deviates from Windows here, and fake:win32-select follows Windows: "
                   << deviation << " (the case itself asserts Wine's behaviour; docs/windows.md)";
    std::unique_ptr<ConformanceTest> on_real(case_.factory(real_));
    std::unique_ptr<ConformanceTest> on_fake(case_.factory(fake_));
    const std::string real_trace = on_real->run_for_normalized_trace();
    if (IsSkipped()) return;
    const std::string fake_trace = on_fake->run_for_normalized_trace();
    if (IsSkipped()) return;  // the case does not apply to the fake (signals, say)
    EXPECT_EQ(real_trace, fake_trace)
        << "the fake kernel disagrees with " << real_ << " (the real one wins: fix the model)";
  }

 private:
  const RegisteredCase& case_;
  std::string real_;
  std::string fake_;
};

void register_all_environments() {
  const std::vector<std::string> envs = environment_names();
  for (const std::string& env : envs) {
    for (const RegisteredCase& c : cases()) {
      ::testing::RegisterTest(suite_name(env).c_str(), c.name, nullptr, nullptr, c.file, c.line,
                              [env, &c]() -> ::testing::Test* { return c.factory(env); });
    }
  }
  for (const std::string& real : envs) {
    const std::string fake = "fake:" + real;
    if (std::find(envs.begin(), envs.end(), fake) == envs.end()) continue;
    for (const RegisteredCase& c : cases()) {
      ::testing::RegisterTest(
          differential_suite_name(real).c_str(), c.name, nullptr, nullptr, c.file, c.line,
          [real, fake, &c]() -> ::testing::Test* { return new DifferentialTest(c, real, fake); });
    }
  }
}

bool under_wine() {
#if defined(_WIN32)
  // Wine's ntdll exports wine_get_version; Windows' does not.
  static const bool wine =
      GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version") != nullptr;
  return wine;
#else
  return false;
#endif
}

int open_fd_count() {
#if defined(_WIN32)
  // The handles GetFileType knows (sockets, files, pipes, consoles): what /proc/self/fd lists on
  // POSIX. Not GetProcessHandleCount: it also counts the events, threads and registry keys that
  // Winsock and winpthreads make on first use and keep, and under Wine it always says 0. Handle
  // values are multiples of 4 below four times the most handles ever open at once: the first
  // 4096 values hold every one of these tests' handles.
  int open = 0;
  for (std::uintptr_t value = 4; value <= 4 * 4096; value += 4) {
    SetLastError(NO_ERROR);
    if (GetFileType(reinterpret_cast<HANDLE>(value)) != FILE_TYPE_UNKNOWN ||
        GetLastError() == NO_ERROR)
      ++open;
  }
  return open;
#else
  std::error_code ec;
  for (const char* dir : {"/proc/self/fd", "/dev/fd"}) {
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) continue;
    // The iterator's own descriptor is in the listing; it is open before and after alike.
    return static_cast<int>(std::distance(it, std::filesystem::directory_iterator{}));
  }
  return -1;
#endif
}

void ConformanceTest::SetUp() {
  fds_before_ = open_fd_count();
  auto env = make_environment(env_name_);
  ASSERT_TRUE(env.ok()) << env.error().message();
  env_ = make_traced_environment(std::move(env).value(), trace_);
  auto backend = env_->make_backend();
  ASSERT_TRUE(backend.ok()) << backend.error().message();
  backend_ = std::move(backend).value();
}

void ConformanceTest::TearDown() {
  for (Handle h : open_) {
    (void)backend_->remove(h);
    (void)net().close(h);
  }
  open_.clear();
  backend_.reset();
  if (HasFailure()) {
    std::cout << "trace of " << env_name_ << " (" << trace_->records().size() << " records):\n"
              << trace_->to_text();
  }
  const bool fake = env_ && env_->is_fake();
  env_.reset();
  // Real kernels only: the fake kernel's handles are not file descriptors.
  if (!fake && fds_before_ >= 0) {
    EXPECT_EQ(open_fd_count(), fds_before_) << "the test leaked file descriptors";
  }
}

std::string ConformanceTest::run_for_normalized_trace() {
  SetUp();
  if (!HasFatalFailure()) {
    try {
      TestBody();
    } catch (const CallFailed& e) {
      ADD_FAILURE() << "on " << env_name_ << ": " << e.what();
    }
  }
  TearDown();
  return trace_->normalized();
}

void ConformanceTest::close(Handle h) {
  std::erase(open_, h);
  must(net().close(h), fmt::format("close({})", h));
}

void ConformanceTest::abort(Handle h) {
  std::erase(open_, h);
  must(net().abort(h), fmt::format("abort({})", h));
}

Handle ConformanceTest::listener() {
  return track(must(net().listen(Endpoint{}, 64), "listen"));
}

Endpoint ConformanceTest::endpoint_of(Handle listener) {
  return must(net().local_endpoint(listener), "local_endpoint");
}

Endpoint ConformanceTest::closed_port() {
  const Handle l = listener();
  const Endpoint at = endpoint_of(l);
  close(l);
  return at;
}

Connection ConformanceTest::connect_pair() {
  const Handle l = listener();
  Connection c;
  c.client = track(must(net().socket(), "socket"));
  const Status started = net().connect(c.client, endpoint_of(l));
  if (!started) {
    EXPECT_EQ(started.code(), Errc::in_progress) << started.error().message();
  }
  must(backend().add(c.client, Interest::write, 1), "add client");
  EXPECT_TRUE(has(settle(c.client, Readiness::writable), Readiness::writable));
  must(backend().remove(c.client), "remove client");
  must(backend().add(l, Interest::read, 2), "add listener");
  EXPECT_EQ(settle(l, Readiness::readable), Readiness::readable);
  c.server = track(must(net().accept(l), "accept"));
  must(backend().remove(l), "remove listener");
  close(l);
  return c;
}

std::vector<Event> ConformanceTest::wait(Duration timeout) {
  std::vector<Event> events(64);
  const std::size_t n = must(backend().wait(events, timeout), "wait");
  events.resize(n);
  return events;
}

Readiness ConformanceTest::poll_once(Handle h, Duration timeout) {
  Readiness seen = Readiness::none;
  for (const Event& e : wait(timeout))
    if (e.handle == h) seen = e.readiness;
  return seen;
}

Readiness ConformanceTest::settle(Handle h, Readiness expected, Duration timeout) {
  const Time end = env().clock().now() + timeout;
  Readiness seen = Readiness::none;
  for (;;) {
    const Time now = env().clock().now();
    if (now >= end) return seen;
    const Duration slice = std::min<Duration>(end - now, std::chrono::milliseconds(50));
    for (const Event& e : wait(slice)) {
      if (e.handle != h) continue;
      seen = e.readiness;
      if (seen == expected) return seen;
    }
  }
}

void ConformanceTest::send_all(Handle h, std::string_view data) {
  const std::size_t sent = must(net().send(h, as_bytes(data)), "send");
  ASSERT_EQ(sent, data.size()) << "a small send on an idle socket was partial";
}

std::string ConformanceTest::recv_some(Handle h, std::size_t max) {
  std::string buffer(max, '\0');
  const std::size_t n =
      must(net().recv(h, {reinterpret_cast<std::byte*>(buffer.data()), buffer.size()}), "recv");
  buffer.resize(n);
  return buffer;
}

}  // namespace muxlab::conformance

#if defined(_WIN32)
namespace {
// Winsock may open handles of its own on first use and keep them (under Wine only events and a
// thread, which open_fd_count leaves out): one connection's worth of calls before the first case
// counts, so that none of them is taken for a leak.
void make_winsock_handles() {
  using namespace muxlab;
  for (const std::string& name : environment_names()) {
    auto env = make_environment(name);
    if (!env || (*env)->is_fake()) continue;
    Net& net = (*env)->net();
    auto backend = (*env)->make_backend();
    const Result<Handle> l = net.listen(Endpoint{}, 1);
    const Result<Handle> c = net.socket();
    const Result<Endpoint> at = l ? net.local_endpoint(*l) : Result<Endpoint>(l.error());
    if (backend && at && c) {
      (void)net.connect(*c, *at);
      (void)(*backend)->add(*c, Interest::write, 0);
      Event events[1];
      (void)(*backend)->wait(events, std::chrono::milliseconds(100));
      (void)(*backend)->remove(*c);
      if (const Result<Handle> a = net.accept(*l); a) (void)net.close(*a);
    }
    if (c) (void)net.close(*c);
    if (l) (void)net.close(*l);
  }
}
}  // namespace
#endif

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
#if defined(_WIN32)
  make_winsock_handles();
#endif
  muxlab::conformance::register_all_environments();
  return RUN_ALL_TESTS();
}
