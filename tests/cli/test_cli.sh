#!/bin/sh
# test_cli.sh MMGC MAKE_DATA — the command line: exit statuses, help, emit
# kinds, -o, --predict, training's outputs and its failures (outputs that
# cannot be written, empty splits, divergence).
# Prints "N passed, N failed" and exits non-zero on any failure.
mmgc=$1
make_data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the llvm backend's code cache: ctest names one; never the user's ~/.cache
: "${MMGC_CACHE_DIR:=$tmp/code-cache}"
export MMGC_CACHE_DIR
pass=0
fail=0

# expect STATUS DESCRIPTION -- ARGS...: runs mmgc, checks the exit status.
expect() {
    want=$1 what=$2
    shift 3
    "$mmgc" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $what: exit $got, expected $want"; cat "$tmp/err"; fi
}

# line FILE TEXT DESCRIPTION: the last run's output has TEXT as a whole line.
line() {
    if grep -qxF -- "$2" "$tmp/$1"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $3: no line '$2' in $1"; cat "$tmp/$1"; fi
}

# contains FILE TEXT DESCRIPTION: checks the last run's output.
contains() {
    if grep -qF -- "$2" "$tmp/$1"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: $3: '$2' not in $1"; cat "$tmp/$1"; fi
}

expect 0 "help" -- --help
contains out "usage: mmgc FILE.mmg [options]" "help text"
expect 0 "version" -- --version
contains out "mmgc 0." "version text"
expect 2 "no input" --
contains err "mmgc: error: no input file" "no input message"
expect 2 "unknown option" -- models/image_conv2net.mmg --frobnicate
contains err "mmgc: error: unknown option '--frobnicate'" "unknown option message"
expect 2 "option typo" -- models/image_conv2net.mmg --train --reprot out/r
line err "mmgc: error: unknown option '--reprot'; did you mean '--report'?" "the nearest option"
expect 2 "a train setting as an option" -- models/image_conv2net.mmg --train --epochs=5
line err "mmgc: error: unknown option '--epochs=5'; max_epochs is a train setting: --set max_epochs=5" "--epochs"
expect 2 "a train setting by its name" -- models/image_conv2net.mmg --train --patience 3
line err "mmgc: error: unknown option '--patience'; early_stopping.patience is a train setting: --set early_stopping.patience=N" "--patience"
expect 2 "the learning rate as an option" -- models/image_conv2net.mmg --train --lr=0.01
line err "mmgc: error: unknown option '--lr=0.01'; optimizer is a train setting: --set 'optimizer=adam(lr: 0.01)'" "--lr"
expect 2 "no option near" -- models/image_conv2net.mmg --frobnicate
line err "mmgc: error: unknown option '--frobnicate'; the options are --train, --eval, --predict, --input, --data, --save, --resume, --checkpoint, --log, --metrics-json, --report, --backend, --time, --summary, --emit, --stage, --dump-after, --set, --model, -I, -o, --version, --aot, --cpu, --weights, --study, --jobs, --no-train, --progress-label, --no-cache, --profile, --help, -h" "the option list"
# every option of that list is one --help explains
for opt in --train --eval --predict --input --data --save --resume --checkpoint --log --metrics-json --report --backend \
    --time --no-cache --summary --emit --stage --dump-after --set --model -I -o --version --aot --cpu --weights --profile --help; do
    if "$mmgc" --help | grep -qE -- "^  (-h, )?$opt([ =]|\$)"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: --help lacks $opt"; fi
done
expect 0 "help lists the train settings" -- --help
line out "train settings (in the model's train { ... }, or --set KEY=VALUE):" "train settings heading"
line out "  MMGC_THREADS         threads of the compiled step (default: one per core, at most 8; a value" "--help: MMGC_THREADS"
line out "                       that is not a count gets a warning and the default); with two or more," "--help: a bad MMGC_THREADS"
line out "  max_epochs                 the most epochs to train, at least 1 (default 100)" "max_epochs in --help"
line out "  early_stopping.patience    epochs without improvement before stopping (default 5)" "patience in --help"
for key in batch max_epochs val_split seed optimizer schedule warmup clip_grad_norm no_decay early_stopping.monitor \
    early_stopping.patience early_stopping.min_delta; do
    contains out "  $key " "--help explains $key"
