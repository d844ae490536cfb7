// The fake kernel's system calls: argument checks, the errors each socket API gives, and the cost
// and counting of calls. What happens between sockets is loopback.cpp's business.
//
// The error rules follow Linux's tcp_sendmsg() and tcp_recvmsg(), checked against a real 6.x
// kernel: the first of recv, send or pending_error after a reset or a refused connect consumes the
// error; afterwards recv gives 0 and send broken_pipe. Winsock (the win32-select personality)
// leaves a reset connection unusable (WSAECONNRESET from every recv and send), says WSAESHUTDOWN
// on a shut direction, and WSAENOTCONN for data calls on a socket that never connected.
#include "fake_kernel.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "loopback.hpp"

namespace muxlab::fake {
namespace {

Error not_open(const char* call, Handle h) {
  return Error(Errc::bad_handle, fmt::format("{}: fd {} is not an open socket", call, h));
}

Error failure(Errc code, const char* call, Handle h, std::string_view why) {
  return Error(code, fmt::format("{} fd {}: {}", call, h, why));
}

// SO_ERROR is read once: whoever reads it first (recv, send, pending_error) clears it.
Error take_error(Socket& s, const char* call, Handle h) {
  return Error(s.take_error(), fmt::format("{} fd {}", call, h));
}

std::uint32_t stored_buffer_size(std::size_t requested, std::size_t minimum) {
  return static_cast<std::uint32_t>(
      std::max(std::min(requested, kMaxBufferRequest) * kBufferSizeDoubling, minimum));
}

}  // namespace

// Every call on a handle starts the same way: find its socket, or say the handle is not open.
template <class Fn>
auto FakeKernel::with_socket(Handle h, const char* call, Fn fn) -> decltype(fn(*socket_at(h))) {
  Socket* s = socket_at(h);
  if (s == nullptr) return not_open(call, h);
  return fn(*s);
}

template <class Fn>
auto FakeKernel::socket_call(Handle h, const char* call, Fn fn) -> decltype(fn(*socket_at(h))) {
  return system_call([&] { return with_socket(h, call, fn); });
}

FakeKernel::FakeKernel(const Personality& personality, KernelConfig config)
    : personality_(personality),
      config_(std::move(config)),
      random_(config_.seed),
      loopback_(std::make_unique<Loopback>(queue_, random_, config_, personality_)) {}

FakeKernel::~FakeKernel() = default;

Error FakeKernel::wait_past_the_end_of_time(Duration timeout) {
  return Error(Errc::invalid_argument,
               fmt::format("would wait past the end of virtual time (about {} years after the "
                           "kernel started) for a timeout of {} ns: nothing is scheduled and "
                           "nothing registered is ready",
                           kEndOfVirtualTime / std::chrono::years(1), timeout.count()));
}

// --- The cost and count of a call ------------------------------------------------------------

void FakeKernel::begin_call() {
  if (uncharged_) return;
  queue_.run_until(now() + config_.system_call_cost);
  ++counts_.calls;
  ++owner_counts_now_->calls;
  // Checked here, not in the call, because nearly every call has no such plan to draw for.
  if (spurious_wakeups_planned_ || config_.faults.spurious_wakeup > 0) inject_spurious_wakeups();
}

void FakeKernel::count_would_block() {
  if (uncharged_) return;
  ++counts_.would_block;
  ++owner_counts_now_->would_block;
}

void FakeKernel::count_empty_poll() {
  if (uncharged_) return;
  ++counts_.empty_polls;
  ++owner_counts_now_->empty_polls;
}

CallCounts FakeKernel::counts(Owner owner) const {
  const auto it = owner_counts_.find(owner);
  return it == owner_counts_.end() ? CallCounts{} : it->second;
}

// --- Opening, listening, connecting ----------------------------------------------------------

Socket* FakeKernel::socket_at(Handle h) const {
  return handles_.find(h);
}

Result<Handle> FakeKernel::open_socket(const char* call) {
  // Linux keeps a buffer size in an int; so does Socket (in 32 bits).
  constexpr std::size_t kLargest = std::numeric_limits<int>::max();
  for (const auto& [name, size] : {std::pair{"send_buffer_size", config_.send_buffer_size},
                                   std::pair{"receive_buffer_size", config_.receive_buffer_size}})
    if (size > kLargest)
      return Error(Errc::invalid_argument,
                   fmt::format("{}: KernelConfig::{} is {}, more than a socket buffer can be ({})",
                               call, name, size, kLargest));
  Socket& s = loopback_->create();
  const std::optional<Handle> h = handles_.allocate(s, config_.open_file_limit);
  if (!h) {
    loopback_->close(s, false);
    return Error(Errc::too_many_handles,
                 fmt::format("{}: every handle below the open-file limit ({}) is in use", call,
                             config_.open_file_limit));
  }
  s.handle = *h;
  return *h;
}

Result<Handle> FakeKernel::socket() {
  return system_call([&] { return open_socket("socket"); });
}

Result<Handle> FakeKernel::listen(Endpoint at, int backlog) {
  return system_call([&]() -> Result<Handle> {
    Result<Handle> h = open_socket("listen");
    if (!h) return h;
    Socket& s = *socket_at(*h);
    if (Status bound = loopback_->listen(s, at, backlog); !bound.ok()) {
      close_handle(*h, s, false);
      return bound.error();
    }
    return h;
  });
}

Status FakeKernel::connect(Handle h, Endpoint to) {
  return socket_call(h, "connect", [&](Socket& s) -> Status {
    if (s.state == TcpState::listening)
      return failure(Errc::already_connected, "connect", h, "is listening");
    switch (s.connect_call) {
      case ConnectCall::reported:
        return failure(Errc::already_connected, "connect", h, "is connected already");
      case ConnectCall::started:
        if (s.state == TcpState::connecting)
          return failure(Errc::already_in_progress, "connect", h, "is still connecting");
        if (s.state == TcpState::closed) {
          // The attempt failed: report why (or that it was aborted, if SO_ERROR was read), and
          // make the socket as good as new, as Linux's disconnect does.
          std::error_code why = s.take_error();
          if (!why) why = std::make_error_code(std::errc::connection_aborted);
          s.connect_call = ConnectCall::none;
          s.connect_failed = s.reset = s.read_shut = s.write_shut = s.peer_finished = false;
          return Error(why, fmt::format("connect fd {} to {}", h, to_string(s.setup->connect_to)));
        }
        // Linux reports a completed connect once with success; BSD and Winsock say EISCONN.
        s.connect_call = ConnectCall::reported;
        if (personality_.api != SocketApi::linux_sockets)
          return failure(Errc::already_connected, "connect", h, "is connected already");
        return {};
      case ConnectCall::none:
        break;
    }
    if (s.state != TcpState::closed)
      return failure(Errc::already_connected, "connect", h, "is connected already");
    loopback_->start_connect(s, to);
    s.connect_call = ConnectCall::started;
    // Always in progress, even on loopback, as every real kernel says.
    return Error(Errc::in_progress, fmt::format("connect fd {} to {}", h, to_string(to)));
  });
}

Result<Handle> FakeKernel::accept(Handle listener) {
  return socket_call(listener, "accept", [&](Socket& s) -> Result<Handle> {
    if (s.state != TcpState::listening)
      return failure(Errc::invalid_argument, "accept", listener, "is not listening");
    s.spurious_readable = false;
    if (s.setup->accept_queue.empty())
      return Error(Errc::would_block, fmt::format("accept fd {}", listener));
    Socket* server = loopback_->find(s.setup->accept_queue.front());
    const std::optional<Handle> h = handles_.allocate(*server, config_.open_file_limit);
    if (!h)
      return Error(Errc::too_many_handles,
                   fmt::format("accept fd {}: every handle below the open-file limit ({}) is in "
                               "use; the connection stays queued",
                               listener, config_.open_file_limit));
    s.setup->accept_queue.pop_front();
    server->setup->queued_in = kNoSocket;
    server->handle = *h;
    return *h;
  });
}

// --- Sending and receiving -------------------------------------------------------------------

// Why send() cannot take data at all, if it cannot.
std::optional<Error> FakeKernel::send_refusal(Socket& s, Handle h) {
  if (personality_.api == SocketApi::winsock) {
    // Winsock leaves a reset connection unusable: every call says so, SO_ERROR aside.
    if (s.reset) return failure(Errc::connection_reset, "send", h, "the connection was reset");
    if (!s.was_connected) return failure(Errc::not_connected, "send", h, "is not connected");
    if (s.write_shut) return failure(Errc::shut_down, "send", h, "was shut down for sending");
    return std::nullopt;
  }
  if (s.state == TcpState::listening) return failure(Errc::broken_pipe, "send", h, "is listening");
  if (s.has_error()) return take_error(s, "send", h);
  if (s.state == TcpState::connecting)
    return failure(Errc::would_block, "send", h, "the connect has not completed");
  if (s.state != TcpState::established)
    return failure(Errc::broken_pipe, "send", h, "is not connected");
  if (s.write_shut) return failure(Errc::broken_pipe, "send", h, "was shut down for sending");
  return std::nullopt;
}

Result<std::size_t> FakeKernel::send(Handle h, std::span<const std::byte> data) {
  return socket_call(h, "send", [&](Socket& s) -> Result<std::size_t> {
    if (auto refused = send_refusal(s, h)) return *refused;
    if (data.empty()) return std::size_t{0};
    std::size_t n = std::min(data.size(), s.send_room());
    if (n == 0) {
      s.nospace = true;
      return failure(Errc::would_block, "send", h, "the send buffer is full");
    }
    const FaultPlan& faults = loopback_->faults_of(s);
    if (n > 1 && random_.chance(faults.short_send))
      n = 1 + static_cast<std::size_t>(random_.below(n - 1));
    bool breaks = false;
    if (faults.reset_after_bytes) {
      const std::uint64_t left =
          *faults.reset_after_bytes - std::min(*faults.reset_after_bytes, s.bytes_sent);
      if (left == 0) {
        loopback_->break_connection(s);
        return *send_refusal(s, h);
      }
      if (n >= left) {
        n = static_cast<std::size_t>(left);
        breaks = true;
      }
    }
    if (n < data.size()) s.nospace = true;  // it had to stop for room: wake it when there is
    s.unacknowledged.append(data.first(n));
    s.bytes_sent += n;
    loopback_->transmit(s);
    if (breaks) loopback_->break_connection(s);
    return n;
  });
}

// recv() found no bytes: end of stream, an error, or would_block.
Result<std::size_t> FakeKernel::recv_without_data(Socket& s, Handle h) {
  if (personality_.api == SocketApi::winsock) {
    if (s.reset) return failure(Errc::connection_reset, "recv", h, "the connection was reset");
    if (s.peer_finished) return std::size_t{0};
    if (!s.was_connected) return failure(Errc::not_connected, "recv", h, "is not connected");
    if (s.read_shut) return failure(Errc::shut_down, "recv", h, "was shut down for receiving");
    return Error(Errc::would_block, fmt::format("recv fd {}", h));
  }
  // tcp_recvmsg()'s order: the peer's FIN first, then SO_ERROR, then the local shutdown.
  if (s.peer_finished) return std::size_t{0};
  if (s.has_error()) return take_error(s, "recv", h);
  if (s.read_shut) return std::size_t{0};
  if (s.state == TcpState::closed)
    return failure(Errc::not_connected, "recv", h, "is not connected");
  return Error(Errc::would_block, fmt::format("recv fd {}", h));
}

Result<std::size_t> FakeKernel::recv(Handle h, std::span<std::byte> into) {
  return socket_call(h, "recv", [&](Socket& s) -> Result<std::size_t> {
    if (s.state == TcpState::listening)
      return failure(Errc::not_connected, "recv", h, "is listening");
    s.spurious_readable = false;
    if (into.empty()) return std::size_t{0};
    if (s.received.empty()) return recv_without_data(s, h);
    const std::size_t n = s.received.take(into);
    loopback_->window_opened(s);
    return n;
  });
}

Result<std::size_t> FakeKernel::peek(Handle h, std::span<std::byte> into) {
  return socket_call(h, "recv", [&](Socket& s) -> Result<std::size_t> {
    if (s.state == TcpState::listening)
      return failure(Errc::not_connected, "recv", h, "is listening");
    if (into.empty()) return std::size_t{0};
    if (s.received.empty()) return recv_without_data(s, h);
    const std::span<const std::byte> front = s.received.front(into.size());
    std::memcpy(into.data(), front.data(), front.size());
    return front.size();
  });
}

// --- Shutting and closing --------------------------------------------------------------------

Status FakeKernel::shutdown(Handle h, Direction d) {
  return socket_call(h, "shutdown", [&](Socket& s) -> Status {
    const bool read = (static_cast<int>(d) & static_cast<int>(Direction::read)) != 0;
    const bool write = (static_cast<int>(d) & static_cast<int>(Direction::write)) != 0;
    switch (s.state) {
      case TcpState::listening:
        if (read) loopback_->stop_listening(s);
        return {};
      case TcpState::connecting:
        loopback_->abandon_connect(s);
        s.wake(Wakeup::state_changed);
        return {};
      case TcpState::closed:
        // Linux sets the bits anyway (so pollers see the hang-up) and says ENOTCONN.
        s.read_shut = s.read_shut || read;
        s.write_shut = s.write_shut || write;
        s.wake(Wakeup::state_changed);
        return failure(Errc::not_connected, "shutdown", h, "is not connected");
      case TcpState::established:
        break;
    }
    if (read) s.read_shut = true;
    if (write && !s.write_shut) {
      s.write_shut = true;
      loopback_->transmit(s);  // the FIN follows whatever is still queued
    }
    s.wake(read && write ? Wakeup::state_changed : read ? Wakeup::receive_shut : Wakeup::send_shut);
    return {};
  });
}

void FakeKernel::close_handle(Handle h, Socket& s, bool abortive) {
  handles_.release(h);
  s.handle = invalid_handle;
  s.spurious_readable = false;
  for (Watcher* w : s.watchers.take_all())
    w->on_closed();
  loopback_->close(s, abortive);  // may forget s
}

Status FakeKernel::close(Handle h) {
  return socket_call(h, "close", [&](Socket& s) -> Status {
    close_handle(h, s, false);
    return {};
  });
}

Status FakeKernel::abort(Handle h) {
  return socket_call(h, "abort", [&](Socket& s) -> Status {
    close_handle(h, s, true);
    return {};
  });
}

// --- Options ---------------------------------------------------------------------------------

Result<std::error_code> FakeKernel::pending_error(Handle h) {
  return socket_call(h, "pending_error", [&](Socket& s) -> Result<std::error_code> {
    std::error_code error = s.take_error();
    // Winsock has no EPIPE: a reset after the peer's FIN is still a reset there.
    if (personality_.api == SocketApi::winsock && error == Errc::broken_pipe)
      error = make_error_code(Errc::connection_reset);
    return error;
  });
}

Status FakeKernel::set_send_buffer(Handle h, std::size_t bytes) {
  return socket_call(h, "set_send_buffer", [&](Socket& s) -> Status {
    s.send_buffer_size = stored_buffer_size(bytes, kMinSendBufferSize);
    if (s.nospace && s.has_send_space()) {
      s.nospace = false;
      s.wake(Wakeup::writable);
    }
    return {};
  });
}

Status FakeKernel::set_receive_buffer(Handle h, std::size_t bytes) {
  return socket_call(h, "set_receive_buffer", [&](Socket& s) -> Status {
    s.receive_buffer_size = stored_buffer_size(bytes, kMinReceiveBufferSize);
    loopback_->window_opened(s);
    return {};
  });
}

Result<std::size_t> FakeKernel::send_buffer(Handle h) {
  return socket_call(h, "send_buffer",
                     [&](Socket& s) -> Result<std::size_t> { return s.send_buffer_size; });
}

Result<Endpoint> FakeKernel::local_endpoint(Handle h) {
  return socket_call(h, "local_endpoint",
                     [&](Socket& s) -> Result<Endpoint> { return s.setup->local; });
}

Result<Endpoint> FakeKernel::peer_endpoint(Handle h) {
  return socket_call(h, "peer_endpoint", [&](Socket& s) -> Result<Endpoint> {
    if (const Socket* peer = loopback_->find(s.peer); peer != nullptr && s.was_connected)
      return peer->setup->local;
    return Error(Errc::not_connected, fmt::format("peer_endpoint: fd {} is not connected", h));
  });
}

// --- Faults ----------------------------------------------------------------------------------

void FakeKernel::reseed(std::uint64_t seed) {
  config_.seed = seed;
  random_ = SeededRandom(seed);
}

Status FakeKernel::set_faults(Handle h, const FaultPlan& plan) {
  return with_socket(h, "set_faults", [&](Socket& s) -> Status {
    s.faults = std::make_unique<FaultPlan>(plan);
    if (plan.spurious_wakeup > 0) spurious_wakeups_planned_ = true;
    return {};
  });
}

Status FakeKernel::reset_at(Handle h, Time at) {
  return with_socket(h, "reset_at", [&](Socket& s) -> Status {
    queue_.schedule(at, [this, id = s.id] {
      if (Socket* target = loopback_->find(id)) loopback_->break_connection(*target);
    });
    return {};
  });
}

Status FakeKernel::inject_spurious_wakeup(Handle h) {
  return with_socket(h, "inject_spurious_wakeup", [&](Socket& s) -> Status {
    s.spurious_readable = true;
    s.wake(Wakeup::readable);
    return {};
  });
}

// Each call gives every socket whose plan asks for spurious wake-ups one draw, in socket order, so
// the same calls give the same wake-ups. Only a socket that is not readable anyway can get one.
// begin_call() calls it only when some plan asks for spurious wake-ups.
void FakeKernel::inject_spurious_wakeups() {
  loopback_->for_each_socket([&](Socket& s) {
    const double chance = loopback_->faults_of(s).spurious_wakeup;
    if (chance <= 0 || s.handle == invalid_handle || s.spurious_readable) return;
    if (s.state != TcpState::established && s.state != TcpState::listening) return;
    if (!s.received.empty() || !s.setup->accept_queue.empty() || s.read_shut) return;
    if (!random_.chance(chance)) return;
    s.spurious_readable = true;
    s.wake(Wakeup::readable);
  });
}

// --- For the backends ------------------------------------------------------------------------

void FakeKernel::watch(Socket& s, Watcher* watcher) {
  s.watchers.add(watcher);
}

void FakeKernel::unwatch(Socket& s, Watcher* watcher) {
  s.watchers.remove(watcher);
}

}  // namespace muxlab::fake
