# Writes scimd(8) and the example scimd.conf from the built binary's settings table, so
# neither can drift from the code: cmake -DBIN=… -DOUT_DIR=… -P gen-docs.cmake
foreach(pair "man;scimd.8" "config-example;scimd.conf")
    list(GET pair 0 cmd)
    list(GET pair 1 file)
    execute_process(COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0 ${BIN} ${cmd}
        OUTPUT_FILE ${OUT_DIR}/${file} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "scimd ${cmd} failed: ${rc}")
    endif()
endforeach()
