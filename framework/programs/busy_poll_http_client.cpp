// busy_poll_http_client: document 003's non-blocking get_url, in the non-blocking (busy-polling)
// model.
//
// The socket never blocks and the program never waits for readiness: it starts the connect, then
// calls send until the request goes out and recv until the server closes, trying again at once
// whenever a call says "not yet". The document's point: it takes as long as the blocking client
// and burns CPU all the while. On the fake kernel every wasted call costs virtual time and shows
// in the call counts (would_block); on a real kernel each call still lets the other programs run.
//
// Arguments: server=<name> (required), requests=1.
// Request:   "GET / HTTP/1.1", Host and "Connection: close", a new connection for each.
// Output:    each response's body followed by '\n' ("OK\n").
#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

// What a call on a socket whose connect has not finished may say (Linux says would_block for a
// send, Windows not_connected): the document catches these and simply tries again.
bool not_yet(std::error_code code) {
  return code == Errc::would_block || code == Errc::in_progress ||
         code == Errc::already_in_progress || code == Errc::not_connected;
}

Task<std::string> get_by_busy_polling(Scheduler& scheduler, Handle h, Endpoint server) {
  const Status started = co_await scheduler.try_connect(h, server);
  if (!started && !not_yet(started.code())) fail("connect", started.error());

  const std::string request = http11_get(server);
  std::string_view unsent = request;
  while (!unsent.empty()) {
    const Result<std::size_t> sent = co_await scheduler.try_send(h, as_bytes(unsent));
    if (sent)
      unsent.remove_prefix(*sent);
    else if (!not_yet(sent.code()))
      fail("send", sent.error());
  }

  std::string response;
  std::byte buffer[1024];
  for (;;) {
    const Result<std::size_t> n = co_await scheduler.try_recv(h, buffer);
    if (!n && n.code() == Errc::would_block) continue;
    if (checked("recv", n) == 0) co_return response;
    response += as_text(std::span(buffer, *n));
  }
}

Task<> busy_poll_http_client(ProgramContext& context, Endpoint server, long long requests) {
  for (long long i = 0; i < requests; ++i) {
    Socket socket(context.scheduler, checked("socket", context.net().socket()));
    const std::string response =
        co_await get_by_busy_polling(context.scheduler, socket.handle(), server);
    socket.close();
    context.output += fmt::format("{}\n", http_body(response));
  }
}

}  // namespace

Result<Task<>> make_busy_poll_http_client(ProgramContext& context, const ProgramArgs& args) {
  const Result<Endpoint> server = server_argument(context, args);
  const Result<long long> requests = count_argument(args, "requests", 1);
  if (!server) return server.error();
  if (!requests) return requests.error();
  return busy_poll_http_client(context, *server, *requests);
}

}  // namespace muxlab::programs
