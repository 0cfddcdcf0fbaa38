# B10 (recovery decisions on a 1 M-instance sim fleet) and B14 (simulated
# instance-hours per wall second): the controller core on the sim provider.
if(TARGET lifeline_controller AND TARGET lifeline_sim_provider)
  lifeline_bench(bench_controller controller_bench.cc
    LIBS lifeline_controller lifeline_sim_provider)
endif()
