#pragma once
// The conformance suite: readiness facts stated once and run on every environment this build
// has, real and fake. A case is written with CONFORMANCE_TEST(Name) and registered as
// Conformance/<env>.<Name> for each environment (":" becomes "_", gtest filters split on ":").
//
// Where mechanisms legitimately differ, a case says so with per_mechanism({...}): every
// mechanism is named, so a new one cannot slip through with a relaxed expectation.
#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "muxlab/environment.hpp"
#include "muxlab/format.hpp"
#include "muxlab/trace.hpp"

namespace muxlab::conformance {

// True when this Windows build runs under Wine, whose sockets differ from Windows' in a few
// documented ways (docs/windows.md); a case states both behaviours. Always false elsewhere.
bool under_wine();

// Facts: named observations that a case checks, written out (with MUXLAB_FACTS_OUT=path) for
// docs/backend-differences.md, which tests/conformance/backend_differences.cpp generates from
// them and the docs/backend-differences test checks against them. A fact is recorded where the
// case asserts it (ConformanceTest::expect_fact), so the document says what the suite checked.

// The document's tables, in its order.
enum class Topic { connecting, closing, sending, registration, limits, waiting, amounts };

// How a value reads in the document.
std::string fact_text(Readiness r);           // "readable, writable", or "nothing"
std::string fact_text(std::error_code code);  // the Errc name, or "no error"
inline std::string fact_text(Errc e) {
  return fact_text(make_error_code(e));
}
inline std::string fact_text(const std::string& text) {
  return text;
}
// What a call returned: "ok", "returns 0 (end of stream)", "returns 12", or the error's name.
std::string fact_text(const Status& s);
std::string fact_text(const Result<std::size_t>& r);

// True when this run writes its facts to a file (MUXLAB_FACTS_OUT set); recording is skipped
// otherwise.
bool recording_facts();

// A client and its accepted server side.
struct Connection {
  Handle client = invalid_handle;
  Handle server = invalid_handle;
};

class ConformanceTest : public ::testing::Test {
 public:
  explicit ConformanceTest(std::string env_name) : env_name_(std::move(env_name)) {}

  void TestBody() override = 0;
  // Runs the whole case (set-up, body, tear-down) inside another test and returns its
  // normalized trace: the differential test runs a case on X and on fake:X this way.
  std::string run_for_normalized_trace();

 protected:
  void SetUp() override;
  void TearDown() override;

  Environment& env() { return *env_; }
  Net& net() { return env_->net(); }
  Backend& backend() { return *backend_; }
  std::string_view mechanism() const { return env_->mechanism(); }
  // Wine's own sockets: a real environment of a Windows build running under Wine.
  bool on_wine() const { return !env_->is_fake() && under_wine(); }

  // Every handle a test opens goes through these, so TearDown closes what the test did not.
  Handle track(Handle h) {
    open_.push_back(h);
    return h;
  }
  void close(Handle h);
  void abort(Handle h);

  Handle listener();
  Endpoint endpoint_of(Handle listener);
  // connect, wait for writable, accept: both sides registered with nothing.
  Connection connect_pair();
  // An Endpoint where nothing listens (a port that was just freed).
  Endpoint closed_port();

  // Waits until `h` reports exactly `expected` (transient states on the way are allowed), and
  // returns the last readiness seen for it (none if it never showed up) so a mismatch prints it.
  Readiness settle(Handle h, Readiness expected, Duration timeout = std::chrono::seconds(2));
  // Waits until an event for `h` satisfies `good` and returns it; otherwise the last event seen
  // for `h` (so a mismatch prints it), or nullopt when `h` was never reported.
  std::optional<Event> event_until(Handle h, const std::function<bool(const Event&)>& good,
                                   Duration timeout = std::chrono::seconds(2));
  // One wait; the readiness reported for h, or none.
  Readiness poll_once(Handle h, Duration timeout = Duration::zero());
  std::vector<Event> wait(Duration timeout);

