# Runs one muxlab command and checks its exit status and what it printed.
#   cmake -DCOMMAND="a;b;c" -DEXIT=2 -DOUTPUT=<regex> [-DWORKDIR=dir] -P check_command.cmake
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                WORKING_DIRECTORY "${WORKDIR}")
set(printed "${out}${err}")
if(NOT status STREQUAL "${EXIT}")
  message(FATAL_ERROR "exit status ${status}, expected ${EXIT}; it printed:\n${printed}")
endif()
if(NOT printed MATCHES "${OUTPUT}")
  message(FATAL_ERROR "output does not match '${OUTPUT}'; it printed:\n${printed}")
endif()
