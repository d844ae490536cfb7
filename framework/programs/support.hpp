#pragma once
// What the built-in programs share: failures that name the call, a socket that closes itself,
// a place where a callback program's coroutine waits for its callbacks, and the few text and
// HTTP helpers the documents' programs need. Internal to framework/programs/.
#include <coroutine>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "muxlab/program.hpp"

namespace muxlab::programs {

// --- failures ---------------------------------------------------------------------------------

// A socket call that fails unexpectedly ends the program: the scheduler records what the
// exception says as the program's failure, e.g. "recv: connection_reset: recv fd 7".
[[noreturn]] void fail(std::string_view call, const Error& error);
// The same for a failure that is no error code, e.g. "send: only 3 of the reply's 8 bytes went
// out".
[[noreturn]] void fail(std::string failure);

template <class T>
T checked(std::string_view call, Result<T> result) {
  if (!result) fail(call, result.error());
  return std::move(result).value();
}
void checked(std::string_view call, const Status& status);

// The peer aborted (RST) or is already gone. The documents drop such a client and go on.
bool peer_went_away(const Error& error);

// --- sockets ----------------------------------------------------------------------------------

// An open socket that belongs to a program. It is closed however the program ends: normally, by
// an exception, or because the scheduler is destroyed with the program still running. Closing
// stops watching it first, so no callback outlives the state it points into.
class Socket {
 public:
  Socket() = default;
  Socket(Scheduler& scheduler, Handle handle) : scheduler_(&scheduler), handle_(handle) {}
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  Handle handle() const { return handle_; }

  // Closes now (FIN: the peer reads what was sent, then EOF). Throws on failure, so call it from
  // a coroutine; callbacks, which must not throw, let the destructor close quietly instead.
  void close();
  // Closes with SO_LINGER 0: the peer sees a reset (RST) instead of an orderly end.
  void abort();

 private:
  // Stops watching the handle and hands it over; the Socket owns nothing afterwards.
  Handle release();

  Scheduler* scheduler_ = nullptr;
  Handle handle_ = invalid_handle;
};

// A server's listener on 127.0.0.1 at a port the system picks, published in
// context.endpoints under the program's script name, so clients find it with server=<name>.
// Servers listen when they are made, so the endpoint exists as soon as the script starts them.
// Every server takes backlog=N, the listen backlog: Linux queues N + 1 connections that the
// server has not accepted yet and drops the SYN of the next one, whose connect then waits for
// the SYN to be sent again, a second later. A flow that connects more clients at once than the
// server accepts must say how many may queue.
Result<Socket> listen_and_publish(ProgramContext& context, const ProgramArgs& args);
inline constexpr int kDefaultListenBacklog = 128;
// Linux clamps a listen backlog to net.core.somaxconn, 4096 by default, and so does the fake
// kernel: a larger number would not mean what the script says.
inline constexpr int kMostListenBacklog = 4096;

// The size of each recv an echo server makes, recv=SIZE: the documents' servers call
// recv(1024), so a longer message comes in pieces (and the selectors server answers each piece
// with its own "_SB"). From 1 byte to 64MiB, as a script's own recv step takes.
inline constexpr std::size_t kEchoRecvSize = 1024;
Result<std::size_t> recv_size_argument(const ProgramArgs& args);

// The endpoint of the server named by the required argument server=<its script name>.
Result<Endpoint> server_argument(const ProgramContext& context, const ProgramArgs& args);

// A whole-number argument that must be at least 1 (requests=3, count=20).
Result<long long> count_argument(const ProgramArgs& args, std::string_view key, long long fallback);

// Blocking-style: a connected socket, or the program fails naming connect.
Task<Socket> connect_to(ProgramContext& context, Endpoint server);
// Blocking-style: recv until the peer closes; everything it sent.
Task<std::string> receive_until_eof(Scheduler& scheduler, Handle h);

// --- callback programs ------------------------------------------------------------------------

// Where the coroutine of a callback-style program waits while its callbacks do the work:
// `co_await completion;` returns once a callback calls finish(), and throws what a callback
// passed to fail(). Callbacks report failures this way because they must not throw: an
// exception would leave the scheduler's loop instead of ending this one program.
class Completion {
 public:
  explicit Completion(Scheduler& scheduler) : scheduler_(scheduler) {}
  // One place to wait and to be woken: a copy would wait where no callback wakes it.
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  void finish();
  void fail(std::string_view call, const Error& error);
  void fail(std::string failure);

  // co_await completion: returns once finished; throws the failure. The awaiter is a separate
  // object that refers to this one, because GCC 12 awaits a copy of an awaitable that a function
  // returns by reference (co_await server.failure()), and the copy would never be woken.
  auto operator co_await() & noexcept {
    struct Awaiter {
      Completion& completion;
      bool await_ready() const noexcept { return completion.done_; }
      void await_suspend(std::coroutine_handle<> waiter) noexcept { completion.waiter_ = waiter; }
      void await_resume() const { completion.throw_failure(); }
    };
    return Awaiter{*this};
  }

 private:
  void wake();
  void throw_failure() const;

  Scheduler& scheduler_;
  bool done_ = false;
  std::string failure_;  // empty when finished normally
  std::coroutine_handle<> waiter_;
};

// A callback-style server: `Server(context, listener, extra...)` registers its callbacks and
// serves until one of them fails (its failure() Completion). It listens (with the backlog from
// `args`) and publishes when made, so clients started next find it.
template <class Server, class... Extra>
Task<> serve_until_failure(ProgramContext& context, Socket listener, Extra... extra) {
  Server server(context, std::move(listener), extra...);
  co_await server.failure();
}

template <class Server, class... Extra>
Result<Task<>> make_callback_server(ProgramContext& context, const ProgramArgs& args,
                                    Extra... extra) {
  Result<Socket> listener = listen_and_publish(context, args);
  if (!listener) return listener.error();
  return serve_until_failure<Server>(context, std::move(listener).value(), extra...);
}

// --- text and HTTP ----------------------------------------------------------------------------

inline std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
std::string to_upper(std::string_view text);

// The documents' requests: HTTP/1.0 (documents 000 and 001), and HTTP/1.1 asking the server to
// close the connection after the answer (document 003).
inline constexpr std::string_view kHttp10Get = "GET / HTTP/1.0\r\n\r\n";
std::string http11_get(Endpoint server);

// A request is complete at the blank line that ends its header.
bool has_complete_header(std::string_view request);
// The first line, without its line end: "GET / HTTP/1.0".
std::string_view first_line(std::string_view text);
// What follows the header's blank line; the whole text when there is no header.
std::string_view http_body(std::string_view response);

}  // namespace muxlab::programs
