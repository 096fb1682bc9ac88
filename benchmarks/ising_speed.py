"""Speed of the Ising Monte Carlo kernels (run by hand, not a test).

    .venv/bin/python benchmarks/ising_speed.py [--lattice 40] [--seconds 2]

Prints single-spin Metropolis updates per second on one core for the checkerboard
kernel and for the straightforward reference (random site, numba's generator, exp per
step) on the same lattice, their ratio, and Wolff cluster updates per second at Tc.
Each number is the best of several timed repetitions after a warm-up (compilation).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from mlreview.ising import kernels  # noqa: E402
from mlreview.ising.exact import critical_temperature  # noqa: E402


def best_rate(run, work: float, repeats: int) -> float:
    """work units per second of the fastest of ``repeats`` calls of ``run``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return work / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lattice", type=int, default=40)
    parser.add_argument("--sweeps", type=int, default=20000, help="checkerboard sweeps per timed call")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--temperatures", type=float, nargs="*", default=[1.0, critical_temperature(), 4.0])
    args = parser.parse_args()
    L, n = args.lattice, args.lattice**2
    print(f"L = {L}, one thread; rates are the best of {args.repeats} runs")
    for T in args.temperatures:
        sub = kernels.to_sublattices(np.ones((L, L), np.int8))
        state = kernels.seed_state(1, 2, 3)
        thresholds = kernels.metropolis_thresholds(T)
        kernels.metropolis_sweeps(sub, 100, thresholds, state)  # compile + equilibrate a little
        fast = best_rate(lambda: kernels.metropolis_sweeps(sub, args.sweeps, thresholds, state), args.sweeps * n,
                         args.repeats)
        spins = np.ones((L, L), np.int8)
        kernels.metropolis_random_site(spins, 1000, T, 1.0, 7)
        m = args.sweeps * n // 8
        ref = best_rate(lambda: kernels.metropolis_random_site(spins, m, T, 1.0, 7), m, args.repeats)
        print(f"T = {T:.3f}: checkerboard {fast:.3g} updates/s, reference {ref:.3g} updates/s, ratio {fast / ref:.1f}")
    tc = critical_temperature()
    sub = kernels.to_sublattices(np.ones((L, L), np.int8))
    state = kernels.seed_state(4, 5, 6)
    stack = np.empty(n, np.int64)
    p_add = 1.0 - np.exp(-2.0 / tc)
    kernels.wolff_updates(sub, 1000, p_add, state, stack)
    clusters = 20000
    sizes = []

    def wolff():
        sizes.append(kernels.wolff_updates(sub, clusters, p_add, state, stack))

    rate = best_rate(wolff, clusters, args.repeats)
    mean_size = sum(sizes) / (clusters * len(sizes))
    print(f"Wolff at Tc = {tc:.4f}: {rate:.3g} clusters/s (mean cluster {mean_size:.0f} spins, "
          f"{rate * mean_size:.3g} spins flipped/s)")


if __name__ == "__main__":
    main()
