// busy_poll_echo_server: document 004's non-blocking server, in the non-blocking (busy-polling)
// model.
//
// Nothing ever waits for readiness. The loop tries to accept; when no client is waiting, it
// tries a recv on every connection in its list, and sends back what one returned, upper-cased.
// One thread serves everybody, at the price of a loop that never rests: on the fake kernel its
// wasted calls cost virtual time and show in the call counts (would_block).
//
// Arguments: recv=1024, the size of each recv (a longer message comes in pieces, as in the
//            documents' recv(1024)); backlog=128, the listen backlog (how many connections may
//            wait to be accepted).
// Reply:     each message upper-cased ("hello" -> "HELLO"), in one send.
// Output:    one line per client it is done with, in that order: "closed\n" when the client
//            closed its side (recv returned 0), "reset\n" when it was dropped because it aborted
//            (connection_reset or broken_pipe; the document drops it from the list on
//            ConnectionResetError).
#include <list>
#include <vector>

#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

// One poll of one client: a recv into `message`, and the reply to what it returned. Says why
// the client is done ("closed" or "reset"), or nothing while it stays.
Task<std::string_view> poll_client(Scheduler& scheduler, Handle client,
                                   std::span<std::byte> message) {
  const Result<std::size_t> n = co_await scheduler.try_recv(client, message);
  if (n.code() == Errc::would_block) co_return "";
  if (!n && peer_went_away(n.error())) co_return "reset";
  if (checked("recv", n) == 0) co_return "closed";
  const std::string reply = to_upper(as_text(message.first(*n)));
  const Result<std::size_t> sent = co_await scheduler.try_send(client, as_bytes(reply));
  if (!sent && peer_went_away(sent.error())) co_return "reset";
  if (checked("send", sent) != reply.size())
    fail(fmt::format("send: only {} of the reply's {} bytes went out", *sent, reply.size()));
  co_return "";
}

Task<> busy_poll_echo_server(ProgramContext& context, Socket listener, std::size_t recv_size) {
  Scheduler& scheduler = context.scheduler;
  std::list<Socket> connections;
  // One buffer for every poll, so a loop that never rests does not allocate each time round.
  std::vector<std::byte> message(recv_size);
  for (;;) {
    const Result<Handle> accepted = co_await scheduler.try_accept(listener.handle());
    if (accepted) {
      connections.emplace_back(scheduler, *accepted);
      continue;
    }
    if (accepted.code() != Errc::would_block) fail("accept", accepted.error());

    // Nobody is waiting to connect: use the time to poll every connection once.
    for (auto client = connections.begin(); client != connections.end();) {
      const std::string_view ended = co_await poll_client(scheduler, client->handle(), message);
      if (ended.empty()) {
        ++client;
        continue;
      }
      context.output += fmt::format("{}\n", ended);
      client->close();
      client = connections.erase(client);
    }
  }
}

}  // namespace

Result<Task<>> make_busy_poll_echo_server(ProgramContext& context, const ProgramArgs& args) {
  const Result<std::size_t> recv_size = recv_size_argument(args);
  if (!recv_size) return recv_size.error();
  Result<Socket> listener = listen_and_publish(context, args);
  if (!listener) return listener.error();
  return busy_poll_echo_server(context, std::move(listener).value(), *recv_size);
}

}  // namespace muxlab::programs
