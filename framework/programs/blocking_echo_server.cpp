// blocking_echo_server: document 004's blocking server, in the blocking model.
//
// Accept a client, then recv and send back its messages upper-cased until it leaves; only then
// accept the next. While one client is connected, every other one waits, even if the connected
// one never says anything: the document's case for the other I/O models.
//
// Arguments: recv=1024, the size of each recv (a longer message comes in pieces, as in the
//            documents' recv(1024)); backlog=128, the listen backlog (how many connections may
//            wait to be accepted).
// Reply:     each message upper-cased ("hello" -> "HELLO").
// Output:    one line per client it is done with, in that order: "closed\n" when the client
//            closed its side (recv returned 0), "reset\n" when it was dropped because it aborted
//            (connection_reset or broken_pipe, as the document drops a failing connection).
#include <vector>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

Task<> blocking_echo_server(ProgramContext& context, Socket listener, std::size_t recv_size) {
  Scheduler& scheduler = context.scheduler;
  std::vector<std::byte> message(recv_size);
  for (;;) {
    const Result<Handle> accepted = co_await scheduler.accept(listener.handle());
    Socket client(scheduler, checked("accept", accepted));
    for (;;) {
      const Result<std::size_t> n = co_await scheduler.recv(client.handle(), std::span(message));
      if (!n && peer_went_away(n.error())) {
        context.output += "reset\n";
        break;
      }
      if (checked("recv", n) == 0) {
        context.output += "closed\n";
        break;
      }
      const std::string reply = to_upper(as_text(std::span(message).first(*n)));
      const Status sent = co_await scheduler.send_all(client.handle(), as_bytes(reply));
      if (!sent && peer_went_away(sent.error())) {
        context.output += "reset\n";
        break;
      }
      checked("send", sent);
    }
    client.close();
  }
}

}  // namespace

Result<Task<>> make_blocking_echo_server(ProgramContext& context, const ProgramArgs& args) {
  const Result<std::size_t> recv_size = recv_size_argument(args);
  if (!recv_size) return recv_size.error();
  Result<Socket> listener = listen_and_publish(context, args);
  if (!listener) return listener.error();
  return blocking_echo_server(context, std::move(listener).value(), *recv_size);
}

}  // namespace muxlab::programs
