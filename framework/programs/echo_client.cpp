// echo_client: a client for the echo servers, in the blocking model.
//
// Connects, sends its message, closes its sending side (so the server sees EOF once it has read
// the message), and reads the replies until the server closes the connection.
//
// Arguments: server=<name> (required), message=hello.
// Output:    everything the server sent back, as received ("HELLO", "HELLO_SB").
#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

Task<> echo_client(ProgramContext& context, Endpoint server, std::string message) {
  Scheduler& scheduler = context.scheduler;
  Socket socket = co_await connect_to(context, server);
  const Status sent = co_await scheduler.send_all(socket.handle(), as_bytes(message));
  checked("send", sent);
  checked("shutdown", context.net().shutdown(socket.handle(), Direction::write));
  context.output += co_await receive_until_eof(scheduler, socket.handle());
  socket.close();
}

}  // namespace

Result<Task<>> make_echo_client(ProgramContext& context, const ProgramArgs& args) {
  const Result<Endpoint> server = server_argument(context, args);
  Result<std::string> message = args.text("message", "hello");
  if (!server) return server.error();
  if (!message) return message.error();
  return echo_client(context, *server, std::move(message).value());
}

}  // namespace muxlab::programs
