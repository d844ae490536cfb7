#include "loopback.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace muxlab::fake {
namespace {

// Closed by its program, as opposed to not yet accepted: nobody will ever read from it again.
bool closed_by_owner(const Socket& s) {
  return s.handle == invalid_handle && s.setup->queued_in == kNoSocket;
}

}  // namespace

Loopback::Loopback(EventQueue& queue, SeededRandom& random, const KernelConfig& config,
                   const Personality& personality)
    : queue_(queue), random_(random), config_(config), personality_(personality) {}

Socket& Loopback::create() {
  Socket& s = sockets_.create();
  // FakeKernel::open_socket() has checked that they fit.
  s.send_buffer_size = static_cast<std::uint32_t>(config_.send_buffer_size);
  s.receive_buffer_size = static_cast<std::uint32_t>(config_.receive_buffer_size);
  return s;
}

// --- Listening and connecting ----------------------------------------------------------------

Status Loopback::listen(Socket& s, Endpoint at, int backlog) {
  std::uint16_t port = at.port;
  if (port == 0) {
    port = take_ephemeral_port();
  } else if (listeners_.contains(port)) {
    return Error(Errc::address_in_use,
                 fmt::format("listen on {}: port {} has a listener already", to_string(at), port));
  }
  s.setup->local = Endpoint{at.address, port};
  s.state = TcpState::listening;
  // Linux calls the queue full only when it holds more than the backlog, so backlog + 1 fit.
  const std::size_t asked = backlog < 0 ? kMaxBacklog : static_cast<std::size_t>(backlog);
  s.setup->accept_capacity = std::min(asked, kMaxBacklog) + 1;
  listeners_[port] = s.id;
  return {};
}

Socket* Loopback::listener_at(Endpoint to) {
  const auto it = listeners_.find(to.port);
  if (it == listeners_.end()) return nullptr;
  Socket* listener = find(it->second);
  if (listener == nullptr ||
      (listener->setup->local.address != 0 && listener->setup->local.address != to.address))
    return nullptr;
  return listener;
}

// The next port of the range that no listener has. Connections are told apart by socket id, so a
// client port may repeat after the range wraps, as it may on a real host for different peers.
std::uint16_t Loopback::take_ephemeral_port() {
  for (;;) {
    const std::uint16_t port = next_ephemeral_port_;
    next_ephemeral_port_ =
        port == kLastEphemeralPort ? kFirstEphemeralPort : static_cast<std::uint16_t>(port + 1);
    if (!listeners_.contains(port)) return port;
  }
}

void Loopback::start_connect(Socket& client, Endpoint to) {
  client.state = TcpState::connecting;
  client.setup->connect_to = to;
  ++client.setup->attempt;
  client.setup->syn_retransmissions = 0;
  client.setup->syn_resets = 0;
  if (client.setup->local.port == 0)
    client.setup->local = Endpoint{to.address, take_ephemeral_port()};
  send_syn(client);
}

void Loopback::send_syn(Socket& client) {
  queue_.schedule(arrival_time(client), [this, id = client.id, attempt = client.setup->attempt] {
    syn_arrives(id, attempt);
  });
}

// A timer of a connect attempt finds its client only if that attempt is still the one going on:
// the socket may have closed, given up, or started another connect since.
Socket* Loopback::live_attempt(SocketId client_id, std::uint64_t attempt) {
  Socket* client = find(client_id);
  if (client == nullptr || client->state != TcpState::connecting ||
      client->setup->attempt != attempt)
    return nullptr;
  return client;
}

void Loopback::syn_arrives(SocketId client_id, std::uint64_t attempt) {
  Socket* client = live_attempt(client_id, attempt);
  if (client == nullptr) return;
  Socket* listener = listener_at(client->setup->connect_to);
  if (listener == nullptr || random_.chance(faults_of(*client).refuse_connect)) {
    syn_reset(*client);  // a reset answers a SYN that nobody takes
    return;
  }
  if (listener->setup->accept_queue.size() >= listener->setup->accept_capacity) {
    syn_dropped(*client);
    return;
  }
  Socket& server = sockets_.create();
  // An accepted socket inherits the listener's buffer sizes, as on Linux.
  server.send_buffer_size = listener->send_buffer_size;
  server.receive_buffer_size = listener->receive_buffer_size;
  server.state = TcpState::established;
  server.was_connected = true;
  server.connect_call = ConnectCall::reported;
  server.setup->local = Endpoint{client->setup->connect_to.address, listener->setup->local.port};
  server.peer = client->id;
  server.setup->queued_in = listener->id;
  listener->setup->accept_queue.push_back(server.id);

  client->state = TcpState::established;
  client->was_connected = true;
  client->peer = server.id;
  listener->wake(Wakeup::readable);
  client->wake(Wakeup::state_changed);
}