done
expect 2 "no epochs to train" -- models/image_conv2net.mmg --train --set max_epochs=0
line err "<command line>:1:12: error: 'max_epochs' must be at least 1" "max_epochs=0 message"
expect 2 "a misspelled train setting in --set" -- models/image_conv2net.mmg --set max_epoch=3
line err "<command line>:1:1: note: did you mean 'max_epochs'?" "the nearest train setting"
line err "<command line>:1:1: note: the train settings are batch, max_epochs, val_split, seed, optimizer, schedule, warmup, clip_grad_norm, no_decay, early_stopping.monitor, early_stopping.patience, early_stopping.min_delta" "the train settings listed"
expect 2 "bad emit" -- models/image_conv2net.mmg --emit=llvm-bitcode
contains err "unknown --emit kind 'llvm-bitcode'" "bad emit message"
expect 1 "missing file" -- no/such/model.mmg
contains err "error: cannot open 'no/such/model.mmg'" "missing file message"
expect 2 "bad --set" -- models/multimodal_concat.mmg --set fusion=nosuchfusion
contains err "<command line>:1:8: error: unknown name 'nosuchfusion'" "bad --set value points into the option"
expect 1 "program error" -- tests/frontend/errors/unknown_name/unknown_block.mmg
contains err "unknown_block.mmg:7:26: error: unknown name 'lineer'" "file:line:col"
contains err "                         ^" "caret under the column"

expect 0 "summary" -- models/image_conv2net.mmg --summary
contains out "total" "summary total row"
contains out "225,034" "Conv2Net parameter count"
contains out "forward FLOPs per sample" "summary flops"
expect 0 "bilinear via --set" -- models/multimodal_concat.mmg --summary --set fusion=bilinear
contains out "multimodal.fusion.w" "bilinear weight"
contains out "[128, 128, 128]" "bilinear weight shape"
expect 0 "emit ir" -- models/multimodal_gated.mmg --emit=ir
contains out "graph multimodal_gated {" "ir header"
contains out "%multimodal.fusion.wa = param f32[128, 128]" "ir names values by path"
contains out "output loss = " "ir output"
expect 0 "emit dot" -- models/image_conv2net.mmg --emit=dot
contains out "digraph" "dot"
# Graphviz (scripts/install-deps.sh installs it) draws it
if command -v dot >/dev/null 2>&1; then
    if dot -Tsvg "$tmp/out" >"$tmp/graph.svg" 2>"$tmp/err" && grep -qF "<svg" "$tmp/graph.svg"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL: dot -Tsvg of --emit=dot"; cat "$tmp/err"; fi
else
    echo "note: dot (Graphviz) is not installed; scripts/install-deps.sh installs it"
