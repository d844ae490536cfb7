// fetcher_http_client: document 003's selectors Fetcher, in the I/O multiplexing model (callbacks
// and an event loop).
//
// Each fetch is an object with two callbacks. It starts a non-blocking connect and registers for
// writable; connected() unregisters, sends the request and registers for readable; readable()
// collects the response until the server closes, then unregisters and closes. The document ran
// twenty of them at once on one thread; the program ends when the last one has its answer.
//
// Arguments: server=<name> (required), count=20 (fetches at once).
// Request:   "GET / HTTP/1.1", Host and "Connection: close", a new connection for each.
// Output:    each response's body followed by '\n', in the order the fetches finished
//            (twenty times "OK\n" against delay_http_server).
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "programs.hpp"
#include "support.hpp"

namespace muxlab::programs {
namespace {

// What the fetches share: the program's context and how many are still running.
struct Fetches {
  ProgramContext& context;
  Endpoint server;
  long long unfinished;
  Completion all_done;
};

class Fetcher {
 public:
  explicit Fetcher(Fetches& fetches) : fetches_(fetches) {}

  void start() {
    Scheduler& scheduler = fetches_.context.scheduler;
    socket_ = Socket(scheduler, checked("socket", fetches_.context.net().socket()));
    const Status started = fetches_.context.net().connect(socket_.handle(), fetches_.server);
    if (!started && started.code() != Errc::in_progress) fail("connect", started.error());
    checked("watch",
            scheduler.watch(socket_.handle(), Interest::write, [this](Readiness) { connected(); }));
  }

 private:
  void connected() {
    Scheduler& scheduler = fetches_.context.scheduler;
    Net& net = fetches_.context.net();
    (void)scheduler.unwatch(socket_.handle());
    const Result<std::error_code> connect_error = net.pending_error(socket_.handle());
    if (!connect_error) return fetches_.all_done.fail("pending_error", connect_error.error());
    if (*connect_error) return fetches_.all_done.fail("connect", Error(*connect_error));
    // Sent only once the socket is writable, so the small request goes out whole.
    const std::string request = http11_get(fetches_.server);
    const Result<std::size_t> sent = net.send(socket_.handle(), as_bytes(request));
    if (!sent) return fetches_.all_done.fail("send", sent.error());
    if (*sent != request.size())
      return fetches_.all_done.fail(
          fmt::format("send: only {} of the request's {} bytes went out", *sent, request.size()));
    const Status watched =
        scheduler.watch(socket_.handle(), Interest::read, [this](Readiness) { readable(); });
    if (!watched) fetches_.all_done.fail("watch", watched.error());
  }

  void readable() {
    std::byte buffer[1024];
    const Result<std::size_t> n = fetches_.context.net().recv(socket_.handle(), buffer);
    if (n.code() == Errc::would_block) return;  // the report went stale: wait for the next
    if (!n) return fetches_.all_done.fail("recv", n.error());
    if (*n > 0) {
      response_ += as_text(std::span(buffer, *n));
      return;
    }
    (void)fetches_.context.scheduler.unwatch(socket_.handle());
    fetches_.context.output += fmt::format("{}\n", http_body(response_));
    socket_ = Socket();  // closes
    if (--fetches_.unfinished == 0) fetches_.all_done.finish();
  }

  Fetches& fetches_;
  Socket socket_;
  std::string response_;
};

Task<> fetcher_http_client(ProgramContext& context, Endpoint server, long long count) {
  Fetches fetches{context, server, count, Completion(context.scheduler)};
  // Callbacks point at their fetcher, so each one keeps its address.
  std::vector<std::unique_ptr<Fetcher>> fetchers;
  for (long long i = 0; i < count; ++i) {
    fetchers.push_back(std::make_unique<Fetcher>(fetches));
    fetchers.back()->start();
  }
  co_await fetches.all_done;
}

}  // namespace

Result<Task<>> make_fetcher_http_client(ProgramContext& context, const ProgramArgs& args) {
  const Result<Endpoint> server = server_argument(context, args);
  const Result<long long> count = count_argument(args, "count", 20);
  if (!server) return server.error();
  if (!count) return count.error();
  return fetcher_http_client(context, *server, *count);
}

}  // namespace muxlab::programs
