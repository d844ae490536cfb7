#pragma once
// `muxlab exec`: real programs on one fake kernel (docs/exec.md). The session starts each program
// under the preload shim with a channel of its own, carries requests and replies between the
// programs and the kernel server (backends/fake/kernel_server.hpp), and reaps them. Linux only.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "muxlab/clock.hpp"
#include "muxlab/fake.hpp"

namespace muxlab::exec {

struct ExecProgram {
  std::vector<std::string> argv;
  bool background = false;  // a server: stopped when every foreground program has ended
};

struct ExecOptions {
  std::string environment = "fake:epoll";  // fake:epoll, fake:poll, fake:select, fake:win32-select
  std::uint64_t seed = 1;
  fake::FaultPlan faults;
  std::optional<std::string> trace_path;
  Duration timeout = infinite;  // virtual
  // Real time one process may hold the baton between two calls (zero: no limit). A program that
  // computes, or blocks in a call the shim does not see, stops every other one meanwhile.
  Duration wall_limit = std::chrono::seconds(60);
  std::string preload;  // the shim's path
};

// Exit codes besides the programs' own.
inline constexpr int kExitDeadlock = 3;
inline constexpr int kExitTimeLimit = 124;  // as timeout(1) says it
inline constexpr int kExitUsage = 2;

// Runs the programs to the end; returns the exit status `muxlab exec` gives (docs/exec.md).
int run_exec(const ExecOptions& options, const std::vector<ExecProgram>& programs);

// The shim next to the running muxlab binary, or in ../lib beside it; empty when not found.
std::string find_preload_library();

}  // namespace muxlab::exec
