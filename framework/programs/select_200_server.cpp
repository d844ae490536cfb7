// select_200_server: document 001's second server, in the I/O multiplexing model (a readiness
// loop over a read list and a write list).
//
// The listener and every client whose request has not come yet are in the read list; a client
// whose request came moves to the write list, gets the answer when its socket is writable, and is
// closed. Nothing waits on one client, so the document's silent client no longer keeps the third
// client from its answer. Here each list membership is a watch(): read list = watched for read,
// write list = watched for write, and the scheduler's loop is the select loop.
//
// Arguments: backlog=128, the listen backlog (how many connections may wait to be accepted).
// Answer:    "HTTP/1.0 200 OK\r\n\r\n200 OK", then close. A client that closes without a word
//            is closed without an answer.
// Output:    the first line of each answered request, followed by '\n' ("GET / HTTP/1.0\n").
#include <map>

#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

constexpr std::string_view kAnswer = "HTTP/1.0 200 OK\r\n\r\n200 OK";

class Select200Server {
 public:
  Select200Server(ProgramContext& context, Socket listener)
      : context_(context), listener_(std::move(listener)), failure_(context.scheduler) {
    checked("watch", context_.scheduler.watch(listener_.handle(), Interest::read,
                                              [this](Readiness) { accept_client(); }));
  }

  // It serves until a socket call fails unexpectedly.
  Completion& failure() { return failure_; }

 private:
  struct Client {
    Socket socket;
    std::string request;
  };

  // The listener is readable: a client is waiting. It joins the read list.
  void accept_client() {
    const Result<Handle> accepted = context_.net().accept(listener_.handle());
    if (accepted.code() == Errc::would_block) return;
    if (!accepted) return failure_.fail("accept", accepted.error());
    const Handle h = *accepted;
    clients_.emplace(h, Client{Socket(context_.scheduler, h), {}});
    const Status watched =
        context_.scheduler.watch(h, Interest::read, [this, h](Readiness) { read_request(h); });
    if (!watched) failure_.fail("watch", watched.error());
  }

  // A client in the read list is readable: its request, or its leaving.
  void read_request(Handle h) {
    std::byte message[4096];
    const Result<std::size_t> n = context_.net().recv(h, message);
    if (n.code() == Errc::would_block) return;  // the report went stale: wait for the next
    if (!n) return failure_.fail("recv", n.error());
    if (*n == 0) {
      clients_.erase(h);  // unwatches and closes
      return;
    }
    clients_.at(h).request = as_text(std::span(message, *n));
    // Out of the read list, into the write list.
    const Status watched =
        context_.scheduler.watch(h, Interest::write, [this, h](Readiness) { answer(h); });
    if (!watched) failure_.fail("watch", watched.error());
  }

  // A client in the write list is writable: answer in one send, as the document does, and close.
  void answer(Handle h) {
    const Result<std::size_t> sent = context_.net().send(h, as_bytes(kAnswer));
    if (sent.code() == Errc::would_block) return;
    if (!sent) return failure_.fail("send", sent.error());
    if (*sent != kAnswer.size())
      return failure_.fail(
          fmt::format("send: only {} of the answer's {} bytes went out", *sent, kAnswer.size()));
    context_.output += fmt::format("{}\n", first_line(clients_.at(h).request));
    clients_.erase(h);  // unwatches and closes
  }

  ProgramContext& context_;
  Socket listener_;
  std::map<Handle, Client> clients_;
  Completion failure_;
};

}  // namespace

Result<Task<>> make_select_200_server(ProgramContext& context, const ProgramArgs& args) {
  return make_callback_server<Select200Server>(context, args);
}

}  // namespace muxlab::programs