// The accept queue is full: Linux drops the SYN and the client sends it again later, until it
// gives up.
void Loopback::syn_dropped(Socket& client) {
  const int sent_again = client.setup->syn_retransmissions;
  const Duration wait = kInitialSynTimeout * (1 << sent_again);
  queue_.schedule(queue_.now() + wait,
                  [this, id = client.id, attempt = client.setup->attempt, sent_again] {
                    Socket* c = live_attempt(id, attempt);
                    if (c == nullptr) return;
                    if (sent_again == kSynRetries) {
                      connect_fails(*c, Errc::timed_out);
                      return;
                    }
                    ++c->setup->syn_retransmissions;
                    send_syn(*c);
                  });
}

// Linux and BSD give up at the first reset; Windows sends the SYN again a few times first, so a
// listener that appears meanwhile still gets the connection.
void Loopback::syn_reset(Socket& client) {
  if (client.setup->syn_resets == personality_.syn_resends_after_reset) {
    connect_fails(client, Errc::connection_refused);
    return;
  }
  ++client.setup->syn_resets;
  queue_.schedule(queue_.now() + kSynResendAfterResetInterval,
                  [this, id = client.id, attempt = client.setup->attempt] {
                    if (Socket* c = live_attempt(id, attempt)) send_syn(*c);
                  });
}

void Loopback::connect_fails(Socket& client, Errc why) {
  client.state = TcpState::closed;
  client.set_error(why);
  client.read_shut = client.write_shut = true;
  client.connect_failed = true;
  client.wake(Wakeup::error);
  client.wake(Wakeup::state_changed);
}

void Loopback::abandon_connect(Socket& s) {
  s.state = TcpState::closed;
  s.connect_call = ConnectCall::none;
  ++s.setup->attempt;
}

// --- Bytes, FIN and RST ----------------------------------------------------------------------

Time Loopback::arrival_time(Socket& from) {
  Duration delay = config_.link_latency;
  const Duration jitter = faults_of(from).latency_jitter;
  if (jitter > Duration::zero())
    delay += Duration(
        static_cast<Duration::rep>(random_.below(static_cast<std::uint64_t>(jitter.count()) + 1)));
  // TCP hands over a direction's bytes in order, whatever each segment's luck on the way.
  const Time at = std::max(queue_.now() + delay, from.last_arrival);
  from.last_arrival = at;
  return at;
}

void Loopback::transmit(Socket& s) {
  if (s.state != TcpState::established) return;
  const std::size_t unsent = s.unacknowledged.size() - s.in_flight;
  const bool fin_due = s.write_shut && !s.fin_sent;
  if (unsent == 0 && !fin_due) return;  // most window updates: the peer had nothing waiting
  Socket* peer = find(s.peer);
  if (peer == nullptr) return;
  const std::size_t window = peer->receive_window();
  const std::size_t room = window > s.in_flight ? window - s.in_flight : 0;
  if (const std::size_t n = std::min(unsent, room); n > 0) {
    // The segment's bytes stay at the front of s.unacknowledged until they arrive: segments of one
    // direction arrive in order, and each takes its bytes from there when it does.
    s.in_flight += static_cast<std::uint32_t>(n);  // n ≤ the unacknowledged bytes, < 4 GiB
    queue_.schedule(arrival_time(s),
                    [this, from = s.id, to = peer->id, n] { data_arrives(from, to, n); });
  }
  if (fin_due && s.in_flight == s.unacknowledged.size()) {
    s.fin_sent = true;
    queue_.schedule(arrival_time(s), [this, to = peer->id] { fin_arrives(to); });
  }
}

void Loopback::window_opened(Socket& receiver) {
  if (Socket* peer = find(receiver.peer)) transmit(*peer);
}

void Loopback::data_arrives(SocketId from_id, SocketId to_id, std::size_t count) {
  Socket* to = find(to_id);
  // Where the segment's bytes are: stranded if the sender was reset since, else at the front of
  // the sender's unacknowledged bytes (see transmit()).
  const auto stranded = stranded_.find({from_id, to_id});
  if (to == nullptr) {
    if (stranded != stranded_.end()) stranded_.erase(stranded);  // none of them can arrive now
    return;
  }
  // Taken from the stranded bytes whether or not they are delivered, so the next segment's
  // bytes are at the front.
  auto drop_stranded = [&] {
    if (stranded == stranded_.end()) return;
    stranded->second.discard(count);
    if (stranded->second.empty()) stranded_.erase(stranded);
  };
  if (to->state != TcpState::established) {  // a reset is on its way back
    drop_stranded();
    return;
  }
  if (closed_by_owner(*to)) {
    // Nobody will read this: Linux answers with a reset and forgets the socket.
    drop_stranded();
    send_reset(*to);
    to->state = TcpState::closed;
    reclaim_if_done(to_id);
    return;
  }
  Socket* from = find(from_id);
  if (stranded != stranded_.end()) {
    to->received.append(stranded->second.front(count));
    drop_stranded();
  } else if (from != nullptr && from->in_flight >= count) {
    to->received.append(from->unacknowledged.front(count));
  }
  to->wake(Wakeup::readable);
  if (from == nullptr || from->in_flight < count) return;  // reset meanwhile
  from->unacknowledged.discard(count);
  from->in_flight -= static_cast<std::uint32_t>(count);
  // The arrival acknowledges the bytes at once (no delayed acknowledgment here), freeing their
  // space in the sender's buffer.
  if (from->nospace && from->has_send_space()) {
    from->nospace = false;
    from->wake(Wakeup::writable);
  } else if (personality_.acks_wake_writers) {
    from->wake(Wakeup::writable);
  }
}

