"""Benchmark: our Bradley-Terry MAP fit against choix.opt_pairwise.

1,000 essays, 10,000 comparisons, abilities ~ N(0, 2^2). Reports wall time (best of
`--repeats`), the speed ratio, RMSE of the centred scores against the truth for
both, and how often the truth lies within our 95% intervals (choix gives no SEs).
Same regularisation for both: choix's alpha penalises alpha*|theta|^2, ours alpha/2*|theta|^2.

Run: .venv/bin/python bench/bt_fit_speed.py
"""

from __future__ import annotations

import argparse
import time

import choix
import numpy as np

from cj_server.domain.bradley_terry import Comparisons, fit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--comparisons", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    n, k = args.items, args.comparisons
    theta = rng.normal(0, 2, n)
    first = rng.integers(0, n, k)
    second = (first + rng.integers(1, n, k)) % n
    won = rng.random(k) < 1 / (1 + np.exp(-(theta[first] - theta[second])))
    winners = [(int(a), int(b)) if w else (int(b), int(a)) for a, b, w in zip(first, second, won, strict=True)]
    comparisons = Comparisons(n, first, second, won)
    truth = theta - theta.mean()

    ours_times, choix_times = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        ours = fit(comparisons, alpha=0.25)  # prior sd 2, as the truth
        ours_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        reference = choix.opt_pairwise(n, winners, alpha=0.125)
        choix_times.append(time.perf_counter() - started)
    reference = reference - reference.mean()
    coverage = np.mean(np.abs(ours.scores - truth) <= 1.96 * ours.standard_errors)
    ours_rmse = np.sqrt(np.mean((ours.scores - truth) ** 2))
    choix_rmse = np.sqrt(np.mean((reference - truth) ** 2))
    speed_up = min(choix_times) / min(ours_times)
    difference = np.max(np.abs(ours.scores - reference))
    print(f"items={n} comparisons={k} repeats={args.repeats} (best time of each)")
    print(
        f"ours  : {min(ours_times):.3f} s (fit + covariance + SEs), RMSE {ours_rmse:.4f}, "
        f"95% interval coverage {coverage:.3f}"
    )
    print(f"choix : {min(choix_times):.3f} s (scores only),           RMSE {choix_rmse:.4f}")
    print(f"speed-up: {speed_up:.1f}x; max |ours - choix| = {difference:.2e}")


if __name__ == "__main__":
    main()
