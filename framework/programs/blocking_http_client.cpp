// blocking_http_client: document 000's synchronous client, in the blocking model.
//
// Each request connects, sends, and reads until the server closes the connection; only then
// does the next request start. Against delay_http_server the pauses therefore add up: the
// document's three requests took three seconds, one pause each.
//
// Arguments: server=<name> (required), requests=3.
// Request:   "GET / HTTP/1.0", a new connection for each.
// Output:    each response's body followed by '\n' ("OK\nOK\nOK\n").
#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

Task<> blocking_http_client(ProgramContext& context, Endpoint server, long long requests) {
  Scheduler& scheduler = context.scheduler;
  for (long long i = 0; i < requests; ++i) {
    Socket socket = co_await connect_to(context, server);
    const Status sent = co_await scheduler.send_all(socket.handle(), as_bytes(kHttp10Get));
    checked("send", sent);
    const std::string response = co_await receive_until_eof(scheduler, socket.handle());
    socket.close();
    context.output += fmt::format("{}\n", http_body(response));
  }
}

}  // namespace

Result<Task<>> make_blocking_http_client(ProgramContext& context, const ProgramArgs& args) {
  const Result<Endpoint> server = server_argument(context, args);
  const Result<long long> requests = count_argument(args, "requests", 3);
  if (!server) return server.error();
  if (!requests) return requests.error();
  return blocking_http_client(context, *server, *requests);
}

}  // namespace muxlab::programs
