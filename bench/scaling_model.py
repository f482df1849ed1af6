#!/usr/bin/env python3
"""scaling_model.py -- the README's scaling model for clusters, computed from
what bench/mpi_scaling.sh measured on one machine.

    bash bench/mpi_scaling.sh data/digits | python3 bench/scaling_model.py

For each model it reads the one-process samples/s (t1 = 64 / samples/s, the
step of a node with two threads), the two-process update milliseconds (u,
measured on one thread: an upper bound) and the MiB summed per step (S, plus
16 bytes of counters), and prints, for N = 8 and 64 ranks on two links,

    T(N)    = 2 (N-1)/N * S / bandwidth + 2 (N-1) * alpha  (ring all-reduce)
    step(N) = c * ceil(B/N) + u + T(N),   c = (t1 - u) / B  (per-sample compute)
    samples/s = B / step(N),   efficiency = t1 / (N * step(N))

with the model's global batch B = 64 split over the ranks, and the
efficiency with 64 rows per rank instead (global batch 64 N):
t1 / (t1 + T(N)).
"""
import math
import sys

BATCH = 64
LINKS = [("25 Gb/s", 25e9 / 8, 20e-6), ("100 Gb/s", 100e9 / 8, 3e-6)]  # bytes/s, per-message latency
NODES = [8, 64]


def allreduce_s(n, size_bytes, bandwidth, alpha):
    return 2 * (n - 1) / n * size_bytes / bandwidth + 2 * (n - 1) * alpha


def read(lines):
    """{model: {"rate1": samples/s of 1 process, "upd": ms, "mib": MiB}} from mpi_scaling.sh's table."""
    models = {}
    for line in lines:
        f = line.split()
        if len(f) < 6 or f[0] == "model":
            continue
        m = models.setdefault(f[0], {})
        if f[1:4] == ["1", "process", "x"]:
            m["rate1"] = float(f[6])
        elif f[1:4] == ["2", "processes", "x"]:
            m["upd"], m["mib"] = float(f[-2]), float(f[-1])
    return {k: v for k, v in models.items() if len(v) == 3}


def main():
    models = read(sys.stdin)
    if not models:
        sys.exit("scaling_model.py: no complete model rows on standard input (bench/mpi_scaling.sh's output)")
    print("| model | link | T(8) ms | samples/s at 8 | efficiency at 8 | T(64) ms | samples/s at 64 "
          "| efficiency at 64 | 64 rows per rank: efficiency at 64 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, m in models.items():
        t1 = BATCH / m["rate1"]
        u = m["upd"] / 1000
        c = (t1 - u) / BATCH
        size = m["mib"] * 2**20 + 16
        for link, bw, alpha in LINKS:
            row = [name, link]
            for n in NODES:
                t = allreduce_s(n, size, bw, alpha)
                step = c * math.ceil(BATCH / n) + u + t
                row += [f"{t * 1000:.2f}", f"{BATCH / step:,.0f}", f"{t1 / (n * step):.0%}"]
            row.append(f"{t1 / (t1 + allreduce_s(64, size, bw, alpha)):.0%}")
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
