// resetting_client: a client that aborts, as the documents' "violently disconnected" clients do.
//
// Connects, sends its message, and closes with SO_LINGER 0 at once, so the server sees a reset
// (RST) instead of an orderly end: its next recv or send on the connection fails with
// connection_reset. The documents' servers drop such a client and serve the others.
//
// Arguments: server=<name> (required), message=hello.
// Output:    none.
#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

Task<> resetting_client(ProgramContext& context, Endpoint server, std::string message) {
  Socket socket = co_await connect_to(context, server);
  const Status sent = co_await context.scheduler.send_all(socket.handle(), as_bytes(message));
  checked("send", sent);
  socket.abort();
}

}  // namespace

Result<Task<>> make_resetting_client(ProgramContext& context, const ProgramArgs& args) {
  const Result<Endpoint> server = server_argument(context, args);
  Result<std::string> message = args.text("message", "hello");
  if (!server) return server.error();
  if (!message) return message.error();
  return resetting_client(context, *server, std::move(message).value());
}

}  // namespace muxlab::programs
