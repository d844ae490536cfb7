// The five personalities: the DESIGN table's columns, each with its readiness rule
// (readiness_rules.hpp).
#include "personality.hpp"

#include <array>

namespace muxlab::fake {
namespace {

constexpr Readiness kEveryFlag = Readiness::readable | Readiness::writable |
                                 Readiness::read_closed | Readiness::write_closed |
                                 Readiness::error;

// The capabilities are the real backends' (backends/posix), so code cannot tell fake from real.
constexpr std::array<Personality, 5> kPersonalities = {{
    {
        .mechanism = "epoll",
        .capabilities = {.mechanism = "epoll",
                         .reports = kEveryFlag,
                         .limit = Capabilities::Limit::none,
                         .handle_limit = 0,
                         .triggers = Trigger::edge | Trigger::oneshot},
        .keeps_ready_list = true,
        .closed_while_registered = ClosedWhileRegistered::dropped,
        .api = SocketApi::linux_sockets,
        .syn_resends_after_reset = 0,
        .rule = ReadinessRule::linux_epoll_or_poll,
        .acks_wake_writers = false,
    },
    {
        .mechanism = "poll",
        .capabilities = {.mechanism = "poll",
                         .reports = kEveryFlag,
                         .limit = Capabilities::Limit::none,
                         .handle_limit = 0,
                         .triggers = Trigger::level},
        .keeps_ready_list = false,
        .closed_while_registered = ClosedWhileRegistered::reported_as_error,
        .api = SocketApi::linux_sockets,
        .syn_resends_after_reset = 0,
        .rule = ReadinessRule::linux_epoll_or_poll,
        .acks_wake_writers = false,
    },
    {
        .mechanism = "select",
        .capabilities = {.mechanism = "select",
                         .reports = Readiness::readable | Readiness::writable,
                         .limit = Capabilities::Limit::fd_value,
                         .handle_limit = 1024,  // FD_SETSIZE
                         .triggers = Trigger::level},
        .keeps_ready_list = false,
        .closed_while_registered = ClosedWhileRegistered::fails_wait,
        .api = SocketApi::linux_sockets,
        .syn_resends_after_reset = 0,
        .rule = ReadinessRule::linux_select,
        .acks_wake_writers = false,
    },
    {
        .mechanism = "win32-select",
        .capabilities = {.mechanism = "win32-select",
                         .reports = Readiness::readable | Readiness::writable | Readiness::error,
                         .limit = Capabilities::Limit::count,
                         .handle_limit = 512,  // the default; KernelConfig::win32_select_limit
                         .triggers = Trigger::level},
        .keeps_ready_list = false,
        .closed_while_registered = ClosedWhileRegistered::fails_wait,
        .api = SocketApi::winsock,
        .syn_resends_after_reset = 2,
        .rule = ReadinessRule::win32_select,
        .acks_wake_writers = false,
    },
    {
        .mechanism = "kqueue",
        .capabilities = {.mechanism = "kqueue",
                         .reports = kEveryFlag,
                         .limit = Capabilities::Limit::none,
                         .handle_limit = 0,
                         .triggers = Trigger::edge | Trigger::oneshot},
        .keeps_ready_list = true,
        .closed_while_registered = ClosedWhileRegistered::removed,
        .api = SocketApi::bsd_sockets,
        .syn_resends_after_reset = 0,
        .rule = ReadinessRule::kqueue,
        .acks_wake_writers = true,
    },
}};

}  // namespace

std::span<const Personality> personalities() {
  return kPersonalities;
}

const Personality* find_personality(std::string_view mechanism) {
  for (const Personality& p : kPersonalities) {
    if (p.mechanism == mechanism) return &p;
  }
  return nullptr;
}

}  // namespace muxlab::fake
