# Thin wrapper over CMake/CTest. Every target runs scripts/setup first, so the two
# commands of the README work on a fresh Debian 12 machine.
BUILD     ?= build
ASAN      ?= build-asan
FUZZ      ?= build-fuzz
JOBS      ?= $(shell nproc)
FUZZ_SECONDS ?= 30
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all setup configure build test demo bench sanitize fuzz format clean

all: build

setup:
	@scripts/setup

configure: setup
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: build
	@scripts/demo $(BUILD)/ctprep

bench: build
	@scripts/bench $(BUILD)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, then the fuzz
# targets (clang-14 + libFuzzer) for a bounded time each.
sanitize: setup
	@cmake -S . -B $(ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DCTPREP_SANITIZE=ON -DCTPREP_BENCH=OFF >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN) --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz

fuzz: setup
	@CXX=clang++-14 cmake -S . -B $(FUZZ) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCTPREP_FUZZ=ON -DCTPREP_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ) -j $(JOBS) --target fuzz_targets
	@scripts/fuzz $(FUZZ) $(FUZZ_SECONDS)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