  void send_all(Handle h, std::string_view data);
  std::string recv_some(Handle h, std::size_t max = 65536);

  // The value for this environment's mechanism; fails the test if the mechanism is not listed.
  template <class T>
  T per_mechanism(std::initializer_list<std::pair<std::string_view, T>> table) {
    for (const auto& [name, value] : table)
      if (name == mechanism()) return value;
    ADD_FAILURE() << "no expectation stated for mechanism " << mechanism();
    return T{};
  }

  // Checks a fact like EXPECT_EQ(observed, expected), and records what was observed as this
  // environment's cell in the row `fact` of `topic`'s table in docs/backend-differences.md.
  // Returns whether it held. A fact's name is unique within its topic: the same name on the same
  // environment must always give the same value.
  template <class T>
  bool expect_fact(Topic topic, std::string_view fact, const T& observed, const T& expected,
                   std::source_location where = std::source_location::current()) {
    const bool held = observed == expected;
    if (!held) {
      ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line()))
          << fact << "\n  expected: " << fact_text(expected)
          << "\n  actual:   " << fact_text(observed);
    }
    if (recording_facts())
      record_fact(topic, fact, fact_text(observed), held, fact_text(expected), where);
    return held;
  }

  // The document's column for this environment: its name, with " on Wine" for Wine's sockets.
  std::string fact_column() const;

 private:
  void record_fact(Topic topic, std::string_view fact, const std::string& observed, bool held,
                   const std::string& expected, const std::source_location& where);

  std::string env_name_;
  std::unique_ptr<Environment> env_;
  std::unique_ptr<Backend> backend_;
  // In the order they were opened, so tear-down's calls do not depend on handle values (the
  // differential test compares them between kernels that number sockets differently).
  std::vector<Handle> open_;
  std::shared_ptr<Trace> trace_ = std::make_shared<Trace>();
  int fds_before_ = -1;
};

using CaseFactory = std::function<ConformanceTest*(std::string env)>;
// `no_differential` (when not null) says why this case's real and fake traces cannot be compared
// line by line; its Differential test is then skipped with that reason.
bool register_case(const char* name, const char* file, int line, CaseFactory factory,
                   const char* no_differential = nullptr);

// Registers every case for every environment, and a Differential/<mechanism>.<Case> for each
// mechanism the build has both really and as a fake; call after InitGoogleTest.
void register_all_environments();

// Open file descriptors of this process (-1 where the platform cannot tell); on Windows, the
// process's open handles.
int open_fd_count();

// The value of a call that must succeed; otherwise the test stops with the call and its error.
struct CallFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};
template <class T>
T must(Result<T> r, std::string_view call) {
  if (!r) throw CallFailed(fmt::format("{} failed: {}", call, r.error()));
  return std::move(r).value();
}
inline void must(Status s, std::string_view call) {
  if (!s) throw CallFailed(fmt::format("{} failed: {}", call, s.error()));
}

}  // namespace muxlab::conformance

#define MUXLAB_CONFORMANCE_CASE(Name, no_differential)                                         \
  class Name##Case final : public ::muxlab::conformance::ConformanceTest {                     \
   public:                                                                                     \
    using ConformanceTest::ConformanceTest;                                                    \
    void TestBody() override;                                                                  \
  };                                                                                           \
  [[maybe_unused]] static const bool Name##_registered = ::muxlab::conformance::register_case( \
      #Name, __FILE__, __LINE__,                                                               \
      [](std::string e) -> ::muxlab::conformance::ConformanceTest* {                           \
        return new Name##Case(std::move(e));                                                   \
      },                                                                                       \
      no_differential);                                                                        \
  void Name##Case::TestBody()

#define CONFORMANCE_TEST(Name) MUXLAB_CONFORMANCE_CASE(Name, nullptr)
// A case whose facts hold everywhere but whose call-by-call trace depends on the machine.
#define CONFORMANCE_TEST_WITHOUT_DIFFERENTIAL(Name, reason) MUXLAB_CONFORMANCE_CASE(Name, reason)
