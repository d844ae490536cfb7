# The differential: one program run on the real kernel and under `muxlab exec` must print the same.
#   cmake -DREAL="prog;args" -DEXEC="muxlab;exec;...;--;prog;args" [-DWORKDIR=dir] -P check_same_output.cmake
foreach(side IN ITEMS REAL EXEC)
  execute_process(COMMAND ${${side}} RESULT_VARIABLE status OUTPUT_VARIABLE out_${side}
                  ERROR_VARIABLE err WORKING_DIRECTORY "${WORKDIR}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${side} run exited ${status}:\n${out_${side}}${err}")
  endif()
endforeach()
if(out_REAL STREQUAL "")
  message(FATAL_ERROR "the program printed nothing on the real kernel")
endif()
if(NOT out_REAL STREQUAL out_EXEC)
  message(FATAL_ERROR "the real kernel and muxlab exec differ.\nreal:\n${out_REAL}\nexec:\n${out_EXEC}")
endif()
