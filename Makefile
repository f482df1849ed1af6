# mmgc — the front door. `make` builds, `make test` runs every test (plus a
# sanitizer build), `make demo` runs the main job. Each installs what it needs.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build asan test demo clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMMGC_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

test: build asan
	@echo "== tests (release build)"
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer build)"
	@ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# Until training lands, the main job compiles every model and prints its summary.
demo: build
	@for f in models/*.mmg; do \
	  echo "== $$f"; ./$(BUILD)/mmgc "$$f" --summary || exit 1; echo; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
