# The flows of articles 001 to 004, replayed by our own programs in examples/python. Each runs
# under muxlab exec on the fake personalities, where virtual time makes every time exact, and as
# the same command line on the real kernel (run_real.py, label real), the differential: the same
# lines, with times checked loosely, since the machine may be loaded. Real runs use ports from
# 18001, one per test, so that they may run in parallel; the programs poll for their server.
set(check_flow ${CMAKE_CURRENT_SOURCE_DIR}/check_flow.cmake)
set(run_real ${CMAKE_CURRENT_SOURCE_DIR}/run_real.py)
set(fake_envs fake:epoll fake:poll fake:select)
set(py ${MUXLAB_PYTHON})
set(ex ${python_examples})

# flow(NAME ENVS env... EXEC regex... REAL regex... PROGRAMS program args... [::: | :::& ...])
# exec/python_NAME_<env> runs PROGRAMS under muxlab exec for each env; exec/python_NAME_real runs
# them on the real kernel. Each run must exit 0 and print a match for every regex of its list.
function(flow name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "ENVS;EXEC;REAL;PROGRAMS")
  foreach(env IN LISTS arg_ENVS)
    string(REPLACE ":" "_" id ${env})
    add_test(NAME exec/python_${name}_${id}
             COMMAND ${CMAKE_COMMAND} -DEXIT=0 "-DEXPECT=${arg_EXEC}"
                     "-DCOMMAND=$<TARGET_FILE:muxlab>;exec;--env;${env};--timeout;60s;--;${arg_PROGRAMS}"
                     -P ${check_flow})
    set_tests_properties(exec/python_${name}_${id} PROPERTIES LABELS exec TIMEOUT 60)
  endforeach()
  add_test(NAME exec/python_${name}_real
           COMMAND ${CMAKE_COMMAND} -DEXIT=0 "-DEXPECT=${arg_REAL}"
                   "-DCOMMAND=${py};${run_real};--;${arg_PROGRAMS}" -P ${check_flow})
  set_tests_properties(exec/python_${name}_real PROPERTIES LABELS "exec;real" TIMEOUT 60)
endfunction()

# flow_determinism(NAME FAULT PROGRAMS...): check_determinism.cmake on PROGRAMS.
function(flow_determinism name fault)
  add_test(NAME exec/python_${name}_same_seed_same_trace
           COMMAND ${CMAKE_COMMAND} -DMUXLAB=$<TARGET_FILE:muxlab> "-DPROGRAMS=${ARGN}"
                   -DFAULT=${fault} -DOUT=${CMAKE_CURRENT_BINARY_DIR}/determinism_${name}
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/check_determinism.cmake)
  set_tests_properties(exec/python_${name}_same_seed_same_trace PROPERTIES LABELS exec TIMEOUT 60)
endfunction()

# Article 001: a client connects and stays silent; another asks, and waits 3 s at most. The
# blocking server is stuck in recv on the silent one, so the asker gives up after exactly 3.0 s
# (on the real kernel, 3 s or more); the select server answers it at once.
flow(001_blocking_server_stalls ENVS ${fake_envs}
  EXEC "with a silent client connected: no answer, gave up after 3\\.0 s\n"
  REAL "with a silent client connected: no answer, gave up after ([3-9]|[1-9][0-9])\\.[0-9] s\n"
  PROGRAMS ${py} ${ex}/silent_then_ask.py 18001 3 :::& ${py} ${ex}/http_200_servers.py blocking 18001)
flow(001_select_server_answers ENVS ${fake_envs} fake:win32-select
  EXEC "with a silent client connected: answer '200 OK' in 0\\.0 s\n"
  REAL "with a silent client connected: answer '200 OK' in [0-2]\\.[0-9] s\n"
  PROGRAMS ${py} ${ex}/silent_then_ask.py 18002 3 :::& ${py} ${ex}/http_200_servers.py select 18002)
flow_determinism(001 jitter=1ms
  ${py} ${ex}/silent_then_ask.py 8000 3 :::& ${py} ${ex}/http_200_servers.py select 8000)

# Articles 002 and 004: a client resets its connection (SO_LINGER 0, close) and the server drops
# it and carries on: it answers the next client, and ends after its 3 clients (the probe that
# waits for it to listen, the one that resets, the one that asks) with its tally. The epoll
# server answers "SIZE 1048576" through a 4 KiB send buffer, in more than one send; the client
# checks the length and SHA-256 of what it got.
set(select_echo "after a reset, hello: HELLO\n"
                "select server: 3 clients, 1 reset, longest answer 5 bytes in 1 send\n")
flow(002_select_echo_drops_a_reset ENVS ${fake_envs} fake:win32-select
  EXEC ${select_echo} REAL ${select_echo}
  PROGRAMS ${py} ${ex}/reset_then_ask.py 18003 hello ::: ${py} ${ex}/echo_servers.py select 18003 3)
