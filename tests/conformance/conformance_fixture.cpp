#include "conformance_fixture.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX  // std::min and std::max, not the macros
#endif
#include <windows.h>
#else
#include <sys/utsname.h>
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

// --- facts (docs/backend-differences.md) -----------------------------------------------------
// The file is written once, after the run: a line per environment that ran and a line per fact,
// tab-separated (tests/conformance/backend_differences.cpp reads it):
//   muxlab-facts 1
//   run     <the platform: "Linux 6.18", "Windows build under Wine 8.0">
//   column  <environment that ran>
//   fact    <column> <topic number> <topic> <file> <line> <case> <fact> <value> <held 1|0>
//   <expected>
namespace {

struct FactsOut {
  std::string path;  // empty: not recording
  std::set<std::string> columns;
  std::vector<std::string> lines;
};

FactsOut& facts_out() {
  static FactsOut out;
  return out;
}

std::string_view topic_title(Topic t) {
  switch (t) {
    case Topic::connecting:
      return "Connecting";
    case Topic::closing:
      return "The peer closes: FIN, shutdown, reset";
    case Topic::sending:
      return "A full send buffer";
    case Topic::registration:
      return "Registration, trigger modes, handles closed underneath";
    case Topic::limits:
      return "Handle limits";
    case Topic::waiting:
      return "Waiting";
    case Topic::amounts:
      return "Amounts an event carries besides readiness (kqueue's data)";
  }
  return "?";
}

// One field of a line: no tab or line break inside.
std::string field(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
  return out;
}

std::string run_label() {
#if defined(_WIN32)
  if (under_wine()) {
    using WineVersion = const char* (*)();
    const auto version = reinterpret_cast<WineVersion>(
        reinterpret_cast<void*>(GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version")));
    return std::string("Windows build under Wine ") + (version ? version() : "?");
  }
  return "Windows";
#else
  utsname u{};
  if (uname(&u) != 0) return "POSIX";
  // The release's first two numbers: "6.18" of "6.18.0-1-amd64".
  std::string release = u.release;
  const std::size_t first = release.find('.');
  const std::size_t second =
      first == std::string::npos ? first : release.find_first_of(".-+", first + 1);
  if (second != std::string::npos) release.resize(second);
  return std::string(u.sysname) + " " + release;
#endif
}

// The file of this run's facts, from MUXLAB_FACTS_OUT; a file left by an earlier run is removed
// first, so that a run that dies leaves no facts rather than stale ones.
void start_recording_facts() {
  const char* path = std::getenv("MUXLAB_FACTS_OUT");
  if (!path || !*path) return;
  facts_out().path = path;
  std::error_code ignored;
  std::filesystem::remove(facts_out().path, ignored);
}

bool write_facts() {
  const FactsOut& out = facts_out();
  if (out.path.empty()) return true;
  std::ofstream file(out.path, std::ios::binary | std::ios::trunc);
  file << "muxlab-facts\t1\nrun\t" << field(run_label()) << "\n";
  // In the registry's order (real ones first): the document's columns follow it.
  for (const std::string& name : environment_names())
    for (const std::string& column : {name, name + " on Wine"})
      if (out.columns.contains(column)) file << "column\t" << column << "\n";
  for (const std::string& line : out.lines)
    file << line << "\n";
  file.close();
  if (!file) {
    std::cerr << "conformance_tests: cannot write the facts to " << out.path << "\n";
    return false;
  }
  std::cout << "conformance_tests: " << out.lines.size() << " facts of " << out.columns.size()
            << " environments written to " << out.path << "\n";
  return true;
}

}  // namespace

bool recording_facts() {
  return !facts_out().path.empty();
}

std::string fact_text(Readiness r) {
  if (r == Readiness::none) return "nothing";
  std::string text = to_string(r);
  for (std::size_t at = text.find('|'); at != std::string::npos; at = text.find('|', at))
    text.replace(at, 1, ", ");
  return text;
}

std::string fact_text(std::error_code code) {
  return code ? error_name(code) : "no error";
}

std::string fact_text(const Status& s) {
  return s.ok() ? "ok" : error_name(s.code());
}

std::string fact_text(const Result<std::size_t>& r) {
  if (!r.ok()) return error_name(r.code());
  return *r == 0 ? "returns 0 (end of stream)" : fmt::format("returns {}", *r);
}

std::string ConformanceTest::fact_column() const {
  return on_wine() ? env_name_ + " on Wine" : env_name_;
}

void ConformanceTest::record_fact(Topic topic, std::string_view fact, const std::string& observed,
                                  bool held, const std::string& expected,
                                  const std::source_location& where) {
  const std::string_view file = where.file_name();
  const std::size_t slash = file.find_last_of("/\\");
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  facts_out().lines.push_back(fmt::format(
      "fact\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}", field(fact_column()), static_cast<int>(topic),
      topic_title(topic), field(slash == std::string_view::npos ? file : file.substr(slash + 1)),
      where.line(), field(test ? test->name() : "?"), field(fact), field(observed), held ? 1 : 0,
      field(expected)));
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
  if (recording_facts()) facts_out().columns.insert(fact_column());
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
  const std::optional<Event> seen = event_until(
      h, [&](const Event& e) { return e.readiness == expected; }, timeout);
  return seen ? seen->readiness : Readiness::none;
}

std::optional<Event> ConformanceTest::event_until(Handle h,
                                                  const std::function<bool(const Event&)>& good,
                                                  Duration timeout) {
  const Time end = env().clock().now() + timeout;
  std::optional<Event> seen;
  for (;;) {
    const Time now = env().clock().now();
    if (now >= end) return seen;
    const Duration slice = std::min<Duration>(end - now, std::chrono::milliseconds(50));
    for (const Event& e : wait(slice)) {
      if (e.handle != h) continue;
      seen = e;
      if (good(e)) return seen;
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
  muxlab::conformance::start_recording_facts();
  muxlab::conformance::register_all_environments();
  const int result = RUN_ALL_TESTS();
  return muxlab::conformance::write_facts() ? result : 1;
}
