# B8: the real lifelined stopped with SIGSTOP for 0.5 / 5 / 30 s, on the
# process provider with heartbeating example-app instances.
if(TARGET lifelined AND TARGET lifeline-example-app)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
  find_package(nlohmann_json REQUIRED)
  lifeline_bench(bench_stall stall_bench.cc
                 LIBS PkgConfig::HTTPLIB nlohmann_json::nlohmann_json)
  add_dependencies(bench_stall lifelined lifeline-example-app)
endif()
