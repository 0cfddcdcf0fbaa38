# B13: durable history through the embedded store (src/store).
if(TARGET lifeline_store)
  find_package(SQLiteCpp REQUIRED)
  lifeline_bench(bench_store store_history.cc LIBS lifeline_store SQLiteCpp)
endif()