fi
tiny_early=tests/runtime/tiny.mmg
expect 0 "emit kernels" -- models/image_conv2net.mmg --emit=kernels --stage=train
contains out "kernel 1: loop f32[64, 32, 26, 26]: %5 %6*=>%4 (in the call of kernel 0)" "kernels: bias and relu fused after the convolution, only the relu kept, over the convolution's output, in its call"
contains out "kernel 0: conv2d: %4* (and kernel 1's bias and ReLU, in its call)" "kernels: the convolution adds its bias and takes the ReLU"
contains out "; 2 convolutions add their bias in their call" "kernels: both of Conv2Net's convolutions take their epilogue"
contains out "kernel 51: loop f32[64, 32, 13, 13]: %87 %88*" "kernels: the first layer's ReLU gradient masks the pooled gradient, before the scatter"
contains out "kernel 52: max_pool2d_grad: %89*=>%6" "kernels: the pool's gradient then is the ReLU's input gradient, over the pool's input"
contains out "65 kernels for 194 computed nodes (22 loops fuse 151 nodes); 91 values kept in memory (*), 25 of them updates computed into their parameter or state (->), 17 computed over a value their kernel reads last (=>)" "kernels: the counts"
contains out "%335*->%conv2net.linear.b" "kernels: Adam's new bias written into the bias"
contains out "kernel 6: reshape: %14* (a view of %conv2net.conv2net_features.h_2: no copy)" "kernels: flatten copies nothing"
expect 0 "emit kernels of evaluation" -- models/image_conv2net.mmg --emit=kernels --stage=eval
contains out "19 kernels for 26 computed nodes (5 loops fuse 12 nodes); 21 values kept in memory (*)" "kernels of evaluation: the counts (22 kernels as written)"
if grep -q dropout_mask "$tmp/out"; then fail=$((fail + 1)); echo "FAIL: --stage=eval still draws dropout masks"; else pass=$((pass + 1)); fi
expect 2 "--stage with --train" -- $tiny_early --train --stage=train
line err "mmgc: error: --stage chooses the graph that --emit prints; it does not go with --train, --eval, --predict, --aot or --study" "--stage with --train: the message"
expect 2 "--dump-after with --train" -- $tiny_early --train --dump-after=autodiff
line err "mmgc: error: --dump-after chooses the graph that --emit prints; it does not go with --train, --eval, --predict, --aot or --study" "--dump-after with --train: the message"
expect 2 "--stage=eval with --emit=obj" -- $tiny_early --emit=obj -o "$tmp/e.o" --stage=eval
line err "mmgc: error: --stage=eval does not go with --emit=obj (the object holds every step)" "--stage=eval with --emit=obj: the message"
expect 2 "unknown --stage" -- $tiny_early --stage=backward
line err "mmgc: error: unknown --stage 'backward' (expected forward, train or eval)" "unknown --stage: the message"
expect 0 "dump after simplify" -- models/image_conv2net.mmg --dump-after=simplify
contains out "output \"update:conv2net.linear.b\"" "the dump has the updates"
expect 2 "bad pass" -- models/image_conv2net.mmg --dump-after=fold
contains err "unknown pass 'fold' for --dump-after (passes: autodiff, optimizer, simplify)" "bad pass message"
expect 0 "emit memplan" -- models/image_conv2net.mmg --emit=memplan --stage=train
contains out "42 values and 7 views, 17 computed over others (and 25 updates in place): planned peak 11.0 MiB, 12.4 MiB without reuse (89%)" "memplan: the peak and the naive sum"
contains out "%6                                       f32[64, 32, 26, 26]      offset          0  bytes    5537792  kernels 1..52  over %4" "memplan: the first bias and ReLU computed over the convolution they read"
contains out "%335                                     f32[10]                  in place of %conv2net.linear.b" "memplan: Adam's new bias computed into the bias"
contains out "%14                                      f32[64, 1600]            offset    9392128  bytes     409600  kernels 6..8  view of %conv2net.conv2net_features.h_2" "memplan: flatten is a view, at its input's offset"
expect 0 "emit llvm" -- models/image_conv2net.mmg --emit=llvm --set batch=4
contains out "define i32 @mmgc_step(" "llvm ir has the step function"
contains out "call i32 @mmgc_rt_call(" "llvm ir calls the runtime helpers"
expect 0 "emit asm of the training step" -- models/image_conv2net.mmg --emit=asm --stage=train --set batch=4
contains out "mmgc_step:" "asm has the step function"
expect 2 "bad backend" -- models/image_conv2net.mmg --backend=gpu
contains err "unknown backend 'gpu' (available: llvm, interp)" "bad backend message"
expect 0 "emit ast" -- models/multimodal_gated.mmg --emit=ast
contains out "model multimodal_gated extends multimodal" "ast"
expect 0 "-o" -- models/image_conv2net.mmg -o "$tmp/summary.txt"
if grep -qF "225,034" "$tmp/summary.txt"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: -o"; fi

