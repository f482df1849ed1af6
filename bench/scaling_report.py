#!/usr/bin/env python3
"""scaling_report.py -- bench/run.sh's scaling at one moment: what all cores
gain over one, from rounds timed on a machine whose cores change speed.

A round times the step on one thread pinned to each CPU, then on all cores,
then on each CPU again. The all-core run is only compared with the
one-thread runs around it when they agree: a round is steady when each
CPU's two times are within TOL of each other (default 0.10, a tenth of the
faster one). In a steady round each CPU's speed is the mean of its two
times, and

    speedup over CPU 0   = t(CPU 0) / t(all)
    over the fastest     = min t(CPU c) / t(all)
    share of the cores   = (1 / sum over c of 1 / t(CPU c)) / t(all)

the last setting the all-core step against a perfect split of the work
over the cores at the speeds just measured: it does not depend on which
core is slow.

    scaling_report.py steady [--tol TOL] BEFORE... -- AFTER...
        exit status 0 if the round is steady, 1 if not
    scaling_report.py row [--tol TOL] MODEL BACKEND < ROUNDS
        ROUNDS: a line per round, "BEFORE... | ALL | AFTER..." (ms); prints
        the table's row: medians over the steady rounds, and how many of
        the rounds were steady (if none was, the medians over all of
        them, marked "unsteady")
"""
import statistics
import sys


def fail(msg):
    print("scaling_report.py: " + msg, file=sys.stderr)
    sys.exit(2)


def times(words, what):
    try:
        vals = [float(w) for w in words]
    except ValueError:
        fail("%s: not a time in ms: %s" % (what, " ".join(words)))
    if not vals or any(v <= 0 for v in vals):
        fail("%s: times must be positive ms, one per CPU: %s" % (what, " ".join(words) or "(none)"))
    return vals


def is_steady(before, after, tol):
    return all(abs(a - b) <= tol * min(a, b) for a, b in zip(before, after))


def parse_round(line, lineno):
    parts = line.split("|")
    if len(parts) != 3:
        fail("round %d: expected 'BEFORE... | ALL | AFTER...', got: %s" % (lineno, line.strip()))
    before = times(parts[0].split(), "round %d" % lineno)
    alls = times(parts[1].split(), "round %d" % lineno)
    after = times(parts[2].split(), "round %d" % lineno)
    if len(alls) != 1 or len(before) != len(after):
        fail("round %d: one all-core time and as many times after as before: %s" % (lineno, line.strip()))
    return before, alls[0], after


def take_tol(args):
    tol = 0.10
    if args[:1] == ["--tol"]:
        if len(args) < 2:
            fail("--tol needs a value")
        try:
            tol = float(args[1])
        except ValueError:
            fail("--tol takes a fraction, not '%s'" % args[1])
        args = args[2:]
    return tol, args


def row(model, backend, lines, tol):
    rounds = [parse_round(l, i + 1) for i, l in enumerate(lines) if l.strip()]
    if not rounds:
        fail("no rounds on standard input")
    ncpu = len(rounds[0][0])
    if any(len(r[0]) != ncpu for r in rounds):
        fail("every round needs one time per CPU (%d)" % ncpu)
    steady = [r for r in rounds if is_steady(r[0], r[2], tol)]
    use = steady or rounds
    per_cpu = [[(b + a) / 2 for b, a in zip(r[0], r[2])] for r in use]
    med = statistics.median
    cpus = "/".join("%.2f" % med(p[c] for p in per_cpu) for c in range(ncpu))
    tall = med(r[1] for r in use)
    sp0 = med(p[0] / r[1] for p, r in zip(per_cpu, use))
    fast = med(min(p) / r[1] for p, r in zip(per_cpu, use))
    share = med(1 / sum(1 / t for t in p) / r[1] for p, r in zip(per_cpu, use))
    note = "%d of %d" % (len(steady), len(rounds)) if steady else "unsteady"
    return "%-32s %8s %20s %11.2f %7.2fx %8.2fx %9.0f%% %9s" % (
        model, backend, cpus, tall, sp0, fast, 100 * share, note)


def main(argv):
    if not argv or argv[0] not in ("steady", "row"):
        fail("usage: scaling_report.py steady [--tol TOL] BEFORE... -- AFTER... | row [--tol TOL] MODEL BACKEND < ROUNDS")
    tol, args = take_tol(argv[1:])
    if argv[0] == "steady":
        if "--" not in args:
            fail("steady: BEFORE... -- AFTER...")
        k = args.index("--")
        before, after = times(args[:k], "before"), times(args[k + 1:], "after")
        if len(before) != len(after):
            fail("steady: as many times after as before")
        return 0 if is_steady(before, after, tol) else 1
    if len(args) != 2:
        fail("row: MODEL BACKEND, the rounds on standard input")
    print(row(args[0], args[1], sys.stdin.read().splitlines(), tol))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
