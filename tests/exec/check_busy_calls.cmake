# Article 003: a busy-polling fetch and a selectors fetch from delay_http_server.py take as long
# as the server's pause, but the busy one makes at least a hundred times as many calls. Runs
# fetch.py busy, then fetch.py callbacks, each against its own server, reads the time and call
# count each prints, and compares the counts.
#   cmake "-DRUN=muxlab;exec;--" (or "python3;run_real.py;--") -DPYTHON=python3 -DEXAMPLES=dir
#         -DPORT=8000 -DDELAY=1 "-DTIME=1\\.0" -P check_busy_calls.cmake
# TIME is a regex for the time printed, in tenths of a second.
foreach(mode IN ITEMS busy callbacks)
  execute_process(COMMAND ${RUN} ${PYTHON} ${EXAMPLES}/fetch.py ${mode} ${PORT}
                          :::& ${PYTHON} ${EXAMPLES}/delay_http_server.py ${PORT} ${DELAY}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "fetch.py ${mode} exited ${status}:\n${out}${err}")
  endif()
  if(NOT out MATCHES "${mode}: 1 of 1 answers OK in (${TIME}) s, ([0-9]+) calls\n")
    message(FATAL_ERROR "fetch.py ${mode}: expected 1 of 1 answers OK in ${TIME} s:\n${out}${err}")
  endif()
  set(${mode} ${CMAKE_MATCH_2})
  message(STATUS "fetch.py ${mode}: ${CMAKE_MATCH_2} calls in ${CMAKE_MATCH_1} s")
endforeach()
math(EXPR hundredfold "100 * ${callbacks}")
if(busy LESS hundredfold)
  message(FATAL_ERROR "busy polling made ${busy} calls, not 100 times the ${callbacks} of callbacks")
endif()
