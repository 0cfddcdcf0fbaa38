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

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DLIFELINE_SANITIZE=ON $(CMAKE_FLAGS)

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
