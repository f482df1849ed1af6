"""ab_report.py — ab.sh's tables, from mmgc-bench-step --profile files.

    python3 bench/ab_report.py MODEL REF A=FILE B=FILE A=FILE B=FILE ...

Each file is one run's profile (JSON: its lines, each with its kernels'
names and milliseconds per step). REF picks the reference kernel of a
run: the largest kernel whose op (the name after "kN ") ends with REF.
Times are divided by that kernel's time in the same run.
"""
import json
import statistics
import sys


def load(path, ref):
    try:
        with open(path) as f:
            prof = json.load(f)
        kernels = [k for line in prof["lines"] for k in line["kernels"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"ab_report.py: {path} is not a readable --profile file ({e.__class__.__name__}: {e})")
    refs = [k for k in kernels if k["name"].split(" ", 1)[-1].endswith(ref)]
    if not refs:
        sys.exit(f"ab_report.py: no kernel whose op ends with '{ref}' in {path}")
    top = max(refs, key=lambda k: k["ms_per_step"])
    lines = {line["where"]: (line["ms_per_step"], line["text"]) for line in prof["lines"]}
    step = prof["step_ms"]
    return {"ref": top, "lines": lines, "step": step}


def spread(values):
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    model, ref, runs = argv[1], argv[2], {"A": [], "B": []}
    for arg in argv[3:]:
        side, path = arg.split("=", 1)
        runs[side].append(load(path, ref))
    if not runs["A"] or not runs["B"]:
        sys.exit("ab_report.py: needs runs of both A and B")
    print(f"{model}: times over the reference kernel, the largest whose op ends with '{ref}'")
    print("run    step ms   reference                          ref ms   step/ref")
    for i, (a, b) in enumerate(zip(runs["A"], runs["B"])):
        for side, r in (("A", a), ("B", b)):
            k = r["ref"]
            print(f"{side}{i + 1:<4} {r['step']:9.3f}   {k['name']:<32} {k['ms_per_step']:8.3f}   "
                  f"{r['step'] / k['ms_per_step']:8.3f}")
    where = sorted({w for side in runs.values() for r in side for w in r["lines"]},
                   key=lambda w: -statistics.median(r["lines"].get(w, (0, ""))[0] for r in runs["A"] + runs["B"]))
    print("\n.mmg line, ms over the reference: A median (range) -> B median (range), change")
    for w in where:
        share = {s: [r["lines"].get(w, (0.0, ""))[0] / r["ref"]["ms_per_step"] for r in runs[s]] for s in "AB"}
        a, b = statistics.median(share["A"]), statistics.median(share["B"])
        if max(a, b) < 0.005:
            continue
        text = next(r["lines"][w][1] for r in runs["A"] + runs["B"] if w in r["lines"])
        change = f"{100 * (b - a) / a:+.0f}%" if a > 0 else "new"
        print(f"  {w:<18} {spread(share['A'])} -> {spread(share['B'])}  {change:>5}  {text[:40]}")
    step = {s: [r["step"] / r["ref"]["ms_per_step"] for r in runs[s]] for s in "AB"}
    a, b = statistics.median(step["A"]), statistics.median(step["B"])
    print(f"\nwhole step over the reference: A {spread(step['A'])} -> B {spread(step['B'])}, "
          f"{100 * (b - a) / a:+.1f}%")


if __name__ == "__main__":
    main(sys.argv)
