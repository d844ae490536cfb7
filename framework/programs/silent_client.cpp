// silent_client: the document 001 client that connects and never says a word.
//
// It holds its connection open without sending anything: a blocking server that accepted it is
// stuck in recv, and every client behind it waits. After hold it closes; with hold=0 it stays
// until the server closes the connection (or resets it).
//
// Arguments: server=<name> (required), hold=0 (how long to stay connected; 0: until the server
//            closes).
// Output:    none: it never asks, so no server has anything to tell it.
#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

Task<> silent_client(ProgramContext& context, Endpoint server, Duration hold) {
  Scheduler& scheduler = context.scheduler;
  Socket socket = co_await connect_to(context, server);
  if (hold > Duration::zero()) {
    co_await scheduler.sleep(hold);
  } else {
    std::byte ignored[1024];
    for (;;) {
      const Result<std::size_t> n = co_await scheduler.recv(socket.handle(), ignored);
      if (!n && peer_went_away(n.error())) break;
      if (checked("recv", n) == 0) break;
    }
  }
  socket.close();
}

}  // namespace

Result<Task<>> make_silent_client(ProgramContext& context, const ProgramArgs& args) {
  const Result<Endpoint> server = server_argument(context, args);
  const Result<Duration> hold = args.duration("hold", Duration::zero());
  if (!server) return server.error();
  if (!hold) return hold.error();
  return silent_client(context, *server, *hold);
}

}  // namespace muxlab::programs
