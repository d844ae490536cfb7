// epoll_partial_send_server: document 002's epoll server, in the I/O multiplexing model (one
// registration per connection whose interest follows the conversation).
//
// A connection is registered for readable while its request comes in, until the blank line that
// ends the header (or the client's EOF after some bytes). Then it is registered for writable,
// and each writable report sends as much of the large answer as the socket takes, keeping count
// of the bytes written, until all of it is out. Then the server shuts down its sending side and
// waits for the client to hang up. Whenever a report says the connection is gone (hang-up or
// error), or a call finds the peer reset, the connection is unregistered and closed at once.
// The document's code is damaged in places; this is its evident intent.
//
// Arguments: size=1MiB, the answer's body (at most 64MiB); sndbuf=0, SO_SNDBUF for each
//            accepted socket (0 leaves the system's): a small one (sndbuf=4096) makes partial sends
//            certain; backlog=128, the listen backlog (how many connections may wait to be
//            accepted).
// Answer:    "HTTP/1.0 200 OK", Content-Length, then `size` bytes "abc...xyzabc...", which show a
//            lost or reordered piece.
// Output:    one line per connection, when the server is done with it:
//              "answered <size> bytes in partial sends\n" when two or more sends took only part
//                  of what was left (the document's point);
//              "answered <size> bytes\n" when fewer did;
//              "hang-up\n" when the connection ended before its answer was out.
#include <map>

#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

// EPOLLHUP and EPOLLERR: the connection is gone, whatever we were waiting for. A read_closed
// alone is not: the client only finished sending, and still reads the answer.
constexpr Readiness kGone = Readiness::write_closed | Readiness::error;

std::string large_answer(std::size_t size) {
  std::string answer = fmt::format("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", size);
  const std::size_t header = answer.size();
  answer.resize(header + size);
  for (std::size_t i = 0; i < size; ++i)
    answer[header + i] = static_cast<char>('a' + i % 26);
  return answer;
}

class EpollPartialSendServer {
 public:
  EpollPartialSendServer(ProgramContext& context, Socket listener, std::size_t size,
                         std::size_t sndbuf)
      : context_(context),
        listener_(std::move(listener)),
        size_(size),
        answer_(large_answer(size)),
        sndbuf_(sndbuf),
        failure_(context.scheduler) {
    checked("watch", context_.scheduler.watch(listener_.handle(), Interest::read,
                                              [this](Readiness) { accept(); }));
  }

  // It serves until a socket call fails unexpectedly.
  Completion& failure() { return failure_; }

 private:
  enum class Stage { request, answer, answered };  // answered: waiting for the hang-up
  struct Connection {
    explicit Connection(Socket s) : socket(std::move(s)) {}
    Socket socket;
    Stage stage = Stage::request;
    std::string request;
    std::size_t written = 0;  // bytes of the answer sent so far
    int partial_sends = 0;    // sends that took only part of what was left
  };

  void accept() {
    const Result<Handle> accepted = context_.net().accept(listener_.handle());
    if (accepted.code() == Errc::would_block) return;
    if (!accepted) return failure_.fail("accept", accepted.error());
    const Handle h = *accepted;
    connections_.emplace(h, Connection(Socket(context_.scheduler, h)));
    if (sndbuf_ > 0) {
      const Status set = context_.net().set_send_buffer(h, sndbuf_);
      if (!set) return failure_.fail("set_send_buffer", set.error());
    }
    register_for(h, Interest::read);
  }

  void register_for(Handle h, Interest interest) {
    const Status watched =
        context_.scheduler.watch(h, interest, [this, h](Readiness r) { on_event(h, r); });
    if (!watched) failure_.fail("watch", watched.error());
  }

  void on_event(Handle h, Readiness readiness) {
    Connection& c = connections_.at(h);
    if (any(readiness & kGone) || c.stage == Stage::answered) return close(h);
    if (c.stage == Stage::request) return read_request(h, c);
    send_more(h, c);
  }

  void read_request(Handle h, Connection& c) {
    std::byte buffer[1024];
    const Result<std::size_t> n = context_.net().recv(h, buffer);
    if (n.code() == Errc::would_block) return;  // the report went stale: wait for the next
    if (!n && peer_went_away(n.error())) return close(h);
    if (!n) return failure_.fail("recv", n.error());
    c.request += as_text(std::span(buffer, *n));
    const bool client_done_sending = *n == 0;
    if (client_done_sending && c.request.empty()) return close(h);  // it left without asking
    if (!has_complete_header(c.request) && !client_done_sending) return;
    c.stage = Stage::answer;
    register_for(h, Interest::write);
  }

  void send_more(Handle h, Connection& c) {
    const std::string_view rest = std::string_view(answer_).substr(c.written);
    const Result<std::size_t> sent = context_.net().send(h, as_bytes(rest));
    if (sent.code() == Errc::would_block) return;
    if (!sent && peer_went_away(sent.error())) return close(h);
    if (!sent) return failure_.fail("send", sent.error());
    c.written += *sent;
    if (*sent < rest.size()) {
      ++c.partial_sends;
      return;
    }
    // All of it is out: FIN after the last byte, then wait for the client to hang up.
    context_.output += fmt::format("answered {} bytes{}\n", size_,
                                   c.partial_sends >= 2 ? " in partial sends" : "");
    const Status shut = context_.net().shutdown(h, Direction::write);
    if (!shut) return failure_.fail("shutdown", shut.error());
    c.stage = Stage::answered;
    register_for(h, Interest::read);
  }

  // Unregisters and closes; a connection that had no full answer yet says so in the output.
  void close(Handle h) {
    if (connections_.at(h).stage != Stage::answered) context_.output += "hang-up\n";
    connections_.erase(h);
  }

  ProgramContext& context_;
  Socket listener_;
  std::size_t size_;
  std::string answer_;
  std::size_t sndbuf_;
  std::map<Handle, Connection> connections_;
  Completion failure_;
};

}  // namespace

Result<Task<>> make_epoll_partial_send_server(ProgramContext& context, const ProgramArgs& args) {
  const Result<std::size_t> size = args.bytes("size", 1024 * 1024);
  const Result<std::size_t> sndbuf = args.bytes("sndbuf", 0);
  if (!size) return size.error();
  if (!sndbuf) return sndbuf.error();
  // The whole answer is built in memory before the first send.
  if (*size > (std::size_t{64} << 20))
    return Error(Errc::invalid_argument,
                 fmt::format("size={}: expected at most 64MiB (the answer is built in memory)",
                             args.text("size", "").value()));
  return make_callback_server<EpollPartialSendServer>(context, args, *size, *sndbuf);
}

}  // namespace muxlab::programs
