#pragma once
// A user's echo server: it listens on loopback and sends back whatever each client sends, until
// the client finishes. Written against muxlab's Scheduler, it never knows whether the kernel
// underneath is real or the fake one; that is what lets one test run it on both.
#include <cstddef>

#include "muxlab/net.hpp"
#include "muxlab/result.hpp"
#include "muxlab/scheduler.hpp"
#include "muxlab/task.hpp"

namespace consumer {

class EchoServer {
 public:
  explicit EchoServer(muxlab::Scheduler& scheduler) : scheduler_(scheduler) {}
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;
  ~EchoServer();

  // Listens on 127.0.0.1, on a free port; returns where.
  muxlab::Result<muxlab::Endpoint> listen();
  // Accepts `connections` clients, each echoed by a program of its own, then stops listening.
  muxlab::Task<> serve(int connections);

  std::size_t bytes_echoed() const { return bytes_echoed_; }

 private:
  muxlab::Task<> echo(muxlab::Handle connection);

  muxlab::Scheduler& scheduler_;
  muxlab::Handle listener_ = muxlab::invalid_handle;
  std::size_t bytes_echoed_ = 0;
};

}  // namespace consumer
