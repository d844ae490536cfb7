// The muxlab command. For now it lists what this build can run; `muxlab run` arrives with the
// scenario language.
#include <cstdio>
#include <string_view>

#include <fmt/format.h>

#include "muxlab/environment.hpp"
#include "muxlab/format.hpp"

namespace {

constexpr std::string_view kUsage = R"(usage: muxlab <command>

commands:
  envs      list the environments this build can run, with what each backend reports
  --help    this text
)";

int list_environments() {
  for (const auto& name : muxlab::environment_names()) {
    auto env = muxlab::make_environment(name);
    if (!env) {
      fmt::print("{:<20} unavailable: {}\n", name, env.error());
      continue;
    }
    auto backend = (*env)->make_backend();
    if (!backend) {
      fmt::print("{:<20} unavailable: {}\n", name, backend.error());
      continue;
    }
    const muxlab::Capabilities& caps = (*backend)->capabilities();
    std::string limit = "no handle limit";
    if (caps.limit == muxlab::Capabilities::Limit::fd_value)
      limit = fmt::format("fd values below {}", caps.handle_limit);
    else if (caps.limit == muxlab::Capabilities::Limit::count)
      limit = fmt::format("at most {} handles", caps.handle_limit);
    fmt::print(
        "{:<20} {:<5} reports {}; triggers: level{}; {}\n", name,
        (*env)->is_fake() ? "fake" : "real", caps.reports,
        caps.triggers == muxlab::Trigger::level ? "" : "|" + muxlab::to_string(caps.triggers),
        limit);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "envs") return list_environments();
  if (command == "--help" || command == "-h" || command == "help") {
    fmt::print("{}", kUsage);
    return 0;
  }
  fmt::print(stderr, "muxlab: {}\n{}",
             command.empty() ? "no command given" : fmt::format("unknown command '{}'", command),
             kUsage);
  return 2;
}
