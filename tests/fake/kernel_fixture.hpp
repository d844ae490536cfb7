#pragma once
// A fake kernel of one personality with one backend on it, and the steps most fake-kernel tests
// start with. Helpers report a failed call through GoogleTest and carry on with an empty value.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "muxlab/format.hpp"
#include "muxlab/testing/printers.hpp"  // failed comparisons print "readable|writable"

#include "fake_environment.hpp"
#include "fake_kernel.hpp"

namespace muxlab::fake {

struct Pair {
  Handle client = invalid_handle;
  Handle server = invalid_handle;
};

template <class T>
T ok(Result<T> r, std::string_view call = "call") {
  EXPECT_TRUE(r.ok()) << call << ": " << r.error().message();
  return r.ok() ? std::move(r).value() : T{};
}

inline void ok(Status s, std::string_view call = "call") {
  EXPECT_TRUE(s.ok()) << call << ": " << s.error().message();
}

class KernelFixture {
 public:
  explicit KernelFixture(std::string_view mechanism, KernelConfig config = {})
      : kernel(std::make_shared<FakeKernel>(*find_personality(mechanism), std::move(config))),
        backend(make_backend(kernel)) {}

  Handle listener(int backlog = 16) { return ok(kernel->listen(Endpoint{}, backlog), "listen"); }
  Endpoint endpoint(Handle h) { return ok(kernel->local_endpoint(h), "local_endpoint"); }

  // Connects a new socket to `l` and accepts it, letting virtual time run as far as it must.
  Pair connect_to(Handle l) {
    Pair p;
    p.client = ok(kernel->socket(), "socket");
    EXPECT_EQ(kernel->connect(p.client, endpoint(l)).code(), Errc::in_progress);
    for (int i = 0; i < 1000; ++i) {
      Result<Handle> accepted = kernel->accept(l);
      if (accepted.ok()) {
        p.server = *accepted;
        return p;
      }
      if (auto next = kernel->next_event_time()) kernel->run_until(*next);
    }
    ADD_FAILURE() << "the connection was never accepted";
    return p;
  }

  Pair connect_pair() {
    const Handle l = listener();
    const Pair p = connect_to(l);
    ok(kernel->close(l), "close listener");
    return p;
  }

  std::size_t send(Handle h, std::string_view text) {
    return ok(kernel->send(h, as_bytes(text)), "send");
  }

  std::string recv(Handle h, std::size_t max = 65536) {
    std::string buffer(max, '\0');
    const std::size_t n =
        ok(kernel->recv(h, {reinterpret_cast<std::byte*>(buffer.data()), buffer.size()}), "recv");
    buffer.resize(n);
    return buffer;
  }

  std::vector<Event> wait(Duration timeout = Duration::zero()) {
    std::vector<Event> events(64);
    events.resize(ok(backend->wait(events, timeout), "wait"));
    return events;
  }

  // One wait; what it reported for h, or none.
  Readiness readiness_of(Handle h, Duration timeout = Duration::zero()) {
    Readiness seen = Readiness::none;
    for (const Event& e : wait(timeout))
      if (e.handle == h) seen = e.readiness;
    return seen;
  }

  std::shared_ptr<FakeKernel> kernel;
  std::unique_ptr<Backend> backend;
};

}  // namespace muxlab::fake
