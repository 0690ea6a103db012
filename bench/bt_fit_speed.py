"""Benchmark: our sparse Bradley-Terry MAP fit against choix.opt_pairwise, and the fit at national scale.

Part 1: 1,000 essays, 10,000 random comparisons, abilities ~ N(0, 2^2). Ours and choix
run interleaved (ours, choix, ours, choix, ...); medians and their ratio are reported,
with RMSE of the centred scores against the truth for both and the coverage of our 95%
intervals (choix gives no standard errors). "ours" is the whole fit the server uses
(scores, exact covariance below the dense threshold, standard errors); "ours, scores"
skips the covariance, as choix does. Same regularisation for both: choix's alpha
penalises alpha*|theta|^2, ours alpha/2*|theta|^2.

Part 2: 10,000 essays, 100,000 comparisons, cold and warm-started (the previous fit's
scores with 1% more judgements), with the approximate standard errors.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bt_fit_speed.py
"""

from __future__ import annotations

import argparse
import time

import choix
import numpy as np

from cj_server.domain.bradley_terry import Comparisons, fit


def simulate(n: int, k: int, seed: int) -> tuple[np.ndarray, Comparisons]:
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 2, n)
    first = rng.integers(0, n, k)
    second = (first + rng.integers(1, n, k)) % n
    won = rng.random(k) < 1 / (1 + np.exp(-(theta[first] - theta[second])))
    return theta, Comparisons(n, first, second, won)


def timed(function):
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def against_choix(n: int, k: int, repeats: int, seed: int) -> None:
    theta, comparisons = simulate(n, k, seed)
    winners = [
        (int(a), int(b)) if w else (int(b), int(a))
        for a, b, w in zip(comparisons.first, comparisons.second, comparisons.first_won, strict=True)
    ]
    truth = theta - theta.mean()
    times: dict[str, list[float]] = {"ours": [], "ours, scores": [], "choix": []}
    for _ in range(repeats):
        seconds, ours = timed(lambda: fit(comparisons, alpha=0.25))  # prior sd 2, as the truth
        times["ours"].append(seconds)
        seconds, _ = timed(lambda: fit(comparisons, alpha=0.25, uncertainty=False))
        times["ours, scores"].append(seconds)
        seconds, reference = timed(lambda: choix.opt_pairwise(n, winners, alpha=0.125))
        times["choix"].append(seconds)
    reference = reference - reference.mean()
    medians = {name: float(np.median(values)) for name, values in times.items()}
    coverage = np.mean(np.abs(ours.scores - truth) <= 1.96 * ours.standard_errors)
    print(f"items={n} comparisons={k} repeats={repeats} (interleaved, medians)")
    print(
        f"ours        : {medians['ours']:.3f} s (fit + exact covariance + SEs), "
        f"RMSE {np.sqrt(np.mean((ours.scores - truth) ** 2)):.4f}, 95% interval coverage {coverage:.3f}"
    )
    print(f"ours, scores: {medians['ours, scores']:.3f} s")
    choix_rmse = np.sqrt(np.mean((reference - truth) ** 2))
    print(f"choix       : {medians['choix']:.3f} s (scores only), RMSE {choix_rmse:.4f}")
    print(
        f"speed-up: {medians['choix'] / medians['ours']:.1f}x (whole fit), "
        f"{medians['choix'] / medians['ours, scores']:.1f}x (scores only); "
        f"max |ours - choix| = {np.max(np.abs(ours.scores - reference)):.2e}"
    )


def national(n: int, k: int, repeats: int, seed: int) -> None:
    theta, comparisons = simulate(n, k, seed)
    extra = n // 10
    rng = np.random.default_rng(seed + 1)
    first = rng.integers(0, n, extra)
    second = (first + rng.integers(1, n, extra)) % n
    more = Comparisons(
        n,
        np.append(comparisons.first, first),
        np.append(comparisons.second, second),
        np.append(comparisons.first_won, rng.random(extra) < 1 / (1 + np.exp(-(theta[first] - theta[second])))),
    )
    cold_times, warm_times = [], []
    for _ in range(repeats):
        seconds, cold = timed(lambda: fit(comparisons, fit_position_bias=True))
        cold_times.append(seconds)
        seconds, warm = timed(lambda c=cold: fit(more, fit_position_bias=True, start=c.scores))
        warm_times.append(seconds)
    truth = theta - theta.mean()
    coverage = np.mean(np.abs(cold.scores - truth) <= 1.96 * cold.standard_errors)
    print(f"items={n} comparisons={k} repeats={repeats} (medians), position bias fitted, approximate SEs")
    print(
        f"cold fit: {np.median(cold_times):.3f} s ({cold.iterations} Newton iterations), "
        f"95% interval coverage {coverage:.3f}"
    )
    print(f"warm fit (+{extra} judgements): {np.median(warm_times):.3f} s ({warm.iterations} Newton iterations)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--comparisons", type=int, default=10_000)
    parser.add_argument("--large-items", type=int, default=10_000)
    parser.add_argument("--large-comparisons", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    against_choix(args.items, args.comparisons, args.repeats, args.seed)
    national(args.large_items, args.large_comparisons, args.repeats, args.seed)


if __name__ == "__main__":
    main()
