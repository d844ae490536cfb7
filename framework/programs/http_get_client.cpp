// http_get_client: one GET, in the blocking model; what netcat did in document 001.
//
// Connects, sends "GET / HTTP/1.0" and reads the response until the server closes the
// connection.
//
// Arguments: server=<name> (required), show=body (body or size).
// Output:    show=body: the response's body followed by '\n' ("200 OK\n");
//            show=size: the body's length in bytes, as "<n> bytes\n" ("1048576 bytes\n").
#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

Task<> http_get_client(ProgramContext& context, Endpoint server, bool show_size) {
  Scheduler& scheduler = context.scheduler;
  Socket socket = co_await connect_to(context, server);
  const Status sent = co_await scheduler.send_all(socket.handle(), as_bytes(kHttp10Get));
  checked("send", sent);
  const std::string response = co_await receive_until_eof(scheduler, socket.handle());
  socket.close();
  const std::string_view body = http_body(response);
  context.output += show_size ? fmt::format("{} bytes\n", body.size()) : fmt::format("{}\n", body);
}

}  // namespace

Result<Task<>> make_http_get_client(ProgramContext& context, const ProgramArgs& args) {
  const Result<Endpoint> server = server_argument(context, args);
  const Result<std::string> show = args.text("show", "body");
  if (!server) return server.error();
  if (!show) return show.error();
  if (*show != "body" && *show != "size")
    return Error(Errc::invalid_argument, fmt::format("show={}: expected body or size", *show));
  return http_get_client(context, *server, *show == "size");
}

}  // namespace muxlab::programs