void Loopback::fin_arrives(SocketId to_id) {
  Socket* to = find(to_id);
  if (to == nullptr || to->state != TcpState::established) return;
  to->read_shut = true;
  to->peer_finished = true;
  to->wake(Wakeup::receive_shut);
}

// What was not yet sent is lost; what is on the wire still arrives, then the RST.
void Loopback::send_reset(Socket& s) {
  if (Socket* peer = find(s.peer))
    queue_.schedule(arrival_time(s), [this, to = peer->id] { reset_arrives(to); });
  strand_in_flight(s);
  s.peer = kNoSocket;
  s.unacknowledged.clear();
  s.in_flight = 0;
}

void Loopback::strand_in_flight(Socket& s) {
  if (s.in_flight == 0 || s.peer == kNoSocket) return;
  stranded_[{s.id, s.peer}].append(s.unacknowledged.front(s.in_flight));
}

void Loopback::reset_arrives(SocketId to_id) {
  Socket* to = find(to_id);
  if (to == nullptr || to->state != TcpState::established) return;
  if (closed_by_owner(*to)) {
    to->peer = kNoSocket;
    to->state = TcpState::closed;
    reclaim_if_done(to_id);
    return;
  }
  // Linux's choice of error (tcp_reset): after the peer's FIN a reset is a broken pipe.
  become_reset(*to, to->peer_finished ? Errc::broken_pipe : Errc::connection_reset);
}

void Loopback::become_reset(Socket& s, Errc why) {
  s.state = TcpState::closed;
  s.set_error(why);
  s.reset = true;
  s.read_shut = s.write_shut = true;
  strand_in_flight(s);
  s.unacknowledged.clear();
  s.in_flight = 0;
  s.peer = kNoSocket;
  s.wake(Wakeup::error);
  s.wake(Wakeup::state_changed);
}

void Loopback::break_connection(Socket& s) {
  if (s.state != TcpState::established) return;
  send_reset(s);
  become_reset(s, Errc::connection_reset);
}

// --- Closing ---------------------------------------------------------------------------------

void Loopback::close(Socket& s, bool abortive) {
  const SocketId id = s.id;
  const SocketId peer_id = s.peer;
  switch (s.state) {
    case TcpState::listening:
      stop_listening(s);
      break;
    case TcpState::connecting:
      abandon_connect(s);
      break;
    case TcpState::established:
      // Unread data would be lost silently, so Linux resets rather than let the peer take the
      // FIN for a clean end (turmoil learned the same).
      if (abortive || !s.received.empty()) {
        send_reset(s);
        s.state = TcpState::closed;
      } else {
        s.write_shut = true;
        transmit(s);
      }
      break;
    case TcpState::closed:
      break;
  }
  reclaim_if_done(id);
  reclaim_if_done(peer_id);
}

void Loopback::stop_listening(Socket& listener) {
  for (const SocketId queued : listener.setup->accept_queue) {
    if (Socket* server = find(queued)) {
      server->setup->queued_in = kNoSocket;
      send_reset(*server);
      server->state = TcpState::closed;
      reclaim_if_done(queued);
    }
  }
  listener.setup->accept_queue.clear();
  if (const auto it = listeners_.find(listener.setup->local.port);
      it != listeners_.end() && it->second == listener.id)
    listeners_.erase(it);
  listener.state = TcpState::closed;
}

// A closed socket is kept while its peer may still send to it (which earns a reset) or read what
// it sent; once neither end has an owner, both go.
void Loopback::reclaim_if_done(SocketId id) {
  Socket* s = find(id);
  if (s == nullptr || !closed_by_owner(*s)) return;
  Socket* peer = find(s->peer);
  if (peer != nullptr && !closed_by_owner(*peer)) return;
  if (peer != nullptr) sockets_.destroy(peer->id);
  sockets_.destroy(id);
}

}  // namespace muxlab::fake
