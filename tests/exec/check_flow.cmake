# Runs one command and checks its exit status and that what it printed matches every regex of
# EXPECT, each anywhere in the output: the programs of a flow print one line each, in an order
# that is fixed under muxlab exec but not on the real kernel.
#   cmake -DCOMMAND="a;b;c" -DEXIT=0 "-DEXPECT=regex;regex" [-DWORKDIR=dir] -P check_flow.cmake
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                WORKING_DIRECTORY "${WORKDIR}")
set(printed "${out}${err}")
if(NOT status STREQUAL "${EXIT}")
  message(FATAL_ERROR "exit status ${status}, expected ${EXIT}; it printed:\n${printed}")
endif()
foreach(regex IN LISTS EXPECT)
  if(NOT printed MATCHES "${regex}")
    message(FATAL_ERROR "output does not match '${regex}'; it printed:\n${printed}")
  endif()
endforeach()
