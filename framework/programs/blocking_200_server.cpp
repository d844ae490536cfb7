// blocking_200_server: document 001's first server, in the blocking model.
//
// One client at a time: accept, one recv of up to 4096 bytes, send the answer if the client
// said anything, close, and only then accept the next. The document's test: a client that
// connects and stays silent holds the server in that recv, so a third client that does send a
// request gets no answer until the silent one leaves.
//
// Arguments: backlog=128, the listen backlog (how many connections may wait to be accepted).
// Answer:    "HTTP/1.0 200 OK\r\n\r\n200 OK", then close. A client that closes without a word
//            is closed without an answer.
// Output:    the first line of each answered request, followed by '\n' ("GET / HTTP/1.0\n").
#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

constexpr std::string_view kAnswer = "HTTP/1.0 200 OK\r\n\r\n200 OK";

Task<> blocking_200_server(ProgramContext& context, Socket listener) {
  Scheduler& scheduler = context.scheduler;
  std::byte message[4096];
  for (;;) {
    const Result<Handle> accepted = co_await scheduler.accept(listener.handle());
    Socket client(scheduler, checked("accept", accepted));
    const Result<std::size_t> n = co_await scheduler.recv(client.handle(), message);
    if (checked("recv", n) > 0) {
      const Status sent = co_await scheduler.send_all(client.handle(), as_bytes(kAnswer));
      checked("send", sent);
      context.output += fmt::format("{}\n", first_line(as_text(std::span(message, *n))));
    }
    client.close();
  }
}

}  // namespace

Result<Task<>> make_blocking_200_server(ProgramContext& context, const ProgramArgs& args) {
  Result<Socket> listener = listen_and_publish(context, args);
  if (!listener) return listener.error();
  return blocking_200_server(context, std::move(listener).value());
}

}  // namespace muxlab::programs