set(selectors_echo "after a reset, hello: HELLO_SB\n"
                   "selectors server: 3 clients, 1 reset, longest answer 8 bytes in 1 send\n")
flow(004_selectors_echo_drops_a_reset ENVS ${fake_envs}
  EXEC ${selectors_echo} REAL ${selectors_echo}
  PROGRAMS ${py} ${ex}/reset_then_ask.py 18004 hello ::: ${py} ${ex}/echo_servers.py selectors 18004 3)
set(epoll_mib "after a reset, SIZE 1048576: 1048576 bytes, the expected SHA-256\n"
  "epoll server: 3 clients, 1 reset, longest answer 1048576 bytes in ([2-9]|[1-9][0-9]+) sends\n")
flow(002_epoll_writes_a_mib_in_partial_sends ENVS ${fake_envs}
  EXEC ${epoll_mib} REAL ${epoll_mib}
  PROGRAMS ${py} ${ex}/reset_then_ask.py 18005 "SIZE 1048576"
           ::: ${py} ${ex}/echo_servers.py epoll 18005 3)
flow_determinism(002 short_send=0.5
  ${py} ${ex}/reset_then_ask.py 8000 "SIZE 1048576" ::: ${py} ${ex}/echo_servers.py epoll 8000 3)

# Article 003: one fetch from the 1 s delay server, on a selectors loop, takes 1.0 s, and so does
# one by busy polling, with at least 100 times the calls (check_busy_calls.cmake).
flow(003_selectors_fetch ENVS ${fake_envs}
  EXEC "callbacks: 1 of 1 answers OK in 1\\.0 s, [0-9]+ calls\n"
  REAL "callbacks: 1 of 1 answers OK in [1-9]\\.[0-9] s, [0-9]+ calls\n"
  PROGRAMS ${py} ${ex}/fetch.py callbacks 18006 :::& ${py} ${ex}/delay_http_server.py 18006)
flow(003_busy_fetch
  REAL "busy: 1 of 1 answers OK in [1-9]\\.[0-9] s, [0-9]+ calls\n"
  PROGRAMS ${py} ${ex}/fetch.py busy 18007 :::& ${py} ${ex}/delay_http_server.py 18007)
add_test(NAME exec/python_003_busy_polling_makes_100_times_the_calls_real
         COMMAND ${CMAKE_COMMAND} "-DRUN=${py};${run_real};--" -DPYTHON=${py} -DEXAMPLES=${ex}
                 -DPORT=18008 -DDELAY=1 "-DTIME=[1-9]\\.[0-9]"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/check_busy_calls.cmake)
set_tests_properties(exec/python_003_busy_polling_makes_100_times_the_calls_real
                     PROPERTIES LABELS "exec;real" TIMEOUT 60)
# The same under exec, where the server's timed wait falls due while the client busy-polls.
# Against a 0.1 s pause rather than 1 s: every call costs 1 us of virtual time and 15 to 50 us of
# wall time (two context switches), so a virtual second of busy polling would take most of a
# minute; 0.1 s is 100 000 calls, 2 to 5 s.
foreach(env IN ITEMS ${fake_envs})
  string(REPLACE ":" "_" id ${env})
  add_test(NAME exec/python_003_busy_polling_makes_100_times_the_calls_${id}
           COMMAND ${CMAKE_COMMAND} "-DRUN=$<TARGET_FILE:muxlab>;exec;--env;${env};--timeout;1s;--"
                   -DPYTHON=${py} -DEXAMPLES=${ex} -DPORT=8000 -DDELAY=0.1 "-DTIME=0\\.1"
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/check_busy_calls.cmake)
  set_tests_properties(exec/python_003_busy_polling_makes_100_times_the_calls_${id}
                       PROPERTIES LABELS exec TIMEOUT 60)
endforeach()
flow_determinism(003 jitter=1ms
  ${py} ${ex}/fetch.py callbacks 8000 :::& ${py} ${ex}/delay_http_server.py 8000)

# Article 003: 20 fetchers on one selectors loop get their 20 answers after one pause, not 20.
flow(003_20_fetchers_one_pause ENVS ${fake_envs}
  EXEC "callbacks: 20 of 20 answers OK in 1\\.0 s, [0-9]+ calls\n"
  REAL "callbacks: 20 of 20 answers OK in [1-9]\\.[0-9] s, [0-9]+ calls\n"
  PROGRAMS ${py} ${ex}/fetch.py callbacks 18009 20 :::& ${py} ${ex}/delay_http_server.py 18009)
flow_determinism(003_20_fetchers jitter=1ms
  ${py} ${ex}/fetch.py callbacks 8000 20 :::& ${py} ${ex}/delay_http_server.py 8000)
