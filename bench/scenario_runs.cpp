// How long every shipped scenario takes on every fake environment: the fake kernel's promise is
// that the whole suite replays in well under 2 s of wall time (its own time is virtual, so a
// 20 s pause costs nothing). Wall time of the whole pass, parsing excluded; any failing run
// makes the benchmark report an error instead of a time.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "muxlab/environment.hpp"
#include "muxlab/scenario.hpp"

namespace {

std::vector<muxlab::Scenario> shipped_scenarios() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(MUXLAB_SCENARIO_DIR))
    if (entry.path().extension() == ".scenario") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<muxlab::Scenario> scenarios;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    muxlab::ParseResult parsed = muxlab::parse_scenario(text.str(), file.string());
    if (parsed.scenario) scenarios.push_back(std::move(*parsed.scenario));
  }
  return scenarios;
}

std::vector<std::string> fake_environments() {
  std::vector<std::string> fakes;
  for (const std::string& name : muxlab::environment_names())
    if (name.rfind("fake:", 0) == 0) fakes.push_back(name);
  return fakes;
}

void AllScenariosOnAllFakes(benchmark::State& state) {
  const std::vector<muxlab::Scenario> scenarios = shipped_scenarios();
  const std::vector<std::string> fakes = fake_environments();
  std::size_t runs = 0;
  for (auto _ : state) {
    for (const muxlab::Scenario& scenario : scenarios) {
      for (const std::string& env : fakes) {
        const muxlab::ScenarioRun run = muxlab::run_scenario(scenario, env, {});
        if (!run.passed()) {
          state.SkipWithError((scenario.file + " failed on " + env).c_str());
          return;
        }
        ++runs;
      }
    }
  }
  state.counters["scripts"] = static_cast<double>(scenarios.size());
  state.counters["environments"] = static_cast<double>(fakes.size());
  state.counters["runs_per_pass"] =
      static_cast<double>(runs) / static_cast<double>(state.iterations());
}
BENCHMARK(AllScenariosOnAllFakes)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
