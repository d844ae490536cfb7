#include "harness.hpp"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

namespace muxlab_bench {

namespace {

std::string first_line_of(const char* path, std::string_view starting_with = {}) {
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with(starting_with)) return line;
  }
  return {};
}

// The 1, 5 and 15 minute load averages.
std::string load_average() {
  std::istringstream fields(first_line_of("/proc/loadavg"));
  std::string one, five, fifteen;
  fields >> one >> five >> fifteen;
  return fmt::format("{} {} {}", one, five, fifteen);
}

std::string now_utc() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

std::string machine() {
  std::string cpu = first_line_of("/proc/cpuinfo", "model name");
  if (auto colon = cpu.find(':'); colon != std::string::npos) cpu = cpu.substr(colon + 2);
  utsname system{};
  ::uname(&system);
  return fmt::format("{}, {} CPUs online, Linux {}", cpu.empty() ? "unknown CPU" : cpu,
                     ::sysconf(_SC_NPROCESSORS_ONLN), system.release);
}

// Hands each benchmark's median on while the console reporter prints the progress as usual.
class MedianCollector final : public benchmark::ConsoleReporter {
 public:
  // Colour only for a terminal: the progress often goes to a log file.
  explicit MedianCollector(
      const std::function<void(const std::string& name, double median)>& on_median)
      : ConsoleReporter(::isatty(STDERR_FILENO) ? OO_ColorTabular : OO_Tabular),
        on_median_(on_median) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      repetitions_ = std::max<std::int64_t>(repetitions_, run.repetitions);
      if (run.error_occurred) continue;
      // With a single repetition there is no aggregate: the run itself is the median.
      const bool is_median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      const bool is_only_run = run.run_type == Run::RT_Iteration && run.repetitions == 1;
      if (!is_median && !is_only_run) continue;
      on_median_(run.run_name.function_name, run.GetAdjustedRealTime());
    }
  }

  std::int64_t repetitions() const { return repetitions_; }

 private:
  const std::function<void(const std::string& name, double median)>& on_median_;
  std::int64_t repetitions_ = 0;
};

}  // namespace

Options parse_options(int argc, char** argv,
                      const std::function<bool(std::string_view)>& own_flag) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick")
      options.quick = true;
    else if (arg == "--lose-a-byte")
      options.lose_a_byte = true;
    else if (!own_flag || !own_flag(arg))
      options.benchmark_flags.emplace_back(arg);
  }
  return options;
}

bool initialize_benchmark(const char* program, const std::vector<std::string>& defaults,
                          const Options& options) {
  // Kept for the whole program: Google Benchmark may hold on to its argv.
  static std::vector<std::string> arguments;
  static std::vector<char*> argument_pointers;
  arguments = {program};
  arguments.insert(arguments.end(), defaults.begin(), defaults.end());
  arguments.insert(arguments.end(), options.benchmark_flags.begin(), options.benchmark_flags.end());
  argument_pointers.clear();
  for (std::string& argument : arguments)
    argument_pointers.push_back(argument.data());
  int benchmark_argc = static_cast<int>(argument_pointers.size());
  benchmark::Initialize(&benchmark_argc, argument_pointers.data());
  return !benchmark::ReportUnrecognizedArguments(benchmark_argc, argument_pointers.data());
}

int raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return 0;
  limit.rlim_cur = limit.rlim_max;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0 ? 0 : errno;
}

double clock_seconds(TimingClock clock) {
  timespec now{};
  ::clock_gettime(clock == TimingClock::thread_cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC,
                  &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

long voluntary_context_switches() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nvcsw;
}

RunConditions run_benchmarks(
    const std::function<void(const std::string& name, double median)>& on_median) {
  RunConditions conditions;
  conditions.date = now_utc();
  conditions.load_before = load_average();
  MedianCollector collector(on_median);
  collector.SetOutputStream(&std::cerr);  // stdout is for the report alone
  collector.SetErrorStream(&std::cerr);
  benchmark::RunSpecifiedBenchmarks(&collector);
  conditions.load_after = load_average();
  conditions.machine = machine();
  conditions.repetitions = collector.repetitions();
  return conditions;
}

void print_table_header(std::string_view first_column, const std::vector<std::string>& columns,
                        std::string_view text_column) {
  fmt::print("| {} |", first_column);
  for (const std::string& column : columns)
    fmt::print(" {} |", column);
  if (!text_column.empty()) fmt::print(" {} |", text_column);
  fmt::print("\n|---|");
  for (std::size_t i = 0; i < columns.size(); ++i)
    fmt::print("---:|");
  if (!text_column.empty()) fmt::print("---|");
  fmt::print("\n");
}

}  // namespace muxlab_bench
