# B9 (correlated silence -> zonal shift decision) and warm-pool replacement
# latency, in simulated time over the sim provider (src/zones).
if(TARGET lifeline_zones_sim)
  lifeline_bench(bench_zones zones_shift.cc LIBS lifeline_zones_sim)
endif()
