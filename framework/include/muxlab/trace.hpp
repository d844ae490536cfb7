#pragma once
// Trace: every socket call and every readiness report, with time, program, call, arguments
// and result. Expectations, the fake-versus-real comparison and the exporters all read it.
//
// TracedEnvironment wraps any Environment so that its Net and its backends record into a Trace;
// the code under test cannot tell the difference.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "muxlab/environment.hpp"

namespace muxlab {

struct TraceRecord {
  Time time{};          // when the call started
  Duration duration{};  // how long it took (waits block; most calls take no time)
  std::string program;  // who made the call ("main" outside any scheduler program)
  std::string call;     // "send", "recv", "wait", "ready" (one per reported event), "add", ...
  Handle handle = invalid_handle;
  std::string arguments;  // "1048576 bytes", "read|write token 3", "timeout 50 ms"
  std::string result;     // "6144", "would_block", "readable|writable", "ok"
  // The class of the result, as scripts and the differential comparison use it: "ok",
  // "partial", "data", "eof", an error name, or a readiness set.
  std::string result_class;

  friend bool operator==(const TraceRecord&, const TraceRecord&) = default;
};

// Records may come from several threads (a test's sender thread beside a blocked wait; a
// program's own threads): record() takes a lock. Read the records once the calls are done.
class Trace {
 public:
  void record(TraceRecord r) {
    const std::lock_guard lock(mutex_);
    if (enabled_) records_.push_back(std::move(r));
  }
  const std::vector<TraceRecord>& records() const { return records_; }
  void clear() {
    const std::lock_guard lock(mutex_);
    records_.clear();
  }
  void set_enabled(bool on) { enabled_ = on; }
  bool enabled() const { return enabled_; }

  // Who is calling: the scheduler sets this to its current program.
  void set_program_source(std::function<std::string()> source) { program_ = std::move(source); }
  std::string current_program() const { return program_ ? program_() : "main"; }

  // Handles the trace shows opened (socket, listen, accept) and not closed or aborted since, in
  // the order they were opened: what a run leaked, or what is left to close.
  std::vector<Handle> open_handles() const;

  // One line per record: "  12.000 ms  client     send      h5  1048576 bytes -> 6144".
  std::string to_text(std::size_t first = 0, std::size_t last = static_cast<std::size_t>(-1)) const;
  // Chrome trace-event JSON (opens in Perfetto and chrome://tracing).
  std::string to_chrome_json() const;
  // A self-contained SVG timeline: a lane per socket, its calls (coloured by result) and the
  // readiness reported for it, over time; hovering shows each record.
  std::string to_svg(std::string_view title = "") const;
  // Independent of handle numbers, timing and byte counts: one line per call with the result's
  // class, handles renamed h1, h2, ... in order of appearance, and repeated identical waits
  // folded into one. Two kernels that agree on the facts give the same text.
  std::string normalized() const;

 private:
  std::mutex mutex_;
  std::vector<TraceRecord> records_;
  std::function<std::string()> program_;
  bool enabled_ = true;
};

// Where two traces part: empty when every record is equal, times to the nanosecond included
// (what "the same seed gives the same trace" means). Otherwise the index of the first record
// that differs, the records before it that agree, and both versions with every field.
std::string first_difference(const Trace& first, const Trace& second,
                             std::string_view first_name = "first run",
                             std::string_view second_name = "second run");

// Text made safe for XML content and attribute values (the SVG timeline, JUnit reports).
std::string escape_xml(std::string_view s);

// Wraps `inner`; everything its Net and backends do is recorded into `trace`.
std::unique_ptr<Environment> make_traced_environment(std::unique_ptr<Environment> inner,
                                                     std::shared_ptr<Trace> trace);

}  // namespace muxlab
