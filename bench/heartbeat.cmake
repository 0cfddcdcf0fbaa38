# Heartbeat pipeline benchmarks (B1 B2 B3 B5 B7 B12); see
# docs/benchmarks-heartbeat.md for the figures and how they were measured.
if(TARGET lifeline_heartbeat)
  lifeline_bench(bench_heartbeat_detector heartbeat_detector.cc
                 LIBS lifeline_heartbeat)
  lifeline_bench(bench_heartbeat_udp heartbeat_udp.cc LIBS lifeline_heartbeat)
endif()
