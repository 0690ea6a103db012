"""Benchmark: time to choose one wave for 2,000 essays (from a fitted posterior).

Run: .venv/bin/python bench/pairing_speed.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cj_server.domain.bradley_terry import Comparisons, fit
from cj_server.domain.pairing import PairingState, next_wave


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--essays", type=int, default=2000)
    parser.add_argument("--comparisons-per-essay", type=int, default=4)
    args = parser.parse_args()
    n = args.essays
    rng = np.random.default_rng(3)
    theta = rng.normal(0, 2, n)
    k = n * args.comparisons_per_essay // 2
    first = rng.integers(0, n, k)
    second = (first + rng.integers(1, n, k)) % n
    won = rng.random(k) < 1 / (1 + np.exp(-(theta[first] - theta[second])))
    started = time.perf_counter()
    posterior = fit(Comparisons(n, first, second, won))
    fit_time = time.perf_counter() - started
    asked = np.eye(n, dtype=bool)
    asked[first, second] = True
    state = PairingState(
        posterior.scores,
        posterior.covariance,
        asked,
        np.bincount(first, minlength=n).astype(float),
        np.bincount(second, minlength=n).astype(float),
    )
    times = []
    for _ in range(5):
        started = time.perf_counter()
        wave = next_wave(state, rng, max_pairs=n)
        times.append(time.perf_counter() - started)
    covered = len({x for pair in wave for x in pair})
    print(
        f"essays={n}: fit {fit_time:.2f} s; one wave of {len(wave)} pairs covering {covered} essays in "
        f"{min(times) * 1000:.0f} ms (best of 5), {max(times) * 1000:.0f} ms worst"
    )


if __name__ == "__main__":
    main()
