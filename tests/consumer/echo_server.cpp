#include "echo_server.hpp"

#include <array>
#include <span>
#include <stdexcept>
#include <string>

namespace consumer {

EchoServer::~EchoServer() {
  if (listener_ != muxlab::invalid_handle) (void)scheduler_.net().close(listener_);
}

muxlab::Result<muxlab::Endpoint> EchoServer::listen() {
  muxlab::Result<muxlab::Handle> listener = scheduler_.net().listen({}, 16);
  if (!listener) return listener.error();
  listener_ = *listener;
  return scheduler_.net().local_endpoint(listener_);
}

muxlab::Task<> EchoServer::serve(int connections) {
  for (int served = 0; served < connections; ++served) {
    muxlab::Result<muxlab::Handle> connection = co_await scheduler_.accept(listener_);
    // A program that ends with an exception is reported by the scheduler with this text.
    if (!connection) throw std::runtime_error("accept: " + connection.error().message());
    scheduler_.spawn("echo " + std::to_string(served + 1), echo(*connection));
  }
  (void)scheduler_.net().close(listener_);
  listener_ = muxlab::invalid_handle;
}

muxlab::Task<> EchoServer::echo(muxlab::Handle connection) {
  std::array<std::byte, 4096> buffer;
  for (;;) {
    // recv waits for readability; send_all waits for writability after a partial send.
    muxlab::Result<std::size_t> received = co_await scheduler_.recv(connection, buffer);
    if (!received || *received == 0) break;  // an error, or the client finished
    const muxlab::Status sent =
        co_await scheduler_.send_all(connection, std::span(buffer.data(), *received));
    if (!sent) break;
    bytes_echoed_ += *received;
  }
  (void)scheduler_.net().close(connection);
}

}  // namespace consumer
