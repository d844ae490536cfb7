// multiplexed_http_client: document 000's selectors client, in the I/O multiplexing model.
//
// Every request starts at once on a non-blocking socket, and callbacks carry each one forward as
// its socket becomes ready: writable (connected) -> send the request -> readable -> recv until
// the server closes. Like the document's client, each step unregisters the socket and registers
// it again for the next event. Against delay_http_server the pauses overlap: the document's three
// requests took one second, about one pause in all.
//
// Arguments: server=<name> (required), requests=3.
// Request:   "GET / HTTP/1.0", a new connection for each.
// Output:    each response's body followed by '\n' ("OK\nOK\nOK\n"), in the order the responses
//            completed.
#include <map>

#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

class MultiplexedClient {
 public:
  MultiplexedClient(ProgramContext& context, Endpoint server)
      : context_(context), server_(server), all_answered_(context.scheduler) {}

  // Starts one request: a connect that returns at once, then a wait for writable.
  void request() {
    Socket socket(context_.scheduler, checked("socket", context_.net().socket()));
    const Handle h = socket.handle();
    const Status started = context_.net().connect(h, server_);
    if (!started && started.code() != Errc::in_progress) fail("connect", started.error());
    in_flight_.emplace(h, Request{std::move(socket), {}});
    checked("watch", context_.scheduler.watch(h, Interest::write,
                                              [this, h](Readiness) { send_request(h); }));
  }

  Completion& all_answered() { return all_answered_; }

 private:
  struct Request {
    Socket socket;
    std::string response;
  };

  // Writable: the connect finished, one way or the other.
  void send_request(Handle h) {
    (void)context_.scheduler.unwatch(h);
    const Result<std::error_code> connect_error = context_.net().pending_error(h);
    if (!connect_error) return all_answered_.fail("pending_error", connect_error.error());
    if (*connect_error) return all_answered_.fail("connect", Error(*connect_error));
    // A request this small fits whole into a new socket's buffer: anything else is a failure.
    const Result<std::size_t> sent = context_.net().send(h, as_bytes(kHttp10Get));
    if (!sent) return all_answered_.fail("send", sent.error());
    if (*sent != kHttp10Get.size())
      return all_answered_.fail(fmt::format("send: only {} of the request's {} bytes went out",
                                            *sent, kHttp10Get.size()));
    const Status watched =
        context_.scheduler.watch(h, Interest::read, [this, h](Readiness) { receive(h); });
    if (!watched) all_answered_.fail("watch", watched.error());
  }

  // Readable: part of the response, or the server's close, which ends it.
  void receive(Handle h) {
    std::byte buffer[1024];
    const Result<std::size_t> n = context_.net().recv(h, buffer);
    if (n.code() == Errc::would_block) return;  // the report went stale: wait for the next
    if (!n) return all_answered_.fail("recv", n.error());
    Request& request = in_flight_.at(h);
    if (*n > 0) {
      request.response += as_text(std::span(buffer, *n));
      return;
    }
    context_.output += fmt::format("{}\n", http_body(request.response));
    in_flight_.erase(h);  // unwatches and closes
    if (in_flight_.empty()) all_answered_.finish();
  }

  ProgramContext& context_;
  Endpoint server_;
  std::map<Handle, Request> in_flight_;
  Completion all_answered_;
};

Task<> multiplexed_http_client(ProgramContext& context, Endpoint server, long long requests) {
  MultiplexedClient client(context, server);
  for (long long i = 0; i < requests; ++i)
    client.request();
  co_await client.all_answered();
}

}  // namespace

Result<Task<>> make_multiplexed_http_client(ProgramContext& context, const ProgramArgs& args) {
  const Result<Endpoint> server = server_argument(context, args);
  const Result<long long> requests = count_argument(args, "requests", 3);
  if (!server) return server.error();
  if (!requests) return requests.error();
  return multiplexed_http_client(context, *server, *requests);
}

}  // namespace muxlab::programs
