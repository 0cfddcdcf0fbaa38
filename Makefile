# Lifeline: the commands a new user runs.
#   make run    install what is missing, build, start the main job
#   make test   install what is missing, build, run every test
#   make bench  Release build, run the benchmarks (bench/results/latest.json)
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
RELEASE ?= build-release
CMAKE_FLAGS ?=

.PHONY: all bootstrap build test run bench fuzz format clean demo

all: build

bootstrap:
	@bash scripts/bootstrap

# The test build: clang with ASan + UBSan at -O1 -g1 (about twice as fast to
# compile as g++ -O2 -g on a 2-core machine); benchmarks build with g++ -O2.
$(BUILD)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(BUILD) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
	  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
	  -DLIFELINE_SANITIZE=ON -DLIFELINE_BUILD_BENCH=OFF $(CMAKE_FLAGS)

build: bootstrap $(BUILD)/build.ninja
	flock /tmp/lifeline-build.lock cmake --build $(BUILD) -j $(JOBS)

test: build
	@bash scripts/fuzz-smoke
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

run: build
	@bash scripts/run

demo: build
	$(BUILD)/bin/lifeline-demo

$(RELEASE)/build.ninja:
	cmake -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DLIFELINE_BUILD_TESTS=OFF -DLIFELINE_WERROR=ON $(CMAKE_FLAGS)

bench: 
	@bash scripts/bootstrap --bench
	@$(MAKE) --no-print-directory $(RELEASE)/build.ninja
	flock /tmp/lifeline-build.lock cmake --build $(RELEASE) -j $(JOBS)
	@bash scripts/bench

format:
	find src include bench fuzz tests examples -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(RELEASE) build-fuzz
