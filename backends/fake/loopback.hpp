#pragma once
// The wire between this host's sockets: connection set-up, segments of bytes, FIN and RST. Each
// leaves when its sender acts and arrives one link latency later (plus any jitter), in order per
// direction. Loopback owns every socket, with or without a handle, because a closed socket still
// has work to do: deliver what it was given, then answer late data with a reset.
//
// Simplifications, each harmless to what a program can observe on loopback: the handshake is one
// event (both ends are established one latency after connect()); an acknowledgement is instant (the
// sender's buffer frees when the bytes land in the peer's); a window update is instant (a recv()
// lets the peer transmit at once).
// Internal to backends/fake.
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "event_queue.hpp"
#include "seeded_random.hpp"
#include "socket.hpp"
#include "socket_store.hpp"

namespace muxlab::fake {

// Linux's SYN retransmission: the first after 1 s, each later one after twice the wait before, and
// after tcp_syn_retries (6) of them the connect gives up with ETIMEDOUT, 127 s after it began.
inline constexpr Duration kInitialSynTimeout = std::chrono::seconds(1);
inline constexpr int kSynRetries = 6;
// net.core.somaxconn: the largest accept queue a listen() gets.
inline constexpr std::size_t kMaxBacklog = 4096;
// Where listen(port 0) and connect() take their local ports (ip_local_port_range).
inline constexpr std::uint16_t kFirstEphemeralPort = 32768;
inline constexpr std::uint16_t kLastEphemeralPort = 60999;

class Loopback {
 public:
  Loopback(EventQueue& queue, SeededRandom& random, const KernelConfig& config,
           const Personality& personality);

  // A new unconnected socket with the configured buffer sizes.
  Socket& create();
  Socket* find(SocketId id) { return sockets_.find(id); }
  const FaultPlan& faults_of(const Socket& s) const {
    return s.faults ? *s.faults : config_.faults;
  }
  // In order of SocketId, so that what a visit draws from the seed is the same every run.
  template <class Visit>
  void for_each_socket(Visit visit) {
    sockets_.for_each(visit);
  }

  // Binds and listens; address_in_use when another listener has the port.
  Status listen(Socket& s, Endpoint at, int backlog);
  void start_connect(Socket& s, Endpoint to);
  // Sends what the peer's window lets through, then the FIN once a shut send side has drained.
  void transmit(Socket& s);
  // The receiver took bytes: its peer may send more.
  void window_opened(Socket& receiver);
  // The handle is gone. Unread data or `abortive` sends a reset; otherwise the socket finishes
  // sending what it has, then a FIN, and answers anything that still arrives with a reset.
  void close(Socket& s, bool abortive);
  // shutdown(read) on a listener, or close: queued connections are reset.
  void stop_listening(Socket& s);
  // shutdown() during a connect: the attempt is dropped and the socket is unconnected again.
  void abandon_connect(Socket& s);
  // A fault: the connection breaks. This end is reset now, the peer when the RST arrives.
  void break_connection(Socket& s);

 private:
  Socket* listener_at(Endpoint to);
  std::uint16_t take_ephemeral_port();
  Time arrival_time(Socket& from);
  void send_syn(Socket& client);
  Socket* live_attempt(SocketId client_id, std::uint64_t attempt);
  void syn_arrives(SocketId client_id, std::uint64_t attempt);
  void syn_dropped(Socket& client);
  void syn_reset(Socket& client);
  void connect_fails(Socket& client, Errc why);
  void data_arrives(SocketId from_id, SocketId to_id, std::size_t count);
  void fin_arrives(SocketId to_id);
  void send_reset(Socket& s);
  void reset_arrives(SocketId to_id);
  void become_reset(Socket& s, Errc why);
  void reclaim_if_done(SocketId id);
  // s is reset: the bytes it has on the wire leave its buffer but must still arrive.
  void strand_in_flight(Socket& s);

  EventQueue& queue_;
  SeededRandom& random_;
  const KernelConfig& config_;
  const Personality& personality_;
  SocketStore sockets_;
  std::map<std::uint16_t, SocketId> listeners_;  // by port
  std::uint16_t next_ephemeral_port_ = kFirstEphemeralPort;
  // Bytes that were on the wire when their sender was reset, by (sender, receiver): they still
  // arrive, ahead of the RST, though the sender's buffer no longer holds them.
  std::map<std::pair<SocketId, SocketId>, StreamBuffer> stranded_;
};

}  // namespace muxlab::fake
