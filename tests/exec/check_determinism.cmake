# Runs an exec command line four times, twice with seed 1 and twice with seed 7 and the fault
# FAULT. The same seed must give byte-identical traces; seed 7 with
# the fault another one. Every run must succeed.
#   cmake -DMUXLAB=muxlab "-DPROGRAMS=prog;args;:::&;prog;args" -DFAULT=short_send=0.5
#         -DOUT=dir [-DWORKDIR=dir] -P check_determinism.cmake
file(MAKE_DIRECTORY ${OUT})
function(run name seed)
  execute_process(COMMAND ${MUXLAB} exec --seed ${seed} ${ARGN} --trace ${OUT}/${name}.trace
                          --timeout 60s -- ${PROGRAMS}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                  WORKING_DIRECTORY "${WORKDIR}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "run ${name} (seed ${seed} ${ARGN}) exited ${status}:\n${out}${err}")
  endif()
  file(READ ${OUT}/${name}.trace trace)
  set(${name} "${trace}" PARENT_SCOPE)
endfunction()
run(a 1)
run(b 1)
run(c 7 --fault ${FAULT})
run(d 7 --fault ${FAULT})
if(a STREQUAL "")
  message(FATAL_ERROR "the trace is empty")
endif()
if(NOT a STREQUAL b OR NOT c STREQUAL d)
  message(FATAL_ERROR "one seed, two traces: compare ${OUT}/a.trace with b.trace, c with d")
endif()
if(a STREQUAL c)
  message(FATAL_ERROR "seed 7 with ${FAULT} gave seed 1's trace: ${OUT}/a.trace")
endif()
