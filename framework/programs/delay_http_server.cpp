// delay_http_server: document 000's server, in the asynchronous model (a coroutine per
// connection).
//
// The document's server answered every GET with "OK" after a one-second pause, inside an
// asynchronous handler: the pause suspends only that request, so many clients can wait out their
// pauses at the same time. That is what the document measured with its two clients: a blocking
// client needs three pauses for three requests, a multiplexing one about one.
//
// Arguments: delay=1s, the pause before each answer; backlog=128, the listen backlog (how many
//            connections may wait to be accepted).
// Answer:    "HTTP/1.0 200 OK", Content-Length 2, body "OK"; then the server closes the
//            connection (HTTP/1.0), which is how the clients know the answer is complete.
// Output:    the request line of each answered request, followed by '\n' ("GET / HTTP/1.0\n"),
//            in the order the answers went out.
// Each connection runs as its own program, named "<name>/<n>": a connection whose socket call
// fails ends only its own program, with the error, and the server goes on accepting.
#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

constexpr std::string_view kAnswer = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK";

// The request's header, or what came before the client stopped sending.
Task<std::string> receive_request(Scheduler& scheduler, Handle client) {
  std::string request;
  std::byte buffer[1024];
  while (!has_complete_header(request)) {
    const Result<std::size_t> n = co_await scheduler.recv(client, buffer);
    if (checked("recv", n) == 0) break;
    request += as_text(std::span(buffer, *n));
  }
  co_return request;
}

Task<> answer_after_delay(ProgramContext& context, Socket client, Duration delay) {
  Scheduler& scheduler = context.scheduler;
  const std::string request = co_await receive_request(scheduler, client.handle());
  if (request.empty()) co_return;  // it left without asking
  co_await scheduler.sleep(delay);
  const Status sent = co_await scheduler.send_all(client.handle(), as_bytes(kAnswer));
  checked("send", sent);
  client.close();
  context.output += fmt::format("{}\n", first_line(request));
}

Task<> delay_http_server(ProgramContext& context, Socket listener, Duration delay) {
  Scheduler& scheduler = context.scheduler;
  for (int connection = 1;; ++connection) {
    const Result<Handle> accepted = co_await scheduler.accept(listener.handle());
    Socket client(scheduler, checked("accept", accepted));
    scheduler.spawn(fmt::format("{}/{}", context.name, connection),
                    answer_after_delay(context, std::move(client), delay));
  }
}

}  // namespace

Result<Task<>> make_delay_http_server(ProgramContext& context, const ProgramArgs& args) {
  const Result<Duration> delay = args.duration("delay", std::chrono::seconds(1));
  if (!delay) return delay.error();
  Result<Socket> listener = listen_and_publish(context, args);
  if (!listener) return listener.error();
  return delay_http_server(context, std::move(listener).value(), *delay);
}

}  // namespace muxlab::programs
