// exec_calls: what one call costs under `muxlab exec` (docs/exec.md), against the same call on
// the real kernel, and what the articles' 000 flow costs in wall time against its virtual time.
//
//   exec_calls                  the calls' benchmarks, here (on the real kernel; under
//                               `muxlab exec -- exec_calls` they are the shim's round trips)
//   exec_calls --report MUXLAB PYTHON EXAMPLES
//                               runs itself both ways and the 000 flow five times each, and
//                               prints the README's table (medians)
//
// The benchmarks time themselves with the raw clock_gettime system call: under the shim the
// libc clocks are virtual, and a round trip is exactly what virtual time does not see.
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

namespace {

// Real nanoseconds, past any preloaded clock_gettime.
double real_now_ns() {
  timespec t{};
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// One connected pair, non-blocking, with nothing to read: every call below returns at once.
struct EmptyPair {
  int ends[2] = {-1, -1};
  EmptyPair() {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, ends) != 0)
      throw std::runtime_error("socketpair failed");
  }
  ~EmptyPair() {
    close(ends[0]);
    close(ends[1]);
  }
};

// Times `calls` calls of `call` per iteration by the real clock.
template <class Call>
void timed(benchmark::State& state, Call call) {
  constexpr int kCallsPerIteration = 1000;
  for (auto _ : state) {
    const double start = real_now_ns();
    for (int i = 0; i < kCallsPerIteration; ++i)
      call();
    state.SetIterationTime((real_now_ns() - start) / 1e9);
  }
  state.counters["ns_per_call"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kCallsPerIteration,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void recv_would_block(benchmark::State& state) {
  const EmptyPair pair;
  char byte;
  timed(state, [&] {
    if (recv(pair.ends[0], &byte, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN)
      state.SkipWithError("recv did not say EAGAIN");
  });
}
BENCHMARK(recv_would_block)->UseManualTime();

void poll_nothing_ready(benchmark::State& state) {
  const EmptyPair pair;
  pollfd p{pair.ends[0], POLLIN, 0};
  timed(state, [&] {
    if (poll(&p, 1, 0) != 0) state.SkipWithError("poll found something");
  });
}
BENCHMARK(poll_nothing_ready)->UseManualTime();

// --- The report ------------------------------------------------------------------------------

struct Ran {
  int status = 0;
  std::string out;
  double wall_ms = 0;
};

Ran run(const std::string& command) {
  Ran r;
  const auto start = std::chrono::steady_clock::now();
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + command);
  std::array<char, 4096> chunk{};
  while (std::fgets(chunk.data(), chunk.size(), p) != nullptr)
    r.out += chunk.data();
  r.status = pclose(p);
  r.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (r.status != 0)
    throw std::runtime_error(fmt::format("`{}` failed ({}):\n{}", command, r.status, r.out));
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Each benchmark's ns_per_call, from Google Benchmark's console line.
std::map<std::string, double> per_call(const std::string& out) {
  std::map<std::string, double> found;
  const std::regex line(R"((\w+)/manual_time\s.*ns_per_call=([0-9.]+)([num]?)s)");
  for (std::sregex_iterator it(out.begin(), out.end(), line), end; it != end; ++it) {
    const double scale = (*it)[3] == "u" ? 1e3 : (*it)[3] == "m" ? 1e6 : (*it)[3] == "n" ? 1 : 1e9;
    found[(*it)[1]] = std::stod((*it)[2]) * scale;
  }
  return found;
}

int report(const std::string& self, const std::string& muxlab, const std::string& python,
           const std::string& examples) {
  constexpr int kRuns = 5;
  const std::string flags = " --benchmark_min_time=0.2";
  std::map<std::string, std::vector<double>> real, shim;
  for (int i = 0; i < kRuns; ++i) {
    for (const auto& [name, ns] : per_call(run(self + flags).out))
      real[name].push_back(ns);
    for (const auto& [name, ns] : per_call(run(muxlab + " exec -- " + self + flags).out))
      shim[name].push_back(ns);
  }
  std::printf("| call (non-blocking, nothing ready) | real kernel | under muxlab exec | ratio |\n");
  std::printf("|---|---:|---:|---:|\n");
  for (const auto& [name, ns] : real) {
    if (shim[name].empty()) throw std::runtime_error(name + " did not run under muxlab exec");
    const double r = median(ns), s = median(shim[name]);
    std::printf("| `%s` | %.0f ns | %.0f ns | %.0fx |\n", name.c_str(), r, s, s / r);
  }
  std::printf("\n| the 000 flow under muxlab exec | virtual time | wall time |\n|---|---:|---:|\n");
  const std::regex took(R"((\w+): 3 of 3 answers OK in ([0-9.]+) s)");
  for (const char* client : {"blocking", "selectors"}) {
    std::vector<double> wall;
    std::string virtual_time;
    for (int i = 0; i < kRuns; ++i) {
      const Ran r =
          run(fmt::format("{} exec --background 1 -- {} {}/delay_http_server.py 8000 "
                          "::: {} {}/http_clients.py {} 8000",
                          muxlab, python, examples, python, examples, client));
      std::smatch m;
      if (!std::regex_search(r.out, m, took)) throw std::runtime_error("no result in:\n" + r.out);
      virtual_time = m[2];
      wall.push_back(r.wall_ms);
    }
    std::printf("| %s client, 3 requests | %s s | %.0f ms |\n", client, virtual_time.c_str(),
                median(wall));
  }
  std::printf("\nMedians of %d runs. The Python rows are mostly two interpreters starting.\n",
              kRuns);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--report") {
    try {
      return report(argv[0], argv[2], argv[3], argv[4]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "exec_calls: %s\n", e.what());
      return 1;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
