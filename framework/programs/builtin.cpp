// The table of built-in programs. Each program lives in its own file beside this one, whose
// header comment says which document and I/O model it shows and exactly what it writes to its
// output. Arguments are listed with their defaults; server=<name> is the script name of the
// server a client connects to. Servers listen on 127.0.0.1 at a port the system picks and run
// until the script ends; every server takes backlog=N, its listen backlog.
#include "muxlab/program.hpp"

#include "programs.hpp"

namespace muxlab {

const std::vector<ProgramInfo>& builtin_programs() {
  using namespace programs;
  using enum ArgumentKind;
  static const std::vector<ProgramInfo> all = {
      // Document 000
      {"delay_http_server",
       "000: answers every GET with \"OK\" after a pause, a coroutine per connection; output: "
       "each answered request line + \\n",
       {{"delay", duration, "1s"}, {"backlog", count, "128"}},
       make_delay_http_server},
      {"blocking_http_client",
       "000: GET requests one after another, each waiting for its answer; output: each body + \\n",
       {{"server", server, "<name>"}, {"requests", count, "3"}},
       make_blocking_http_client},
      {"multiplexed_http_client",
       "000: all GET requests at once, carried by readiness callbacks; output: each body + \\n",
       {{"server", server, "<name>"}, {"requests", count, "3"}},
       make_multiplexed_http_client},
      // Document 001
      {"blocking_200_server",
       "001: accept, recv, answer \"200 OK\", close, one client at a time; output: each answered "
       "request line + \\n",
       {{"backlog", count, "128"}},
       make_blocking_200_server},
      {"select_200_server",
       "001: the same answer from a readiness loop, so a silent client blocks nobody; output: "
       "each answered request line + \\n",
       {{"backlog", count, "128"}},
       make_select_200_server},
      // Documents 002 and 004
      {"select_echo_server",
       "002/004: upper-case echo over read and write lists, drops clients that reset; output: "
       "closed or reset + \\n per client",
       {{"recv", bytes, "1024"}, {"backlog", count, "128"}},
       make_select_echo_server},
      {"selectors_echo_server",
       "002/004: upper-case echo + \"_SB\", a callback per handle; output: closed or reset + \\n "
       "per client",
       {{"recv", bytes, "1024"}, {"backlog", count, "128"}},
       make_selectors_echo_server},
      {"epoll_partial_send_server",
       "002: collects a request on readable, answers `size` bytes on writable in partial sends; "
       "output: \"answered <size> bytes[ in partial sends]\" or \"hang-up\" + \\n per client",
       {{"size", bytes, "1MiB"}, {"sndbuf", bytes, "0"}, {"backlog", count, "128"}},
       make_epoll_partial_send_server},
      // Document 003
      {"busy_poll_http_client",
       "003: non-blocking GET that retries its calls in a loop and never waits for readiness; "
       "output: each body + \\n",
       {{"server", server, "<name>"}, {"requests", count, "1"}},
       make_busy_poll_http_client},
      {"fetcher_http_client",
       "003: `count` fetchers at once, each a pair of readiness callbacks; output: each body + "
       "\\n",
       {{"server", server, "<name>"}, {"count", count, "20"}},
       make_fetcher_http_client},
      // Document 004
      {"blocking_echo_server",
       "004: upper-case echo, one client at a time; output: closed or reset + \\n per client",
       {{"recv", bytes, "1024"}, {"backlog", count, "128"}},
       make_blocking_echo_server},
      {"busy_poll_echo_server",
       "004: upper-case echo polling every connection in a loop that never waits; output: closed "
       "or reset + \\n per client",
       {{"recv", bytes, "1024"}, {"backlog", count, "128"}},
       make_busy_poll_echo_server},
      // Clients that drive the servers
      {"echo_client",
       "sends a message, closes its sending side, reads until EOF; output: the reply",
       {{"server", server, "<name>"}, {"message", text, "hello"}},
       make_echo_client},
      {"http_get_client",
       "one GET / HTTP/1.0, read until EOF; output: the body + \\n, \"<n> bytes\\n\" with "
       "show=size, or the body's SHA-256 in hex + \\n with show=sha256",
       {{"server", server, "<name>"}, {"show", text, "body"}},
       make_http_get_client},
      {"silent_client",
       "connects and never sends; closes after `hold` (0: when the server closes); output: none",
       {{"server", server, "<name>"}, {"hold", duration, "0"}},
       make_silent_client},
      {"resetting_client",
       "connects, sends a message, then aborts (RST); output: none",
       {{"server", server, "<name>"}, {"message", text, "hello"}},
       make_resetting_client},
  };
  return all;
}

}  // namespace muxlab
