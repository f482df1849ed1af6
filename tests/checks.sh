# checks.sh — what the shell tests share; source it after setting nothing:
#   . "$(dirname "$0")/../checks.sh"
# gives $tmp (a fresh directory, removed on exit), MMGC_CACHE_DIR (the llvm
# backend's code cache: ctest's, else one in $tmp, never the user's), the
# counters, and:
#   ok / bad WHAT                 count a pass / a failure (printed)
#   check WHAT COMMAND...         the command must succeed (stdout in $tmp/out)
#   expect STATUS TEXT WHAT CMD...  its exit status, and TEXT in its stderr ($tmp/err)
#   same WHAT FILE FILE           byte-identical files
#   finish                        prints "N passed, N failed"; the exit status
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: "${MMGC_CACHE_DIR:=$tmp/code-cache}"
export MMGC_CACHE_DIR
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; }

check() {
    what=$1
    shift
    if "$@" >"$tmp/out" 2>"$tmp/err"; then ok; else bad "$what (exit $?)"; cat "$tmp/err"; fi
}

expect() {
    want=$1 text=$2 what=$3
    shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ] && grep -qF -- "$text" "$tmp/err"; then ok; else
        bad "$what: exit $got (expected $want), stderr:"; cat "$tmp/err"; fi
}

same() {
    if cmp -s "$2" "$3"; then ok; else bad "$1: $2 and $3 differ"; fi
}

finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
