#!/bin/sh
# fuzz.sh — builds the libFuzzer harnesses with clang and fuzzes each target.
#
#   sh tests/fuzz/fuzz.sh [--fresh] SECONDS BUILD_DIR [TARGET...]
#
# Run from the repository's root. Builds BUILD_DIR (-DMMGC_FUZZ=ON, clang,
# ASan + UBSan), then runs each target (default: all) for SECONDS. New
# corpus entries go to BUILD_DIR/corpus/TARGET, never into the repository
# (tests/fuzz/corpus/TARGET is read as a seed); with --fresh they go to a
# temporary directory instead, so a short run starts from the seeds alone
# and keeps nothing but the build. A crash is written to
# BUILD_DIR/crashes/TARGET/ and named at the end. Exits 0 if no target
# crashed, 1 if one did (or the build failed), 77 if clang or libFuzzer is
# missing (ctest counts that as skipped). FUZZ_JOBS: build jobs (default 2).
set -u
fresh=0
if [ "${1:-}" = --fresh ]; then fresh=1; shift; fi
seconds=${1:?usage: fuzz.sh SECONDS BUILD_DIR [TARGET...]}
build=${2:?usage: fuzz.sh SECONDS BUILD_DIR [TARGET...]}
shift 2
targets=${*:-mmg ir npy safetensors idx wav}
cc=${FUZZ_CC:-clang}

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > "$probe/p.c"
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: skipped: $cc is not installed (scripts/install-deps.sh installs clang and libclang-rt-14-dev)"
    exit 77
fi
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >"$probe/log" 2>&1; then
    echo "fuzz: skipped: $cc cannot link libFuzzer (package libclang-rt-14-dev):"
    cat "$probe/log"
    exit 77
fi

if ! { CC=$cc cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMMGC_FUZZ=ON >"$probe/log" 2>&1 &&
       cmake --build "$build" -j "${FUZZ_JOBS:-2}" --target $(for t in $targets; do echo fuzz_$t; done) \
             >>"$probe/log" 2>&1; }; then
    cat "$probe/log"
    echo "fuzz: the clang build in $build failed"
    exit 1
fi

failed=""
for t in $targets; do
    corpus=$build/corpus/$t
    if [ $fresh = 1 ]; then corpus=$probe/corpus-$t; fi
    mkdir -p "$corpus" "$build/crashes/$t"
    start=$(date +%s)
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
        -artifact_prefix="$build/crashes/$t/" -print_final_stats=1 \
        "$corpus" "tests/fuzz/corpus/$t" >"$build/fuzz_$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz_$t.log")
    echo "fuzz: $t: ${runs:-?} inputs in $(($(date +%s) - start)) s, scratch corpus $(ls "$corpus" | wc -l) files"
    if [ $rc -ne 0 ]; then
        tail -n 60 "$build/fuzz_$t.log"
        echo "fuzz: $t crashed (log: $build/fuzz_$t.log; input in $build/crashes/$t/)"
        failed="$failed $t"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: crashed:$failed"
    exit 1
fi