expect 1 "misspelled train setting" -- tests/frontend/errors/invalid_train/misspelled.mmg
contains err "invalid_train/misspelled.mmg:5:13: error: unknown train setting 'clip_grad_nrom'" "train setting file:line:col"
expect 1 "no_decay pattern matching nothing" -- tests/runtime/tiny_tuned.mmg --stage=train --emit=ir --set 'no_decay=["*.b", "*.bias"]'
contains err "<command line>:1:18: error: no_decay: pattern \"*.bias\" matches no parameter" "no_decay error at the pattern"
expect 0 "scheduled lr is an input of the step" -- tests/runtime/tiny_tuned.mmg --stage=train --emit=ir
contains out "%optimizer.lr = input f32[]" "lr input"
# --predict on files written here: weights of zeros for tiny.mmg (plain
# names, no metadata) make every logit 0: class 0, probability 1/3.
npy_zeros() { # npy_zeros FILE ROWS COLS: float32 [ROWS, COLS] of zeros
    hdr="{'descr': '<f4', 'fortran_order': False, 'shape': ($2, $3), }"
    pad=$(( (64 - (10 + ${#hdr} + 1) % 64) % 64 ))
    len=$(( ${#hdr} + pad + 1 ))
    { printf '\223NUMPY\001\000'; printf "\\$(printf %03o $((len % 256)))\\$(printf %03o $((len / 256)))"
      printf "%s%${pad}s\n" "$hdr" ""; head -c $(($2 * $3 * 4)) /dev/zero; } >"$1"
}
weights='{"linear.w":{"dtype":"F32","shape":[8,16],"data_offsets":[0,512]},"linear.b":{"dtype":"F32","shape":[16],"data_offsets":[512,576]},"linear_2.w":{"dtype":"F32","shape":[16,3],"data_offsets":[576,768]},"linear_2.b":{"dtype":"F32","shape":[3],"data_offsets":[768,780]}}'
{ printf "\\$(printf %03o $((${#weights} % 256)))\\$(printf %03o $((${#weights} / 256)))\\000\\000\\000\\000\\000\\000"
  printf '%s' "$weights"; head -c 780 /dev/zero; } >"$tmp/zeros.safetensors"
npy_zeros "$tmp/x3.npy" 3 8
npy_zeros "$tmp/x37.npy" 3 7
tiny=tests/runtime/tiny.mmg
for backend in llvm interp; do
    expect 0 "predict ($backend)" -- $tiny --predict --checkpoint "$tmp/zeros.safetensors" --input x="$tmp/x3.npy" \
        -o "$tmp/logits.npy" --backend=$backend
    contains out "0  0  0.3333" "predict: the first sample's line ($backend)"
    contains out "2  0  0.3333" "predict: the third sample's line ($backend)"
    if [ "$(wc -l <"$tmp/out")" -eq 3 ] && grep -qF "'descr': '<f4', 'fortran_order': False, 'shape': (3, 3)" "$tmp/logits.npy"
    then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: predict: three lines and logits [3, 3] ($backend)"; fi
    rm -f "$tmp/logits.npy"
done
# the code cache: a miss, then a hit with the same predictions; --no-cache
# and MMGC_NO_CACHE turn it off; a folder that cannot be made is no error
cache_before=$MMGC_CACHE_DIR
MMGC_CACHE_DIR="$tmp/cli-cache"
predict_tiny() { # predict_tiny DESCRIPTION [OPTION]: tiny's predictions, with --time
    what=$1
    shift
    expect 0 "$what" -- $tiny --predict --checkpoint "$tmp/zeros.safetensors" --input x="$tmp/x3.npy" --time "$@"
}
predict_tiny "predict, cold cache"
contains out "; 1 modules; cache: 0 hits, 1 misses)" "a cold cache misses"
grep -v '^time:' "$tmp/out" >"$tmp/cold"
predict_tiny "predict, warm cache"
contains out "; 1 modules; cache: 1 hits, 0 misses)" "a warm cache hits"
grep -v '^time:' "$tmp/out" >"$tmp/warm"
if cmp -s "$tmp/cold" "$tmp/warm" && [ -s "$tmp/cold" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: cached code predicts what fresh code does"; fi
if [ "$(ls "$tmp/cli-cache" | grep -c '^[0-9a-f]\{64\}\.o$')" -eq 1 ] && [ "$(ls "$tmp/cli-cache" | wc -l)" -eq 1 ]; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: one entry KEY.o in the cache"; ls -la "$tmp/cli-cache"; fi
predict_tiny "predict --no-cache" --no-cache
contains out "; 1 modules; cache: off)" "--no-cache"
export MMGC_NO_CACHE=1
predict_tiny "predict, MMGC_NO_CACHE=1"
unset MMGC_NO_CACHE
contains out "; 1 modules; cache: off)" "MMGC_NO_CACHE=1"
MMGC_CACHE_DIR="$tmp/zeros.safetensors/cache"
predict_tiny "predict, a cache folder that cannot be made"
line out "time: llvm code cache: $tmp/zeros.safetensors/cache: $tmp/zeros.safetensors is not a directory (not cached)" "why not cached"
grep -v '^time:' "$tmp/out" >"$tmp/uncached"
if cmp -s "$tmp/cold" "$tmp/uncached"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: uncached code predicts the same"; fi
MMGC_CACHE_DIR=$cache_before
expect 1 "predict: wrong input shape" -- $tiny --predict --checkpoint "$tmp/zeros.safetensors" --input x="$tmp/x37.npy" -o "$tmp/logits.npy"
contains err "mmgc: error: $tmp/x37.npy: shape [3, 7] does not match the model's input 'x' ([-1, 8], any sample count)" "predict: shape message"
expect 1 "predict: unknown input" -- $tiny --predict --checkpoint "$tmp/zeros.safetensors" --input z="$tmp/x3.npy"
contains err "mmgc: error: --input z=$tmp/x3.npy: model 'tiny' has no input 'z' (its inputs: x)" "predict: unknown input message"
expect 1 "predict: unwritable -o" -- $tiny --predict --checkpoint "$tmp/zeros.safetensors" --input x="$tmp/x3.npy" -o "$tmp/no/dir/l.npy"
contains err "mmgc: error: $tmp/no/dir/l.npy: cannot write $tmp/no/dir/l.npy.tmp: No such file or directory" "predict: -o message"
if [ ! -s "$tmp/out" ] && [ ! -e "$tmp/logits.npy" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: a failed predict prints and writes nothing"; fi
# weights that are not numbers, a checksum that matches and one that does not
# (zlib.crc32 of 780 zero bytes is a34dc469; with byte 100 set to 1, d268d499)
put_st() { # put_st FILE HEADER DATA-COMMAND: a safetensors file
    { printf "\\$(printf %03o $((${#2} % 256)))\\$(printf %03o $((${#2} / 256)))\\000\\000\\000\\000\\000\\000"
      printf '%s' "$2"; eval "$3"; } >"$1"
}
put_st "$tmp/nan.safetensors" "$weights" 'head -c 596 /dev/zero; printf "\\000\\000\\300\\177"; head -c 180 /dev/zero'
expect 1 "predict: a NaN weight" -- $tiny --predict --checkpoint "$tmp/nan.safetensors" --input x="$tmp/x3.npy"
line err "mmgc: error: $tmp/nan.safetensors: tensor 'linear_2.w' holds NaN at index 5; a checkpoint's values must be finite numbers" "predict: NaN message"
summed='{"__metadata__":{"checksum":"crc32:a34dc469"},'${weights#?}
put_st "$tmp/summed.safetensors" "$summed" 'head -c 780 /dev/zero'
expect 0 "predict: a checksum that matches" -- $tiny --predict --checkpoint "$tmp/summed.safetensors" --input x="$tmp/x3.npy"
put_st "$tmp/flipped.safetensors" "$summed" 'head -c 100 /dev/zero; printf "\\001"; head -c 679 /dev/zero'
expect 1 "predict: a flipped bit" -- $tiny --predict --checkpoint "$tmp/flipped.safetensors" --input x="$tmp/x3.npy"
line err "mmgc: error: $tmp/flipped.safetensors: the tensors' bytes have checksum crc32:d268d499, but the metadata says crc32:a34dc469: the file is corrupt" "checksum message"
expect 2 "predict without a checkpoint" -- $tiny --predict --input x="$tmp/x3.npy"
contains err "mmgc: error: --predict needs --checkpoint FILE (the weights to predict with)" "predict: checkpoint message"
# A NaN in a --predict input names the file, the sample and the element.
{ npy_zeros "$tmp/xnan.npy" 2 8; } && head -c -24 "$tmp/xnan.npy" >"$tmp/xnan.tmp" \
    && { cat "$tmp/xnan.tmp"; printf '\000\000\300\177'; head -c 20 /dev/zero; } >"$tmp/xnan.npy"
expect 1 "predict: a NaN input" -- $tiny --predict --checkpoint "$tmp/zeros.safetensors" --input x="$tmp/xnan.npy"
line err "mmgc: error: $tmp/xnan.npy: sample 1, element 2 is NaN" "predict: NaN message"

# A model's data "DIR" is relative to the model's file; --data to the
# current directory. A missing directory says how to make one; --eval
# needs the test split only.
mkdir -p "$tmp/m"
cat >"$tmp/m/tiny.mmg" <<'MMG'
import "nn.mmg"
import "losses.mmg"
model tiny {
    data   "d"
    input  x: [B, 8]
    label  y: [B] i64
    logits = linear(dropout(relu(linear(x, 16)), 0.1), 3)
    loss   = cross_entropy(logits, y)
    train { batch: 16 }
}
MMG
expect 1 "eval: no data directory" -- "$tmp/m/tiny.mmg" --eval --checkpoint "$tmp/zeros.safetensors"
line err "mmgc: error: $tmp/m/d: no such data directory (\`make data\` builds the digits data set in data/digits; --data DIR reads another)" \
    "eval: missing data directory message"
mkdir -p "$tmp/m/d"
npy_zeros "$tmp/m/d/x_test.npy" 3 8
hdr="{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"
{ printf '\223NUMPY\001\000'; printf '\166\000'; printf "%s%$((118 - 1 - ${#hdr}))s\n" "$hdr" ""; head -c 24 /dev/zero; } \
    >"$tmp/m/d/y_test.npy"
expect 0 "eval: data relative to the model, test split only" -- "$tmp/m/tiny.mmg" --eval --checkpoint "$tmp/zeros.safetensors"
contains out "accuracy" "eval: metrics printed"
(cd "$tmp" && "$mmgc" m/tiny.mmg --eval --checkpoint zeros.safetensors --data m/d >out 2>err) && pass=$((pass + 1)) \
    || { fail=$((fail + 1)); echo "FAIL: --data relative to the current directory"; cat "$tmp/err"; }
(cd "$tmp/m" && "$mmgc" tiny.mmg --eval --checkpoint ../zeros.safetensors --data d >../out 2>../err) && pass=$((pass + 1)) \
    || { fail=$((fail + 1)); echo "FAIL: --data d from the model's directory"; cat "$tmp/err"; }

expect 2 "--input without NAME=" -- $tiny --predict --checkpoint "$tmp/zeros.safetensors" --input "$tmp/x3.npy"
contains err "mmgc: error: --input needs NAME=FILE.npy (a model input and its samples), not '$tmp/x3.npy'" "--input message"
expect 2 "--input without --predict" -- $tiny --input x="$tmp/x3.npy"
contains err "mmgc: error: --input only makes sense with --predict" "--input alone message"
expect 2 "--eval and --predict" -- $tiny --eval --predict --checkpoint "$tmp/zeros.safetensors"
contains err "mmgc: error: --eval and --predict exclude each other" "--eval --predict message"

# ---- training: what cannot be written or trained is an error, not a silent exit 0
expect 0 "help" -- --help
line out "exit status: 0 success, 1 an error in the program (or in the data, or an output that cannot be" "--help: exit status 1"
line out "written), 2 bad command-line use, 3 training diverged (a loss that is not a number: training stops," "--help: exit status 3"
"$make_data" "$tmp/tiny" 64 x:f32:8 y:i64:3 >/dev/null || { fail=$((fail + 1)); echo "FAIL: make_data tiny"; }
quick="max_epochs=2"
# --profile: the step's time by source line, after training; JSON beside the report or where asked
expect 0 "--profile with --report" -- $tiny --train --data "$tmp/tiny" --set $quick --profile --report "$tmp/prof"
contains out "  ms/step   share  MFLOP/step   MB/step  GFLOP/s  peak     GB/s   mem  line" "--profile: the table's header"
contains out "limits: FMA peak " "--profile: the machine's limits"
contains out "nn.mmg:13  return x @ w + b  [linear, linear_2]  k0 matmul" "--profile: the linear layers' line"
contains out "nn.mmg:48  return x * dropout_mask(x, p)  [dropout]  k1 dropout_mask, k30 loop" "--profile: the block instance"
contains out "(outside kernels)" "--profile: the step outside its kernels"
if [ -s "$tmp/prof/profile.json" ] && grep -q '"where": "tiny.mmg:10"' "$tmp/prof/profile.json"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: --profile --report DIR writes DIR/profile.json"; fi
if grep -q '<h2 id="profile">Profile</h2>' "$tmp/prof/index.html"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: --profile --report DIR: the report's Profile section"; fi
expect 0 "--profile=FILE.json" -- $tiny --train --data "$tmp/tiny" --set $quick --profile="$tmp/p.json"
if grep -q '"lines": \[' "$tmp/p.json"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: --profile=FILE.json"; fi
expect 2 "--profile on the interpreter" -- $tiny --train --data "$tmp/tiny" --backend=interp --profile
line err "mmgc: error: --profile needs the llvm backend (the interp backend does not time its kernels)" "--profile: interp message"
expect 2 "--profile without --train" -- $tiny --profile
expect 1 "--profile=FILE in a missing folder's file" -- $tiny --train --data "$tmp/tiny" --set $quick --profile=/dev/full/p.json
# a profile that cannot be written fails the run, but after the test: the results are not lost
expect 1 "--profile on a full disk" -- $tiny --train --data "$tmp/tiny" --set $quick --profile=/dev/full --metrics-json "$tmp/pfull.json"
line err "mmgc: error: /dev/full: cannot write /dev/full: No space left on device" "--profile on a full disk: the message"
contains out "test: loss " "--profile on a full disk: the test still ran"
if grep -q '"test_accuracy"' "$tmp/pfull.json"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: --profile on a full disk: the metrics file has the test results"; fi
# without --profile the step has no profiling calls; with it, one pair per kernel
expect 0 "--emit=llvm of the step" -- $tiny --stage=train --emit=llvm
if grep -q "define i32 @mmgc_step" "$tmp/out" && ! grep -q "mmgc_prof" "$tmp/out"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: --emit=llvm without --profile has profiling calls"; fi
kernels=$("$mmgc" $tiny --stage=train --emit=kernels | grep -c "^kernel ")
expect 0 "--emit=llvm --profile" -- $tiny --stage=train --emit=llvm --profile
if [ "$(grep -c "call void @mmgc_prof_enter" "$tmp/out")" -eq "$kernels" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: --emit=llvm --profile: not one mark per kernel ($kernels)"; fi
# a full disk: /dev/full as the metrics file, and behind a log's name; exit 1, nothing claimed
expect 1 "--metrics-json /dev/full" -- $tiny --train --data "$tmp/tiny" --set $quick --metrics-json /dev/full
line err "mmgc: error: /dev/full: cannot write /dev/full: No space left on device" "metrics on a full disk"
ln -s /dev/full "$tmp/full.csv"
expect 1 "--log on a full disk" -- $tiny --train --data "$tmp/tiny" --set $quick --log "$tmp/full.csv"
line err "mmgc: error: $tmp/full.csv: cannot write $tmp/full.csv: No space left on device" "log on a full disk"
if [ ! -s "$tmp/out" ]; then pass=$((pass + 1)); else  # the header failed: nothing trained
    fail=$((fail + 1)); echo "FAIL: training goes on after the log failed"; cat "$tmp/out"; fi
# outputs are checked before training: a folder that cannot be written (chmod
# does not stop root: then a sysfs folder, which nobody may create files in)
mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
ro="$tmp/ro"
if touch "$ro/probe" 2>/dev/null; then rm -f "$ro/probe"; ro=/sys; touch /sys/mmgc-probe 2>/dev/null && ro=; fi
if [ -n "$ro" ]; then
    for opt in --save --metrics-json; do
        expect 1 "$opt in a read-only folder" -- $tiny --train --data "$tmp/tiny" --set $quick $opt "$ro/out.file"
        line err "mmgc: error: $opt $ro/out.file: cannot write $ro/out.file.tmp: Permission denied" "$opt checked before training"
        if [ ! -s "$tmp/out" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $opt: trained anyway"; cat "$tmp/out"; fi
    done
    expect 1 "--log in a read-only folder" -- $tiny --train --data "$tmp/tiny" --set $quick --log "$ro/run.csv"
    line err "mmgc: error: --log $ro/run.csv: cannot write $ro/run.csv.tmp: Permission denied" "--log checked before training"
    expect 1 "--report in a read-only folder" -- $tiny --train --data "$tmp/tiny" --set $quick --report "$ro/report"
    contains err "mmgc: error: --report $ro/report: cannot create $ro/report: " "--report checked before training"
else
    echo "note: no folder here refuses writes (root, no sysfs); the read-only folder checks are skipped"
fi
chmod 755 "$tmp/ro"
ln -s /dev/null "$tmp/null.safetensors"  # a device (behind a link, so a regression replaces only the link)
expect 1 "--save to a device" -- $tiny --train --data "$tmp/tiny" --set $quick --save "$tmp/null.safetensors"
line err "mmgc: error: --save $tmp/null.safetensors: not a regular file (it is replaced whole, atomically)" "--save a device"
if [ -L "$tmp/null.safetensors" ] && [ ! -s "$tmp/out" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: --save to a device trained or replaced it"; fi
expect 1 "--save is a directory" -- $tiny --train --data "$tmp/tiny" --set $quick --save "$tmp"
line err "mmgc: error: --save $tmp: is a directory" "--save a directory"
# a learning rate that diverges: exit 3, a message naming where, the metrics file says so
expect 3 "a divergent learning rate" -- $tiny --train --data "$tmp/tiny" --set 'optimizer=sgd(lr: 1e6)' \
    --metrics-json "$tmp/diverged.json" --save "$tmp/diverged.safetensors"
where='the (training loss is (nan|inf|-inf) in epoch [0-9]+, batch [0-9]+ of 3|validation loss is (nan|inf|-inf) after epoch [0-9]+)'
if grep -qE "^mmgc: error: training diverged: $where(; the results are those of epoch [0-9]+, the best before it|, before any epoch was best; nothing was tested or saved)\$" "$tmp/err"
then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: the divergence message"; cat "$tmp/err"; fi
if grep -qE "^training diverged: $where\$" "$tmp/out"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: the divergence on standard output"; cat "$tmp/out"; fi
contains diverged.json '"diverged": "the ' "the metrics file says it diverged"
# the checkpoint, if an epoch finished, holds weights that evaluate
if [ ! -e "$tmp/diverged.safetensors" ] || "$mmgc" $tiny --eval --data "$tmp/tiny" --checkpoint "$tmp/diverged.safetensors" >/dev/null 2>&1
then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: the checkpoint of a diverged run"; fi
# empty splits: an error before training, naming the split and the data set
"$make_data" "$tmp/one" 1 x:f32:8 y:i64:3 >/dev/null || { fail=$((fail + 1)); echo "FAIL: make_data one"; }
expect 1 "an empty validation split" -- $tiny --train --data "$tmp/one" --report "$tmp/one-report"
line err "mmgc: error: $tmp/one: the validation split has no samples (val_split 0.25 of 1 training sample); set val_split=0 to train without one, or add samples" "empty validation split"
expect 1 "an empty test split" -- $tiny --train --data "$tmp/one" --set val_split=0 --report "$tmp/one-report"
line err "mmgc: error: $tmp/one: the test split has no samples (x_test.npy is empty); there is nothing to evaluate" "empty test split"
expect 1 "an empty test split (--eval)" -- $tiny --eval --data "$tmp/one" --checkpoint "$tmp/zeros.safetensors"
line err "mmgc: error: $tmp/one: the test split has no samples (x_test.npy is empty); there is nothing to evaluate" "empty test split (--eval)"
"$make_data" "$tmp/none" 0 x:f32:8 y:i64:3 >/dev/null || { fail=$((fail + 1)); echo "FAIL: make_data none"; }
expect 1 "an empty training split" -- $tiny --train --data "$tmp/none"
line err "mmgc: error: $tmp/none: the training split has no samples" "empty training split"
# memory: the data set is held once, as the model reads it. Loading 96 MiB
# of float32 (64 train, 32 test) raises the peak by the data and no more
# than a few MiB besides (88..112); a second copy of the training file would add 64.
"$make_data" "$tmp/wide_small" 4 x:f32:16384 y:i64:3 >/dev/null || { fail=$((fail + 1)); echo "FAIL: make_data wide_small"; }
"$make_data" "$tmp/wide_big" 1024 x:f32:16384 y:i64:3 >/dev/null || { fail=$((fail + 1)); echo "FAIL: make_data wide_big"; }
loaded_peak() { "$mmgc" tests/runtime/wide.mmg --train --time --set val_split=0.25 --data "$1" 2>/dev/null |
    sed -n 's/^memory: data set \([0-9]*\) MiB; peak resident \([0-9]*\) MiB once loaded, .*/\1 \2/p'; }
small=$(loaded_peak "$tmp/wide_small") big=$(loaded_peak "$tmp/wide_big")
set -- $small $big
if [ $# -eq 4 ] && [ "$3" -eq 96 ] && [ $(($4 - $2)) -ge 88 ] && [ $(($4 - $2)) -le 112 ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: data held once: data set and peak once loaded: small '$small', big '$big'"; fi
rm -rf "$tmp/wide_small" "$tmp/wide_big"

# kill -9 at moments spread over a run (compiling, training, writing the
# checkpoint), each time resumed from what was saved: the final checkpoint is
# the bytes of a run never stopped, and no temporary file is left
"$make_data" "$tmp/long" 3000 x:f32:8 y:i64:3 >/dev/null || { fail=$((fail + 1)); echo "FAIL: make_data long"; }
long="tests/runtime/tiny.mmg --set max_epochs=12 --set early_stopping.patience=100 --data $tmp/long"
# shellcheck disable=SC2086
"$mmgc" $long --train --save "$tmp/whole.st" >/dev/null 2>&1 || { fail=$((fail + 1)); echo "FAIL: the whole run"; }
for delay in 0.2 0.4 0.6 0.8 1.0 1.2 1.5; do
    resume=""
    [ -f "$tmp/killed.st" ] && resume="--resume $tmp/killed.st"
    # shellcheck disable=SC2086
    "$mmgc" $long --train --save "$tmp/killed.st" $resume >/dev/null 2>&1 &
    sleep "$delay"
    kill -9 $! 2>/dev/null
    wait $! 2>/dev/null
done
resume=""
[ -f "$tmp/killed.st" ] && resume="--resume $tmp/killed.st"
# shellcheck disable=SC2086
"$mmgc" $long --train --save "$tmp/killed.st" $resume >/dev/null 2>&1 || { fail=$((fail + 1)); echo "FAIL: the last resume"; }
if cmp -s "$tmp/whole.st" "$tmp/killed.st"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: killed and resumed: not the bytes of a run never stopped"; fi
if [ -e "$tmp/killed.st.tmp" ]; then fail=$((fail + 1)); echo "FAIL: a temporary file is left"; else pass=$((pass + 1)); fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
