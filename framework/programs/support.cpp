#include "support.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "muxlab/format.hpp"

namespace muxlab::programs {

// --- failures ---------------------------------------------------------------------------------

void fail(std::string_view call, const Error& error) {
  fail(fmt::format("{}: {}", call, error.message()));
}

void fail(std::string failure) {
  throw std::runtime_error(failure);
}

void checked(std::string_view call, const Status& status) {
  if (!status) fail(call, status.error());
}

bool peer_went_away(const Error& error) {
  return error == Errc::connection_reset || error == Errc::broken_pipe;
}

// --- sockets ----------------------------------------------------------------------------------

Socket::Socket(Socket&& other) noexcept
    : scheduler_(other.scheduler_), handle_(std::exchange(other.handle_, invalid_handle)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (handle_ != invalid_handle) (void)scheduler_->net().close(release());
    scheduler_ = other.scheduler_;
    handle_ = std::exchange(other.handle_, invalid_handle);
  }
  return *this;
}

Socket::~Socket() {
  if (handle_ != invalid_handle) (void)scheduler_->net().close(release());
}

Handle Socket::release() {
  // not_registered when nothing watches it: that is fine, there is nothing to stop.
  (void)scheduler_->unwatch(handle_);
  return std::exchange(handle_, invalid_handle);
}

void Socket::close() {
  if (handle_ == invalid_handle) return;
  const Handle h = release();
  checked("close", scheduler_->net().close(h));
}

void Socket::abort() {
  if (handle_ == invalid_handle) return;
  const Handle h = release();
  checked("abort", scheduler_->net().abort(h));
}

Result<Socket> listen_and_publish(ProgramContext& context, const ProgramArgs& args) {
  const Result<long long> backlog = count_argument(args, "backlog", kDefaultListenBacklog);
  if (!backlog) return backlog.error();
  if (*backlog > kMostListenBacklog)
    return Error(Errc::invalid_argument,
                 fmt::format("backlog={}: expected at most {}, where Linux's default "
                             "net.core.somaxconn caps a listen backlog",
                             *backlog, kMostListenBacklog));
  Result<Handle> h = context.net().listen(Endpoint{}, static_cast<int>(*backlog));
  if (!h) return h.error();
  Socket listener(context.scheduler, *h);
  Result<Endpoint> at = context.net().local_endpoint(*h);
  if (!at) return at.error();
  context.endpoints[context.name] = *at;
  return listener;
}

Result<Endpoint> server_argument(const ProgramContext& context, const ProgramArgs& args) {
  Result<std::string> server = args.text("server", "");
  if (!server) return server.error();
  if (server->empty())
    return Error(Errc::invalid_argument,
                 "server=<name> is required: the script name of the server to connect to");
  return context.endpoint_of(*server);
}

Result<std::size_t> recv_size_argument(const ProgramArgs& args) {
  constexpr std::size_t kMost = std::size_t{64} << 20;
  Result<std::size_t> size = args.bytes("recv", kEchoRecvSize);
  if (size && (*size == 0 || *size > kMost))
    return Error(Errc::invalid_argument,
                 fmt::format("recv={}: expected a buffer size from 1 byte to 64MiB",
                             args.text("recv", "").value()));
  return size;
}

Result<long long> count_argument(const ProgramArgs& args, std::string_view key,
                                 long long fallback) {
  Result<long long> n = args.integer(key, fallback);
  if (n && *n < 1)
    return Error(Errc::invalid_argument, fmt::format("{}={}: expected at least 1", key, *n));
  return n;
}

Task<Socket> connect_to(ProgramContext& context, Endpoint server) {
  Socket socket(context.scheduler, checked("socket", context.net().socket()));
  const Status connected = co_await context.scheduler.connect(socket.handle(), server);
  checked("connect", connected);
  co_return socket;
}

Task<std::string> receive_until_eof(Scheduler& scheduler, Handle h) {
  std::string received;
  std::byte buffer[1024];
  for (;;) {
    const Result<std::size_t> n = co_await scheduler.recv(h, buffer);
    if (checked("recv", n) == 0) co_return received;
    received += as_text(std::span(buffer, *n));
  }
}

// --- callback programs ------------------------------------------------------------------------

void Completion::finish() {
  if (done_) return;
  done_ = true;
  wake();
}

void Completion::fail(std::string_view call, const Error& error) {
  fail(fmt::format("{}: {}", call, error.message()));
}

void Completion::fail(std::string failure) {
  if (done_) return;
  done_ = true;
  failure_ = std::move(failure);
  wake();
}

void Completion::throw_failure() const {
  if (!failure_.empty()) throw std::runtime_error(failure_);
}

void Completion::wake() {
  if (!waiter_) return;
  // The Scheduler has no public call that queues a suspended coroutine. A zero-length sleep's
  // awaiter does exactly that: it queues the coroutine, as the program running now (the one
  // whose callback finished the work), behind a timer that is due at once.
  Scheduler::SleepAwaiter(scheduler_, Duration::zero())
      .await_suspend(std::exchange(waiter_, std::coroutine_handle<>()));
}

// --- text and HTTP ----------------------------------------------------------------------------

std::string to_upper(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper;
}

std::string http11_get(Endpoint server) {
  return fmt::format("GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server);
}

bool has_complete_header(std::string_view request) {
  return request.find("\r\n\r\n") != std::string_view::npos;
}

std::string_view first_line(std::string_view text) {
  return text.substr(0, std::min(text.find("\r\n"), text.find('\n')));
}

std::string_view http_body(std::string_view response) {
  const std::size_t end_of_header = response.find("\r\n\r\n");
  return end_of_header == std::string_view::npos ? response : response.substr(end_of_header + 4);
}

}  // namespace muxlab::programs
