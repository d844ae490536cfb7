#pragma once
// The factories of the built-in programs, one per file in this directory; builtin.cpp puts them
// in the table with their names, summaries and arguments. A factory reads and checks the
// arguments, makes what the program needs before it starts (a server's listener, a client's
// server endpoint), and returns the program's coroutine; errors come back as Results, so a
// script reports them at the line that starts the program.
#include "muxlab/program.hpp"

namespace muxlab::programs {

// Document 000: a pausing HTTP server, and a blocking and a multiplexing client for it.
Result<Task<>> make_delay_http_server(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_blocking_http_client(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_multiplexed_http_client(ProgramContext& context, const ProgramArgs& args);

// Document 001: one answer, from a blocking server and from a readiness loop.
Result<Task<>> make_blocking_200_server(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_select_200_server(ProgramContext& context, const ProgramArgs& args);

// Documents 002 and 004: echo servers in four I/O models, and document 002's epoll server.
Result<Task<>> make_blocking_echo_server(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_busy_poll_echo_server(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_select_echo_server(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_selectors_echo_server(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_epoll_partial_send_server(ProgramContext& context, const ProgramArgs& args);

// Document 003: a busy-polling client and twenty concurrent fetchers.
Result<Task<>> make_busy_poll_http_client(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_fetcher_http_client(ProgramContext& context, const ProgramArgs& args);

// Clients that scripts use to drive the servers.
Result<Task<>> make_echo_client(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_http_get_client(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_silent_client(ProgramContext& context, const ProgramArgs& args);
Result<Task<>> make_resetting_client(ProgramContext& context, const ProgramArgs& args);

}  // namespace muxlab::programs
