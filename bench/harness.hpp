// harness: what bench/chain.cpp and bench/fake_kernel.cpp share around their workloads. The
// command line, Google Benchmark's set-up and run (progress to stderr, medians kept), the thread
// CPU clock both time by, and the pieces of their Markdown reports that read the same.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

namespace muxlab_bench {

// Anything that makes a cell's numbers meaningless: a lost byte, a stall, a failed call.
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs `body` for one benchmark and turns a Failure into a failed cell: the first failure is kept
// in `first_failure` for the report, and Google Benchmark skips the cell.
template <class Body>
void guarded(benchmark::State& state, std::string& first_failure, Body body) {
  try {
    body();
  } catch (const Failure& failure) {
    if (first_failure.empty()) first_failure = failure.what();
    state.SkipWithError(failure.what());
  }
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

struct Options {
  bool quick = false;                        // --quick: seconds, for ctest
  bool lose_a_byte = false;                  // --lose-a-byte: proves that a lost byte fails the run
  std::vector<std::string> benchmark_flags;  // everything else, for Google Benchmark
};

// `own_flag` takes a program's own flags: it returns true for one it used.
Options parse_options(int argc, char** argv,
                      const std::function<bool(std::string_view)>& own_flag = {});

// Hands `defaults` and then the user's --benchmark_* flags to Google Benchmark, so that the
// user's, coming later, win. False when an argument is not Google Benchmark's (it said which).
bool initialize_benchmark(const char* program, const std::vector<std::string>& defaults,
                          const Options& options);

// Raises the soft open-file limit to the hard one, for the runs with many sockets. Returns 0, or
// the errno of the setrlimit that failed.
int raise_open_file_limit();

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

enum class TimingClock {
  wall,        // CLOCK_MONOTONIC, as libevent's bench times it
  thread_cpu,  // CLOCK_THREAD_CPUTIME_ID: leaves out the time other processes had the CPU
};

// The dispatch phases never sleep (something is always ready), so their CPU time is their wall
// time minus the time the scheduler gave the CPU to other processes. On this project's shared
// 2-core machine that difference swung wall-clock ratios by ±30 % while CPU-time ratios held
// within a few percent, hence CPU time by default. Every contender runs in the one thread, system
// calls included, so its CPU time is its whole cost.
double clock_seconds(TimingClock clock);

// Times the thread gave up the CPU because it blocked. Preemption does not count, so a dispatch
// that raises it slept, and its CPU time would hide the sleep.
long voluntary_context_switches();

// ---------------------------------------------------------------------------------------------
// Running and reporting
// ---------------------------------------------------------------------------------------------

// What the reader needs to judge the numbers: when, where, how busy the machine was, and how many
// repetitions each median is of.
struct RunConditions {
  std::string date;
  std::string machine;
  std::string load_before;
  std::string load_after;
  std::int64_t repetitions = 0;
};

// Runs the benchmarks initialize_benchmark selected. Google Benchmark's progress goes to stderr,
// since stdout is for the report alone; each benchmark's median (of its manual time, in its unit)
// goes to `on_median`, by the benchmark's name.
RunConditions run_benchmarks(
    const std::function<void(const std::string& name, double median)>& on_median);

// A Markdown table's first two lines: `first_column`, then right-aligned number columns, then,
// when `text_column` is not empty, a left-aligned text column.
void print_table_header(std::string_view first_column, const std::vector<std::string>& columns,
                        std::string_view text_column = {});

}  // namespace muxlab_bench
