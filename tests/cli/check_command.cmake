# Runs one muxlab command and checks its exit status and what it printed.
#   cmake -DCOMMAND="a;b;c" -DEXIT=2 -DOUTPUT=<regex> [-DWORKDIR=dir] [-DFILES="f;g"]
#         -P check_command.cmake
# FILES are removed before the command runs and must exist after it: the files it says it wrote.
if(FILES)
  file(REMOVE ${FILES})
endif()
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                WORKING_DIRECTORY "${WORKDIR}")
set(printed "${out}${err}")
if(NOT status STREQUAL "${EXIT}")
  message(FATAL_ERROR "exit status ${status}, expected ${EXIT}; it printed:\n${printed}")
endif()
if(NOT printed MATCHES "${OUTPUT}")
  message(FATAL_ERROR "output does not match '${OUTPUT}'; it printed:\n${printed}")
endif()
foreach(written IN LISTS FILES)
  if(NOT EXISTS "${written}")
    message(FATAL_ERROR "${written} was not written; it printed:\n${printed}")
  endif()
endforeach()
