// select_echo_server: the select echo server of documents 002 and 004, in the I/O multiplexing
// model (a readiness loop over a read list and a write list).
//
// The listener and every client are in the read list. What a client sends is upper-cased and
// queued, and the client joins the write list until the queue is sent. A client that resets is
// dropped and the others are served on. Here each list membership is a watch(): read list =
// watched for read, write list = watched for write, and the scheduler's loop is the select loop.
// A client that closes its sending side still gets the replies queued for it before it is
// closed.
//
// Arguments: recv=1024, the size of each recv (a longer message comes in pieces, as in the
//            documents' recv(1024)); backlog=128, the listen backlog (how many connections may
//            wait to be accepted).
// Reply:     each message upper-cased ("hello" -> "HELLO").
// Output:    one line per client it is done with, in that order: "closed\n" when the client
//            closed its side (recv returned 0) and its replies went out, "reset\n" when it was
//            dropped because it aborted (connection_reset or broken_pipe).
#include <map>
#include <vector>

#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

// Everything but a bare "writable" means a recv has something to say: data, EOF or an error.
constexpr Readiness kRecvHasNews =
    Readiness::readable | Readiness::read_closed | Readiness::write_closed | Readiness::error;

class SelectEchoServer {
 public:
  SelectEchoServer(ProgramContext& context, Socket listener, std::size_t recv_size)
      : context_(context),
        listener_(std::move(listener)),
        message_(recv_size),
        failure_(context.scheduler) {
    checked("watch", context_.scheduler.watch(listener_.handle(), Interest::read,
                                              [this](Readiness) { accept_client(); }));
  }

  // It serves until a socket call fails unexpectedly.
  Completion& failure() { return failure_; }

 private:
  struct Client {
    explicit Client(Socket s) : socket(std::move(s)) {}
    Socket socket;
    std::string queued;               // replies waiting for the socket to be writable
    bool finished = false;            // it closed its sending side: nothing more to read
    Interest lists = Interest::read;  // the lists it is in
  };

  void accept_client() {
    const Result<Handle> accepted = context_.net().accept(listener_.handle());
    if (accepted.code() == Errc::would_block) return;
    if (!accepted) return failure_.fail("accept", accepted.error());
    const Handle h = *accepted;
    clients_.emplace(h, Client(Socket(context_.scheduler, h)));
    const Status watched =
        context_.scheduler.watch(h, Interest::read, [this, h](Readiness r) { serve(h, r); });
    if (!watched) failure_.fail("watch", watched.error());
  }

  void serve(Handle h, Readiness readiness) {
    Client& client = clients_.at(h);
    if (!client.finished && any(readiness & kRecvHasNews)) {
      const Result<std::size_t> n = context_.net().recv(h, std::span(message_));
      if (!n && peer_went_away(n.error())) return drop(h, "reset");
      if (!n && n.code() != Errc::would_block) return failure_.fail("recv", n.error());
      if (n && *n == 0) client.finished = true;
      if (n && *n > 0) client.queued += to_upper(as_text(std::span(message_).first(*n)));
    }
    if (has(readiness, Readiness::writable) && !client.queued.empty()) {
      const Result<std::size_t> sent = context_.net().send(h, as_bytes(client.queued));
      if (!sent && peer_went_away(sent.error())) return drop(h, "reset");
      if (!sent && sent.code() != Errc::would_block) return failure_.fail("send", sent.error());
      if (sent) client.queued.erase(0, *sent);
    }
    if (client.finished && client.queued.empty()) return drop(h, "closed");

    // In the read list until it finishes sending, in the write list while replies wait.
    const Interest lists = (client.finished ? Interest::none : Interest::read) |
                           (client.queued.empty() ? Interest::none : Interest::write);
    if (lists == client.lists) return;
    client.lists = lists;
    const Status watched =
        context_.scheduler.watch(h, lists, [this, h](Readiness r) { serve(h, r); });
    if (!watched) failure_.fail("watch", watched.error());
  }

  void drop(Handle h, std::string_view why) {
    context_.output += fmt::format("{}\n", why);
    clients_.erase(h);  // unwatches and closes
  }

  ProgramContext& context_;
  Socket listener_;
  std::vector<std::byte> message_;  // each recv's buffer
  std::map<Handle, Client> clients_;
  Completion failure_;
};

}  // namespace

Result<Task<>> make_select_echo_server(ProgramContext& context, const ProgramArgs& args) {
  const Result<std::size_t> recv_size = recv_size_argument(args);
  if (!recv_size) return recv_size.error();
  return make_callback_server<SelectEchoServer>(context, args, *recv_size);
}

}  // namespace muxlab::programs
