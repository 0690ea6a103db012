"""Simulated judgements for the engine's tests: abilities ~ N(0, 2^2), random pairs, Bradley-Terry outcomes."""

from __future__ import annotations

import numpy as np

from cj_server.domain.bradley_terry import Comparisons


def simulated(n: int, k: int, seed: int, bias: float = 0.0, sigma: float = 2.0):
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, sigma, n)
    first = rng.integers(0, n, k)
    second = (first + rng.integers(1, n, k)) % n
    won = rng.random(k) < 1 / (1 + np.exp(-(theta[first] - theta[second] + bias)))
    return theta, Comparisons(n, first, second, won)


def neighbour_design(n: int, per_essay: int, seed: int, sigma: float = 2.0, reach: int = 8):
    """Pairs between near neighbours in the true order, as adaptive pairing produces: a banded graph."""
    rng = np.random.default_rng(seed)
    theta = np.sort(rng.normal(0, sigma, n))
    k = n * per_essay // 2
    first = rng.integers(0, n, k)
    second = np.clip(first + rng.choice([-1, 1], k) * rng.integers(1, reach + 1, k), 0, n - 1)
    keep = first != second
    first, second = first[keep], second[keep]
    won = rng.random(len(first)) < 1 / (1 + np.exp(-(theta[first] - theta[second])))
    return theta, Comparisons(n, first, second, won)
