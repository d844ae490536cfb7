// The socket steps, each verb's parse and run side by side: the script's own sockets, driven
// through the environment's Net, the fake kernel's settings, and what the backend reports about
// them (watch, wait). Their rows are at the end. docs/scenarios.md is the reference.
#include <algorithm>

#include <fmt/format.h>

#include "muxlab/format.hpp"
#include "muxlab/program.hpp"
#include "scenario_steps.hpp"
#include "scenario_values.hpp"

namespace muxlab::script {
namespace {

using Kind = Expected::Kind;

// A call that either succeeds or fails with an error.
Mismatch judge_status(const Expected& want, const Status& got) {
  if (want.kind == Kind::ok && got.ok()) return {};
  if (want.kind == Kind::error && got.code() == want.error) return {};
  return Difference{want.to_string(), got.ok() ? "ok" : got.error().message()};
}

template <class T>
Status as_status(const Result<T>& r) {
  return r ? Status{} : Status(r.error());
}

std::span<std::byte> as_writable(std::string& s) {
  return {reinterpret_cast<std::byte*>(s.data()), s.size()};
}

// SOCKET alone: fill, close, abort, pending_error, unwatch.
bool parse_socket_only(StepParser& p, const Words& w, std::string& socket) {
  return p.need(w, 2) && p.socket_name(w[1], socket) && p.no_more(w, 2);
}

// SOCKET [SIZE]: recv and drain, with their buffer's size.
bool parse_socket_and_buffer(StepParser& p, const Words& w, std::string& socket,
                             std::size_t& buffer_size) {
  if (!p.need(w, 2) || !p.socket_name(w[1], socket)) return false;
  if (w.size() > 2 &&
      (!parse_bytes(w[2].text, buffer_size) || buffer_size == 0 || buffer_size > (64u << 20)))
    return p.fail(w[2].column, "expected a buffer size from 1 to 64MiB");
  return p.no_more(w, 3);
}

// --- socket NAME -----------------------------------------------------------------------------

bool parse(StepParser& p, const Words& w, SocketStep& s) {
  return p.need(w, 2) && p.new_socket(w[1], s.name) && p.no_more(w, 2);
}

Mismatch run(ScriptRunner& r, const SocketStep& s, const Expected& want) {
  Result<Handle> h = r.net().socket();
  r.created(s.name, h);
  return judge_status(want, as_status(h));
}

// --- listen NAME [backlog=N] -------------------------------------------------------------------

bool parse(StepParser& p, const Words& w, ListenStep& s) {
  if (!p.need(w, 2) || !p.new_socket(w[1], s.name)) return false;
  if (w.size() > 2) {
    if (w[2].text.rfind("backlog=", 0) != 0 || !parse_number(w[2].text.substr(8), s.backlog))
      return p.fail(w[2].column, "expected backlog=N");
  }
  return p.no_more(w, 3);
}

Mismatch run(ScriptRunner& r, const ListenStep& s, const Expected& want) {
  Result<Handle> h = r.net().listen(Endpoint{}, static_cast<int>(s.backlog));
  r.created(s.name, h);
  if (h)
    if (auto at = r.net().local_endpoint(*h)) r.endpoints()[s.name] = *at;
  return judge_status(want, as_status(h));
}

// --- connect SOCKET LISTENER|SERVER ------------------------------------------------------------

bool parse(StepParser& p, const Words& w, ConnectStep& s) {
  if (!p.need(w, 3) || !p.socket_name(w[1], s.socket)) return false;
  if (!p.is_socket(w[2].text) && !p.is_program(w[2].text))
    return p.fail(w[2].column,
                  fmt::format("no listening socket or server program named '{}'", w[2].text));
  s.target = w[2].text;
  return p.no_more(w, 3);
}

Mismatch run(ScriptRunner& r, const ConnectStep& s, const Expected& want) {
  auto it = r.endpoints().find(s.target);
  if (it == r.endpoints().end())
    return Difference{fmt::format("'{}' to have an address", s.target),
                      "it never listened (a server publishes its address when it starts)"};
  return judge_status(want, r.net().connect(r.socket(s.socket), it->second));
}

// --- accept NEW_SOCKET LISTENER ----------------------------------------------------------------

bool parse(StepParser& p, const Words& w, AcceptStep& s) {
  return p.need(w, 3) && p.socket_name(w[2], s.listener) && p.new_socket(w[1], s.name) &&
         p.no_more(w, 3);
}

Mismatch run(ScriptRunner& r, const AcceptStep& s, const Expected& want) {
  Result<Handle> h = r.net().accept(r.socket(s.listener));
  r.created(s.name, h);
  return judge_status(want, as_status(h));
}

// --- send SOCKET "text"|SIZE -------------------------------------------------------------------

bool parse(StepParser& p, const Words& w, SendStep& s) {
  if (!p.need(w, 3) || !p.socket_name(w[1], s.socket)) return false;
  if (w[2].quoted) {
    s.payload = w[2].text;
  } else if (!parse_bytes(w[2].text, s.generated_size) || s.generated_size == 0 ||
             s.generated_size > (64u << 20)) {
    // The payload is built in memory for one call, which takes at most the send buffer: a
    // larger one only costs time and memory (1GiB took 4 s and 1 GB).
    return p.fail(w[2].column, "expected a \"string\" or a size from 1 to 64MiB (64KiB, 1MiB)");
  }
  return p.no_more(w, 3);
}

Mismatch run(ScriptRunner& r, const SendStep& s, const Expected& want) {
  const std::string data = s.payload.empty() ? generated_payload(s.generated_size) : s.payload;
  Result<std::size_t> n = r.net().send(r.socket(s.socket), as_bytes(data));
  if (!n || want.kind == Kind::error) return judge_status(want, as_status(n));
  const bool ok = (want.kind == Kind::ok && *n == data.size()) ||
                  (want.kind == Kind::count && *n == want.count) ||
                  (want.kind == Kind::partial && *n > 0 && *n < data.size());
  if (ok) return {};
  return Difference{want.to_string(), fmt::format("{} of {} bytes", *n, data.size())};
}

// --- fill SOCKET: send until the kernel takes no more ----------------------------------------

bool parse(StepParser& p, const Words& w, FillStep& s) {
  return parse_socket_only(p, w, s.socket);
}

// A byte total against "-> N" (or an error, which a total is not).
Mismatch judge_total(const Expected& want, std::uint64_t total) {
  if (want.kind == Kind::count && total != want.count)
    return Difference{fmt::format("{} bytes", want.count), fmt::format("{} bytes", total)};
  if (want.kind == Kind::error) return Difference{want.to_string(), fmt::format("{} bytes", total)};
  return {};
}

// Loopback goes on moving bytes into the peer's receive buffer for a moment after the first
// would_block, so "full" means: a pause changed nothing.
Mismatch run(ScriptRunner& r, const FillStep& s, const Expected& want) {
  const std::string chunk = generated_payload(64 * 1024);
  std::uint64_t total = 0;
  for (int round = 0; round < 1000; ++round) {
    std::uint64_t this_round = 0;
    Result<std::size_t> n = 0;
    while ((n = r.net().send(r.socket(s.socket), as_bytes(chunk))))
      this_round += *n;
    if (n.code() != Errc::would_block) return judge_status(want, as_status(n));
    total += this_round;
    if (round > 0 && this_round == 0) return judge_total(want, total);
    if (const Status paused = r.pause(r.scaled(std::chrono::milliseconds(20))); !paused)
      return Difference{"a pause", paused.error().message()};
  }
  return Difference{"the send buffer to fill", fmt::format("still taking bytes after {}", total)};
}

// --- recv SOCKET [SIZE] ------------------------------------------------------------------------

bool parse(StepParser& p, const Words& w, RecvStep& s) {
  return parse_socket_and_buffer(p, w, s.socket, s.buffer_size);
}

Mismatch run(ScriptRunner& r, const RecvStep& s, const Expected& want) {
  std::string buffer(s.buffer_size, '\0');
  Result<std::size_t> n = r.net().recv(r.socket(s.socket), as_writable(buffer));
  if (!n || want.kind == Kind::error) return judge_status(want, as_status(n));
  buffer.resize(*n);
  const bool ok = (want.kind == Kind::eof && *n == 0) || (want.kind == Kind::data && *n > 0) ||
                  (want.kind == Kind::count && *n == want.count) ||
                  (want.kind == Kind::text && buffer == want.text);
  if (ok) return {};
  return Difference{want.to_string(), *n == 0 ? "eof" : fmt::format("\"{}\"", printable(buffer))};
}

// --- drain SOCKET [SIZE]: recv until would_block -----------------------------------------------

bool parse(StepParser& p, const Words& w, DrainStep& s) {
  return parse_socket_and_buffer(p, w, s.socket, s.buffer_size);
}

Mismatch run(ScriptRunner& r, const DrainStep& s, const Expected& want) {
  std::string buffer(s.buffer_size, '\0');
  std::uint64_t total = 0;
  Result<std::size_t> n = 0;
  while ((n = r.net().recv(r.socket(s.socket), as_writable(buffer))) && *n > 0)
    total += *n;
  if (!n && n.code() != Errc::would_block) return judge_status(want, as_status(n));
  return judge_total(want, total);
}

// --- shutdown SOCKET read|write|both -----------------------------------------------------------

bool parse(StepParser& p, const Words& w, ShutdownStep& s) {
  if (!p.need(w, 3) || !p.socket_name(w[1], s.socket)) return false;
  if (w[2].text == "read")
    s.direction = Direction::read;
  else if (w[2].text == "write")
    s.direction = Direction::write;
  else if (w[2].text == "both")
    s.direction = Direction::both;
  else
    return p.fail(w[2].column, "expected read, write or both");
  return p.no_more(w, 3);
}

Mismatch run(ScriptRunner& r, const ShutdownStep& s, const Expected& want) {
  return judge_status(want, r.net().shutdown(r.socket(s.socket), s.direction));
}

// --- close SOCKET, abort SOCKET ------------------------------------------------------------------

bool parse(StepParser& p, const Words& w, CloseStep& s) {
  return parse_socket_only(p, w, s.socket);
}

// Close and abort end the socket alike; abort first sets SO_LINGER 0, so the peer sees a reset.
Mismatch end_socket(ScriptRunner& r, const std::string& name, bool abort, const Expected& want) {
  ScriptSocket& socket = r.socket_state(name);
  const Status ended = abort ? r.net().abort(socket.handle) : r.net().close(socket.handle);
  if (ended) socket.open = false;
  return judge_status(want, ended);
}

Mismatch run(ScriptRunner& r, const CloseStep& s, const Expected& want) {
  return end_socket(r, s.socket, false, want);
}

bool parse(StepParser& p, const Words& w, AbortStep& s) {
  return parse_socket_only(p, w, s.socket);
}

Mismatch run(ScriptRunner& r, const AbortStep& s, const Expected& want) {
  return end_socket(r, s.socket, true, want);
}

// --- set SOCKET sndbuf=SIZE rcvbuf=SIZE --------------------------------------------------------

bool parse(StepParser& p, const Words& w, SetBuffersStep& s) {
  if (!p.need(w, 3) || !p.socket_name(w[1], s.socket)) return false;
  for (std::size_t i = 2; i < w.size(); ++i) {
    const std::string& kv = w[i].text;
    std::size_t bytes = 0;
    const auto eq = kv.find('=');
    const std::string key = kv.substr(0, eq);
    if (eq == std::string::npos || (key != "sndbuf" && key != "rcvbuf") ||
        !parse_bytes(kv.substr(eq + 1), bytes))
      return p.fail(w[i].column, "expected sndbuf=SIZE or rcvbuf=SIZE");
    (key == "sndbuf" ? s.send_buffer : s.receive_buffer) = bytes;
  }
  return true;
}

Mismatch run(ScriptRunner& r, const SetBuffersStep& s, const Expected& want) {
  Status set;
  if (s.send_buffer) set = r.net().set_send_buffer(r.socket(s.socket), *s.send_buffer);
  if (set && s.receive_buffer)
    set = r.net().set_receive_buffer(r.socket(s.socket), *s.receive_buffer);
  return judge_status(want, set);
}

// --- fault SOCKET|all [KEY=VALUE...] -----------------------------------------------------------
// The fake kernel's seeded faults (muxlab/fake.hpp), for one socket or for every socket without a
// plan of its own; with no KEY=VALUE, none. Real kernels have none, so the script must say
// `only on fake` (or fake environments only) before.

bool parse(StepParser& p, const Words& w, FaultStep& s) {
  if (!p.need(w, 2)) return false;
  const std::vector<std::string>& only_on = p.scenario().only_on;
  const bool only_fakes =
      !only_on.empty() && std::all_of(only_on.begin(), only_on.end(), [](const std::string& env) {
        return EnvironmentSelector::parse(env).value().only_fakes();
      });
  if (!only_fakes)
    return p.fail(w[0].column,
                  "faults are the fake kernel's: say `only on fake` (or only fake "
                  "environments) before the first fault");
  if (w[1].text == "all")
    s.socket = "all";
  else if (!p.socket_name(w[1], s.socket))
    return false;
  fake::FaultPlan& plan = s.plan;
  for (std::size_t i = 2; i < w.size(); ++i) {
    const std::string& kv = w[i].text;
    const auto eq = kv.find('=');
    const std::string key = kv.substr(0, std::min(eq, kv.size()));
    const std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    double* chance = key == "short_send"        ? &plan.short_send
                     : key == "spurious_wakeup" ? &plan.spurious_wakeup
                     : key == "refuse_connect"  ? &plan.refuse_connect
                                                : nullptr;
    std::size_t bytes = 0;
    Duration jitter{};
    if (chance != nullptr) {
      if (!parse_chance(value, *chance))
        return p.fail(w[i].column, fmt::format("{} takes a chance: 25% or 0.25", key));
    } else if (key == "reset_after") {
      if (!parse_bytes(value, bytes))
        return p.fail(w[i].column, "reset_after takes a size: 4096, 4KiB, 1MiB");
      plan.reset_after_bytes = bytes;
    } else if (key == "jitter") {
      if (!parse_duration(value, jitter))
        return p.fail(w[i].column, "jitter takes a duration: 2ms");
      plan.latency_jitter = jitter;
    } else {
      return p.fail(w[i].column,
                    "expected short_send=, spurious_wakeup=, refuse_connect= (chances), "
                    "reset_after=SIZE or jitter=DURATION");
    }
  }
  return true;
}

Mismatch run(ScriptRunner& r, const FaultStep& s, const Expected& want) {
  // The parser admits faults only in scripts limited to fake environments.
  fake::KernelControls* kernel = r.env().fake_kernel();
  if (kernel == nullptr)
    return Difference{"a fake kernel", fmt::format("{} injects no faults", r.env().name())};
  if (s.socket == "all") {
    kernel->config().faults = s.plan;
    return {};
  }
  return judge_status(want, kernel->set_faults(r.socket(s.socket), s.plan));
}

// --- kernel call_cost=DURATION -----------------------------------------------------------------
// The fake kernel's virtual cost of each call (1us by default): exact timings over long flows
// need 0. A real kernel's calls cost what they cost, so there it changes nothing.

bool parse(StepParser& p, const Words& w, KernelStep& s) {
  if (!p.need(w, 2)) return false;
  const std::string& kv = w[1].text;
  if (w[1].quoted || kv.rfind("call_cost=", 0) != 0)
    return p.fail(w[1].column,
                  fmt::format("unknown kernel setting '{}': expected {}", kv, p.usage()));
  if (!parse_duration(std::string_view(kv).substr(10), s.call_cost))
    return p.fail(
        w[1].column + 10,
        fmt::format("'{}' is not a duration (like 0, 1us, 2ms; at most a day)", kv.substr(10)));
  return p.no_more(w, 2);
}

Mismatch run(ScriptRunner& r, const KernelStep& s, const Expected&) {
  if (fake::KernelControls* kernel = r.env().fake_kernel())
    kernel->config().system_call_cost = s.call_cost;
  return {};
}

// --- pending_error SOCKET: SO_ERROR ------------------------------------------------------------

bool parse(StepParser& p, const Words& w, PendingErrorStep& s) {
  return parse_socket_only(p, w, s.socket);
}

Mismatch run(ScriptRunner& r, const PendingErrorStep& s, const Expected& want) {
  Result<std::error_code> pending = r.net().pending_error(r.socket(s.socket));
  if (!pending) return judge_status(want, as_status(pending));
  if ((want.kind == Kind::ok && !*pending) || (want.kind == Kind::error && *pending == want.error))
    return {};
  return Difference{want.to_string(), *pending ? error_name(*pending) : "ok"};
}

// --- watch SOCKET read|write|read|write|none [edge] [oneshot] ------------------------------------

bool parse(StepParser& p, const Words& w, WatchStep& s) {
  if (!p.need(w, 3) || !p.socket_name(w[1], s.socket)) return false;
  const std::string& i = w[2].text;
  if (i == "read")
    s.interest = Interest::read;
  else if (i == "write")
    s.interest = Interest::write;
  else if (i == "read|write" || i == "write|read")
    s.interest = Interest::read_write;
  else if (i == "none")
    s.interest = Interest::none;
  else
    return p.fail(w[2].column, "expected read, write, read|write or none");
  for (std::size_t k = 3; k < w.size(); ++k) {
    if (w[k].text == "edge")
      s.trigger |= Trigger::edge;
    else if (w[k].text == "oneshot")
      s.trigger |= Trigger::oneshot;
    else
      return p.fail(w[k].column, "expected edge or oneshot");
  }
  return true;
}

bool watched(StepParser& p, const Words&, const Step& step) {
  p.watched().insert(std::get<WatchStep>(step.args).socket);
  return true;
}

// The socket's Watched record keeps what the backend reports, for the waits after.
Mismatch run(ScriptRunner& r, const WatchStep& s, const Expected& want) {
  ScriptSocket* socket = &r.socket_state(s.socket);
  return judge_status(want, r.scheduler().watch(
                                socket->handle, s.interest,
                                [socket](Readiness ready) {
                                  socket->watched.last_report = ready;
                                  ++socket->watched.reports;
                                },
                                s.trigger));
}

// --- watch_many COUNT: how many handles a backend takes, and what it says past them ------------

bool parse(StepParser& p, const Words& w, WatchManyStep& s) {
  if (!p.need(w, 2)) return false;
  if (!parse_number(w[1].text, s.count) || s.count == 0 || s.count > 100000)
    return p.fail(w[1].column, "expected a count from 1 to 100000");
  return p.no_more(w, 2);
}

Mismatch run(ScriptRunner& r, const WatchManyStep& s, const Expected& want) {
  for (std::uint64_t i = 1; i <= s.count; ++i) {
    Result<Handle> h = r.net().socket();
    if (!h) return judge_status(want, as_status(h));
    Status watched = r.scheduler().watch(*h, Interest::read, [](Readiness) {});
    if (watched) continue;
    if (want.kind == Kind::error && watched.code() == want.error) return {};
    return Difference{want.to_string(), fmt::format("socket {} of {} (handle {}): {}", i, s.count,
                                                    *h, watched.error().message())};
  }
  return judge_status(want, Status{});
}

// --- open_until_fd FD as NAME: a socket with this handle number, however many it takes ---------

bool parse(StepParser& p, const Words& w, OpenUntilFdStep& s) {
  if (!p.need(w, 4)) return false;
  if (!parse_number(w[1].text, s.fd) || s.fd > 100000)
    return p.fail(w[1].column, "expected a handle number from 0 to 100000");
  if (w[2].text != "as") return p.fail(w[2].column, fmt::format("expected: {}", p.usage()));
  return p.new_socket(w[3], s.name) && p.no_more(w, 4);
}

// The other sockets stay open, holding the numbers below it. POSIX gives the lowest free number,
// so a socket above it means the number is taken. Windows' SOCKETs are not small integers: there
// the step does not apply, and the rest of the run is skipped (select's limit there is a count:
// watch_many).
Mismatch run(ScriptRunner& r, const OpenUntilFdStep& s, const Expected& want) {
  if (r.env().mechanism() == "win32-select")
    throw StepUnsupported{fmt::format(
        "open_until_fd is unsupported on {}: a Windows SOCKET is not a small integer, so no "
        "handle number can be aimed at (its select limit is a count: watch_many)",
        r.env().name())};
  for (std::uint64_t opened = 1;; ++opened) {
    Result<Handle> h = r.net().socket();
    if (!h) {
      r.created(s.name, h);
      if (want.kind == Kind::error && h.code() == want.error) return {};
      return Difference{want.to_string(), fmt::format("socket {} on the way to handle {}: {}",
                                                      opened, s.fd, h.error().message())};
    }
    const auto number = static_cast<std::uint64_t>(*h);
    if (number == s.fd) {
      r.created(s.name, h);
      return judge_status(want, Status{});
    }
    if (number > s.fd)
      return Difference{
          fmt::format("a socket with handle {}", s.fd),
          fmt::format("handle {} is taken: socket {} got handle {}", s.fd, opened, number)};
  }
}

// --- unwatch SOCKET ----------------------------------------------------------------------------

bool parse(StepParser& p, const Words& w, UnwatchStep& s) {
  return parse_socket_only(p, w, s.socket);
}

bool unwatched(StepParser& p, const Words&, const Step& step) {
  p.watched().erase(std::get<UnwatchStep>(step.args).socket);
  return true;
}

Mismatch run(ScriptRunner& r, const UnwatchStep& s, const Expected& want) {
  return judge_status(want, r.scheduler().unwatch(r.socket(s.socket)));
}

// --- wait SOCKET [within DURATION] -> READINESS ------------------------------------------------

bool parse(StepParser& p, const Words& w, WaitStep& s) {
  if (!p.need(w, 2) || !p.socket_name(w[1], s.socket)) return false;
  if (w.size() > 2) {
    if (w[2].text != "within") return p.fail(w[2].column, "expected 'within DURATION'");
    if (!p.need(w, 4, "wait SOCKET within DURATION") || !p.duration(w[3], s.within)) return false;
  }
  return p.no_more(w, 4);
}

// A wait reports what a watch registered: without one it could only time out.
bool wait_is_watched(StepParser& p, const Words& w, const Step& step) {
  const std::string& socket = std::get<WaitStep>(step.args).socket;
  if (p.watched().count(socket)) return true;
  const Readiness r = step.expected.readiness;
  const bool readable = (r & Readiness::readable) != Readiness::none;
  const bool writable = (r & Readiness::writable) != Readiness::none;
  const std::string_view interest = readable && writable ? "read|write"
                                    : writable           ? "write"
                                                         : "read";
  return p.fail(w[1].column,
                fmt::format("`{0}` is not watched: `watch {0} {1}` first", socket, interest));
}

// Runs everything until the socket's reports settle on the expected set ("none": until the time
// passes without a report). Transient states on the way are allowed; the last seen one is what a
// mismatch shows.
Mismatch run(ScriptRunner& r, const WaitStep& s, const Expected& want) {
  Watched& watched = r.socket_state(s.socket).watched;
  watched.last_report = Readiness::none;
  const std::uint64_t reports_before = watched.reports;
  const auto reported = [&] { return watched.reports != reports_before; };
  const Duration limit = r.scaled(s.within);
  if (want.kind == Kind::readiness && want.readiness == Readiness::none) {
    const Status ran = r.run_bounded(reported, limit);
    if (ran.code() == Errc::timed_out) return {};
    if (!ran) return Difference{"none", ran.error().message()};
    return Difference{
        "none", fmt::format("{} (reported within {})", watched.last_report, duration_text(limit))};
  }
  if (want.kind == Kind::error) {
    // The wait itself fails (select with a closed handle in its set).
    const Status ran = r.run_bounded([] { return false; }, limit);
    if (ran.code() == want.error) return {};
    return Difference{want.to_string(),
                      ran.code() == Errc::timed_out ? "the wait succeeded" : ran.error().message()};
  }
  const Status ran =
      r.run_bounded([&] { return reported() && watched.last_report == want.readiness; }, limit);
  if (ran) return {};
  if (ran.code() != Errc::timed_out) return Difference{want.to_string(), ran.error().message()};
  return Difference{want.to_string(),
                    reported() ? to_string(watched.last_report)
                               : fmt::format("no report within {}", duration_text(limit))};
}

constexpr ResultKinds kStatus = {Kind::ok, Kind::error};

constexpr Verb kSocketVerbs[] = {
    make_verb<SocketStep, parse, run>("socket", "socket NAME", kStatus),
    make_verb<ListenStep, parse, run>("listen", "listen NAME [backlog=N]", kStatus),
    make_verb<ConnectStep, parse, run>("connect", "connect SOCKET LISTENER|SERVER", kStatus),
    make_verb<AcceptStep, parse, run>("accept", "accept NEW_SOCKET LISTENER", kStatus),
    make_verb<SendStep, parse, run>("send", "send SOCKET \"text\"|SIZE",
                                    {Kind::ok, Kind::count, Kind::partial, Kind::error}),
    make_verb<FillStep, parse, run>("fill", "fill SOCKET", {Kind::count, Kind::ok, Kind::error}),
    make_verb<RecvStep, parse, run>("recv", "recv SOCKET [SIZE]",
                                    {Kind::text, Kind::eof, Kind::data, Kind::count, Kind::error}),
    make_verb<DrainStep, parse, run>("drain", "drain SOCKET [SIZE]",
                                     {Kind::count, Kind::ok, Kind::error}),
    make_verb<ShutdownStep, parse, run>("shutdown", "shutdown SOCKET read|write|both", kStatus),
    make_verb<CloseStep, parse, run>("close", "close SOCKET", kStatus),
    make_verb<AbortStep, parse, run>("abort", "abort SOCKET", kStatus),
    make_verb<SetBuffersStep, parse, run>("set", "set SOCKET sndbuf=SIZE rcvbuf=SIZE", kStatus),
    make_verb<FaultStep, parse, run>("fault", "fault SOCKET|all [KEY=VALUE...]", kStatus),
    make_verb<KernelStep, parse, run>("kernel", "kernel call_cost=DURATION", kStatus),
    make_verb<PendingErrorStep, parse, run>("pending_error", "pending_error SOCKET", kStatus),
    make_verb<WatchStep, parse, run>("watch", "watch SOCKET read|write|read|write [edge] [oneshot]",
                                     kStatus, watched),
    make_verb<WatchManyStep, parse, run>("watch_many", "watch_many COUNT", kStatus),
    make_verb<OpenUntilFdStep, parse, run>("open_until_fd", "open_until_fd FD as NAME", kStatus),
    make_verb<UnwatchStep, parse, run>("unwatch", "unwatch SOCKET", kStatus, unwatched),
    make_verb<WaitStep, parse, run>("wait", "wait SOCKET [within DURATION] -> READINESS",
                                    {Kind::readiness, Kind::error}, wait_is_watched,
                                    "wait must state the readiness it expects: wait c -> readable"),
};
static_assert(in_args_order(kSocketVerbs, 0));

}  // namespace

std::span<const Verb> socket_verbs() {
  return kSocketVerbs;
}

}  // namespace muxlab::script
