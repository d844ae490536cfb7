// selectors_echo_server: the selectors echo server of documents 002 and 004, in the I/O
// multiplexing model (a callback per handle).
//
// The listener's callback accepts and registers the new client with its own callback; the
// client's callback reads a message and sends back the reply at once. A client that closes or
// resets is unregistered and closed, and the others are served on.
//
// Arguments: recv=1024, the size of each recv (a longer message comes in pieces, as in the
//            documents' recv(1024)); backlog=128, the listen backlog (how many connections may
//            wait to be accepted).
// Reply:     each message upper-cased, with "_SB" after it ("hello" -> "HELLO_SB"), in one send.
// Output:    one line per client it is done with, in that order: "closed\n" when the client
//            closed its side (recv returned 0), "reset\n" when it was dropped because it aborted
//            (connection_reset or broken_pipe).
#include <map>
#include <vector>

#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

class SelectorsEchoServer {
 public:
  SelectorsEchoServer(ProgramContext& context, Socket listener, std::size_t recv_size)
      : context_(context),
        listener_(std::move(listener)),
        message_(recv_size),
        failure_(context.scheduler) {
    checked("watch", context_.scheduler.watch(listener_.handle(), Interest::read,
                                              [this](Readiness) { accept(); }));
  }

  // It serves until a socket call fails unexpectedly.
  Completion& failure() { return failure_; }

 private:
  void accept() {
    const Result<Handle> accepted = context_.net().accept(listener_.handle());
    if (accepted.code() == Errc::would_block) return;
    if (!accepted) return failure_.fail("accept", accepted.error());
    const Handle h = *accepted;
    clients_.emplace(h, Socket(context_.scheduler, h));
    const Status watched =
        context_.scheduler.watch(h, Interest::read, [this, h](Readiness) { read(h); });
    if (!watched) failure_.fail("watch", watched.error());
  }

  void read(Handle h) {
    const Result<std::size_t> n = context_.net().recv(h, std::span(message_));
    if (n.code() == Errc::would_block) return;  // the report went stale: wait for the next
    if (!n && peer_went_away(n.error())) return drop(h, "reset");
    if (!n) return failure_.fail("recv", n.error());
    if (*n == 0) return drop(h, "closed");
    const std::string reply = to_upper(as_text(std::span(message_).first(*n))) + "_SB";
    const Result<std::size_t> sent = context_.net().send(h, as_bytes(reply));
    if (!sent && peer_went_away(sent.error())) return drop(h, "reset");
    if (!sent) return failure_.fail("send", sent.error());
    if (*sent != reply.size())
      failure_.fail(
          fmt::format("send: only {} of the reply's {} bytes went out", *sent, reply.size()));
  }

  void drop(Handle h, std::string_view why) {
    context_.output += fmt::format("{}\n", why);
    clients_.erase(h);  // unregisters and closes
  }

  ProgramContext& context_;
  Socket listener_;
  std::vector<std::byte> message_;  // each recv's buffer
  std::map<Handle, Socket> clients_;
  Completion failure_;
};

}  // namespace

Result<Task<>> make_selectors_echo_server(ProgramContext& context, const ProgramArgs& args) {
  const Result<std::size_t> recv_size = recv_size_argument(args);
  if (!recv_size) return recv_size.error();
  return make_callback_server<SelectorsEchoServer>(context, args, *recv_size);
}

}  // namespace muxlab::programs
