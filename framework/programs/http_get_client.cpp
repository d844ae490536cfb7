// http_get_client: one GET, in the blocking model; what netcat did in document 001.
//
// Connects, sends "GET / HTTP/1.0" and reads the response until the server closes the
// connection.
//
// Arguments: server=<name> (required), show=body (body, size or sha256).
// Output:    show=body: the response's body followed by '\n' ("200 OK\n");
//            show=size: the body's length in bytes, as "<n> bytes\n" ("1048576 bytes\n");
//            show=sha256: the SHA-256 of the body, 64 lower-case hex digits and '\n', as
//            sha256sum prints it. The body, not the whole response: it is what the server
//            generates, so a script can compute the digest from the server's description
//            without depending on how its header is spelled; one line then states that a
//            large answer arrived whole and in order.
#include <fmt/format.h>

#include "programs.hpp"
#include "sha256.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

enum class Show { body, size, sha256 };

Task<> http_get_client(ProgramContext& context, Endpoint server, Show show) {
  Scheduler& scheduler = context.scheduler;
  Socket socket = co_await connect_to(context, server);
  const Status sent = co_await scheduler.send_all(socket.handle(), as_bytes(kHttp10Get));
  checked("send", sent);
  const std::string response = co_await receive_until_eof(scheduler, socket.handle());
  socket.close();
  const std::string_view body = http_body(response);
  switch (show) {
    case Show::body:
      context.output += fmt::format("{}\n", body);
      break;
    case Show::size:
      context.output += fmt::format("{} bytes\n", body.size());
      break;
    case Show::sha256:
      context.output += fmt::format("{}\n", Sha256::hex_of(body));
      break;
  }
}

}  // namespace

Result<Task<>> make_http_get_client(ProgramContext& context, const ProgramArgs& args) {
  const Result<Endpoint> server = server_argument(context, args);
  const Result<std::string> show = args.text("show", "body");
  if (!server) return server.error();
  if (!show) return show.error();
  Show what = Show::body;
  if (*show == "size")
    what = Show::size;
  else if (*show == "sha256")
    what = Show::sha256;
  else if (*show != "body")
    return Error(Errc::invalid_argument,
                 fmt::format("show={}: expected body, size or sha256", *show));
  return http_get_client(context, *server, what);
}

}  // namespace muxlab::programs
