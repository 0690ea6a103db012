"""Benchmark: comparisons per essay needed for a true reliability of 0.90.

Judge: the LPS `latent_bt` profile (sigma = 2, bias 0, seed "0"): deterministic per
ordered pair, as an LLM at temperature 0. True reliability = corr(scores, hidden
quality)^2. Policies, on the same essays:

  adaptive   our engine (information-driven waves, Bradley-Terry MAP fit)
  random     a random perfect matching each wave (no repeated ordered pair)
  reference  the reference system: coverage waves (random matching) that stop when
             no score moves more than 0.025 logits between waves, or at the budget

For each policy and k (comparisons per essay, each comparison counting for both of
its essays) it reports the mean true reliability, the SSR and the split-half
estimate, and the first k where the mean true reliability reaches 0.90.

Run: .venv/bin/python bench/cj_simulation.py --essays 100 --reps 10
"""

from __future__ import annotations

import argparse

import numpy as np

from cj_server.domain.bradley_terry import Comparisons, fit
from cj_server.domain.engine import EngineConfig, State, step
from cj_server.domain.pairing import PairingState, next_wave
from cj_server.domain.reliability import scale_separation_reliability, split_half_reliability
from llm_provider_server.domain.mock_judge import latent_quality, latent_winner

SIGMA = 2.0


def judge(texts: list[str], a: int, b: int) -> bool:
    winner, _ = latent_winner(texts[a], texts[b], sigma=SIGMA, bias=0.0, seed="0")
    return winner.value == "essay_a"


def measure(n: int, outcomes, quality, alpha: float) -> tuple[float, float, float]:
    comparisons = Comparisons.from_outcomes(n, outcomes)
    result = fit(comparisons, alpha=alpha)
    true = float(np.corrcoef(result.scores, quality)[0, 1] ** 2)
    split = split_half_reliability(comparisons, np.random.default_rng(0), alpha=alpha)
    return true, scale_separation_reliability(result), split


def adaptive(texts, quality, k_max, seed, alpha):
    n = len(texts)
    curve, outcomes, waves = {}, [], 0
    config = EngineConfig(alpha=alpha, fit_position_bias=False, split_half_splits=1)
    while len(outcomes) < n * k_max // 2:
        state = State(
            n_items=n,
            budget=n * k_max // 2,
            target_reliability=0.9999,
            single_wave=False,
            waves=waves,
            attempts=len(outcomes),
            succeeded=outcomes,
            pending=[],
            failed={},
            seed=seed,
        )
        planned = step(state, config)
        if not planned.wave:
            break
        outcomes = outcomes + [(a, b, judge(texts, a, b)) for a, b in planned.wave]
        waves += 1
        curve[round(2 * len(outcomes) / n)] = measure(n, outcomes, quality, alpha)
    return curve


def random_waves(texts, quality, k_max, seed, alpha, stability_stop: bool):
    n = len(texts)
    rng = np.random.default_rng(seed)
    asked = np.eye(n, dtype=bool)
    outcomes, curve, previous, stopped_at = [], {}, None, None
    while len(outcomes) < n * k_max // 2:
        state = PairingState(np.zeros(n), np.eye(n), asked, np.zeros(n), np.zeros(n))  # equal weights: random
        wave = next_wave(state, rng, max_pairs=n // 2)
        for a, b in wave:
            asked[a, b] = True
        outcomes = outcomes + [(a, b, judge(texts, a, b)) for a, b in wave]
        k = round(2 * len(outcomes) / n)
        curve[k] = measure(n, outcomes, quality, alpha)
        scores = fit(Comparisons.from_outcomes(n, outcomes), alpha=alpha).scores
        if (
            stability_stop
            and previous is not None
            and stopped_at is None
            and np.max(np.abs(scores - previous)) <= 0.025
        ):
            stopped_at = k
        previous = scores
    return curve, stopped_at


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--essays", type=int, default=100)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--k-max", type=int, default=25)
    parser.add_argument("--alpha", type=float, default=0.1)
    args = parser.parse_args()
    results = {"adaptive": [], "random": [], "reference": []}
    reference_stops = []
    for rep in range(args.reps):
        texts = [f"Simulated essay {rep}-{i}." for i in range(args.essays)]
        quality = np.array([latent_quality(t, SIGMA) for t in texts])
        results["adaptive"].append(adaptive(texts, quality, args.k_max, rep, args.alpha))
        results["random"].append(random_waves(texts, quality, args.k_max, rep, args.alpha, False)[0])
        curve, stop = random_waves(texts, quality, args.k_max, rep + 1000, args.alpha, True)
        results["reference"].append(curve)
        reference_stops.append(stop)
    print(f"essays={args.essays} reps={args.reps} sigma={SIGMA} judge=latent_bt (deterministic per ordered pair)")
    print("policy     k  true_rel  SSR    split_half  |split-true|")
    for policy, curves in results.items():
        reached = None
        for k in range(2, args.k_max + 1):
            rows = [c[k] for c in curves if k in c]
            if len(rows) < len(curves):
                continue
            true, ssr, split = (float(np.mean(col)) for col in zip(*rows, strict=True))
            if reached is None and true >= 0.90:
                reached = k
            if k in (5, 10, 15, 20, 25):
                print(f"{policy:10s} {k:2d}  {true:.3f}     {ssr:.3f}  {split:.3f}       {abs(split - true):.3f}")
        print(f"{policy:10s} first k with mean true reliability >= 0.90: {reached}")
    stops = [s for s in reference_stops if s is not None]
    print(
        f"reference stability stop (max |d theta| <= 0.025) fired in {len(stops)} of {len(reference_stops)} runs"
        + (f", at k = {stops}" if stops else "; budget decides")
    )


if __name__ == "__main__":
    main()
