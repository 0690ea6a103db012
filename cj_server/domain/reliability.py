"""Reliability of a set of scores.

Scale separation reliability (Rasch SSR):
    SSR = (Var(theta_hat) - mean(SE^2)) / Var(theta_hat),  clipped to [0, 1].
It is honest for random pairing but adaptive pairing shrinks the SEs and so
inflates it (Bramley's effect).

Split-half reliability: split the judgements at random into two halves, fit
each half alone, correlate the two score vectors (r), and project to the full
set with Spearman-Brown, 2r / (1 + r); averaged over several random splits.
Under adaptive pairing each half's pairs were chosen using the other half's
outcomes, so it too overstates the truth with a weak judge. The half fits are
warm-started from the full fit's scores and skip the covariance, so one split
costs two sparse fits, O(judgements) each.
"""

from __future__ import annotations

import numpy as np

from cj_server.domain.bradley_terry import Comparisons, Fit, fit


def scale_separation_reliability(result: Fit) -> float:
    variance = float(np.var(result.scores))
    if variance <= 0:
        return 0.0
    return float(np.clip((variance - float(np.mean(result.standard_errors**2))) / variance, 0.0, 1.0))


def split_half_estimates(
    comparisons: Comparisons,
    rng: np.random.Generator,
    *,
    alpha: float,
    splits: int,
    start: np.ndarray | None = None,
) -> list[float]:
    if len(comparisons) < 4 or comparisons.n_items < 3:
        return [0.0]
    estimates = []
    for _ in range(splits):
        half = rng.permutation(len(comparisons)) < len(comparisons) // 2
        first = fit(comparisons.subset(half), alpha=alpha, start=start, uncertainty=False).scores
        second = fit(comparisons.subset(~half), alpha=alpha, start=start, uncertainty=False).scores
        if np.std(first) == 0 or np.std(second) == 0:
            estimates.append(0.0)
            continue
        r = float(np.corrcoef(first, second)[0, 1])
        estimates.append(float(np.clip(2 * r / (1 + r), 0.0, 1.0)) if r > -1 else 0.0)
    return estimates


def split_half_reliability(
    comparisons: Comparisons,
    rng: np.random.Generator,
    *,
    alpha: float,
    splits: int = 4,
    start: np.ndarray | None = None,
) -> float:
    return float(np.mean(split_half_estimates(comparisons, rng, alpha=alpha, splits=splits, start=start)))
