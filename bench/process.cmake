# B4, B6 and B11 side by side with supervisord and monit on real local
# processes (process_bench.cc); needs the daemon library and lifelined.
if(TARGET lifeline_daemon AND TARGET lifelined AND TARGET lifeline_sdk)
  # The supervised workload; not named bench_* so scripts/bench skips it.
  add_executable(process-bench-workload process_workload.cc)
  target_link_libraries(process-bench-workload PRIVATE lifeline_sdk)
  lifeline_bench(bench_process process_bench.cc process_harness.cc
                 process_lifeline.cc process_peers.cc
                 LIBS lifeline_daemon lifeline_config)
  add_dependencies(bench_process process-bench-workload lifelined)
  target_compile_definitions(bench_process PRIVATE
    PROCESS_BENCH_WORKLOAD="$<TARGET_FILE:process-bench-workload>"
    PROCESS_BENCH_LIFELINED="$<TARGET_FILE:lifelined>")
endif()
