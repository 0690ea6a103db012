"""Bradley-Terry scores by maximum a posteriori estimation with Newton's method.

Model. Essay i has ability theta_i. In comparison k the essay shown first, a_k,
beats the essay shown second, b_k, with probability

    p_k = sigma(theta[a_k] - theta[b_k] + beta),      sigma(x) = 1 / (1 + exp(-x)),

where beta is the judge's first-position advantage (fitted only when asked).

Prior. theta ~ N(0, I / alpha) and beta ~ N(0, 1 / alpha_beta). The log posterior

    L = sum_k [y_k log p_k + (1 - y_k) log(1 - p_k)] - alpha/2 |theta|^2 - alpha_beta/2 beta^2

(y_k = 1 when the first essay won) is strictly concave, so the mode exists and
is finite even for essays that never lost, never won, or sit in a component
disconnected from the rest.

Newton. With x_k = e[a_k] - e[b_k] (and a 1 for beta) and w_k = p_k (1 - p_k):

    gradient  g = sum_k (y_k - p_k) x_k - A param
    precision P = sum_k w_k x_k x_k^T + A          (A = diag(alpha, ..., alpha_beta))

and each step solves P delta = g by Cholesky, halving the step while L does not
increase. P's theta block is a weighted graph Laplacian plus alpha I, built with
bincount in O(K + n^2) per iteration.

Uncertainty. The Laplace approximation gives Cov = P^-1 at the mode. Scores are
reported centred, theta_c = C theta with C = I - 11^T / n, so their covariance
is C Cov C and the standard errors are the square roots of its diagonal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve, lapack


@dataclass(frozen=True)
class Comparisons:
    """Judgements as arrays: `first[k]` was shown first, `second[k]` second; `first_won[k]` says who won."""

    n_items: int
    first: np.ndarray
    second: np.ndarray
    first_won: np.ndarray

    @classmethod
    def from_outcomes(cls, n_items: int, outcomes: list[tuple[int, int, bool]]) -> Comparisons:
        if not outcomes:
            empty = np.zeros(0, dtype=np.int64)
            return cls(n_items, empty, empty, np.zeros(0, dtype=bool))
        array = np.asarray(outcomes, dtype=np.int64)
        return cls(n_items, array[:, 0], array[:, 1], array[:, 2].astype(bool))

    @classmethod
    def from_winners(cls, n_items: int, winner_loser: list[tuple[int, int]]) -> Comparisons:
        """choix-style (winner, loser) data, with the winner always shown first."""
        return cls.from_outcomes(n_items, [(w, loser, True) for w, loser in winner_loser])

    def __len__(self) -> int:
        return len(self.first)

    def subset(self, mask: np.ndarray) -> Comparisons:
        return Comparisons(self.n_items, self.first[mask], self.second[mask], self.first_won[mask])


@dataclass(frozen=True)
class Fit:
    scores: np.ndarray  # centred abilities (logits)
    covariance: np.ndarray  # of the centred abilities
    standard_errors: np.ndarray
    position_bias: float  # beta, in logits (0 when not fitted)
    position_bias_se: float
    iterations: int


def _log_posterior(comparisons: Comparisons, params: np.ndarray, n: int, prior: np.ndarray) -> float:
    margin = params[comparisons.first] - params[comparisons.second] + (params[n] if len(params) > n else 0.0)
    signed = np.where(comparisons.first_won, margin, -margin)
    return float(-np.logaddexp(0.0, -signed).sum() - 0.5 * (prior * params * params).sum())


def fit(
    comparisons: Comparisons,
    *,
    alpha: float = 0.1,
    fit_position_bias: bool = False,
    alpha_bias: float = 1.0,
    max_iterations: int = 100,
    tolerance: float = 1e-8,
) -> Fit:
    n = comparisons.n_items
    size = n + (1 if fit_position_bias else 0)
    prior = np.full(size, alpha, dtype=float)
    if fit_position_bias:
        prior[n] = alpha_bias
    a, b, y = comparisons.first, comparisons.second, comparisons.first_won.astype(float)
    params = _diagonal_start(a, b, y, n, size, prior)
    current = _log_posterior(comparisons, params, n, prior)
    iterations = 0
    factor = None
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - reported below
        bias = params[n] if fit_position_bias else 0.0
        p = 1.0 / (1.0 + np.exp(-(params[a] - params[b] + bias)))
        residual, weight = y - p, p * (1.0 - p)
        gradient = -prior * params
        gradient[:n] += np.bincount(a, residual, n) - np.bincount(b, residual, n)
        if fit_position_bias:
            gradient[n] += residual.sum()
        precision = _precision(a, b, weight, n, size, prior, fit_position_bias)
        factor = cho_factor(precision, check_finite=False)
        step = cho_solve(factor, gradient, check_finite=False)
        scale = 1.0
        while True:
            candidate = params + scale * step
            value = _log_posterior(comparisons, candidate, n, prior)
            if value >= current - 1e-12 or scale < 1e-6:
                break
            scale /= 2
        params, current = candidate, value
        # Newton decrement g.step: the log posterior is within about half of it of its maximum,
        # and the next step would be quadratically smaller still.
        if scale == 1.0 and float(gradient @ step) < tolerance * max(1.0, len(comparisons)):
            break
    # Newton converges quadratically: after a step this small the precision at the mode equals the
    # last one to within the step, so its factor is reused for the covariance.
    if factor is None:  # no iteration ran (max_iterations=0): the prior alone
        factor = cho_factor(np.diag(prior), check_finite=False)
    covariance_full = _inverse_from_factor(factor[0])
    covariance = _centre(covariance_full[:n, :n])
    scores = params[:n] - params[:n].mean()
    return Fit(
        scores=scores,
        covariance=covariance,
        standard_errors=np.sqrt(np.clip(np.diag(covariance), 0, None)),
        position_bias=float(params[n]) if fit_position_bias else 0.0,
        position_bias_se=float(np.sqrt(covariance_full[n, n])) if fit_position_bias else 0.0,
        iterations=iterations,
    )


def _diagonal_start(a, b, y, n: int, size: int, prior: np.ndarray) -> np.ndarray:
    """One Newton step from zero with only the diagonal of the precision: (wins - losses) / 2
    over (games / 4 + alpha). Cheap, and it saves the first full iterations."""
    start = np.zeros(size)
    residual = y - 0.5
    gradient = np.bincount(a, residual, n) - np.bincount(b, residual, n)
    games = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    start[:n] = gradient / (0.25 * games + prior[:n])
    return start - np.concatenate([np.full(n, start[:n].mean()), np.zeros(size - n)])


def _inverse_from_factor(factor: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix from its upper Cholesky factor (LAPACK potri)."""
    inverse, info = lapack.dpotri(factor, lower=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"could not invert the precision matrix (potri info {info})")
    upper = np.triu(inverse)
    return upper + np.triu(inverse, 1).T


def _centre(covariance: np.ndarray) -> np.ndarray:
    """C S C with C = I - 11^T/n, in O(n^2): S - r 1^T - 1 r^T + m, r the row means, m the grand mean."""
    rows = covariance.mean(axis=1)
    return covariance - rows[:, None] - rows[None, :] + rows.mean()


def _precision(
    a: np.ndarray, b: np.ndarray, weight: np.ndarray, n: int, size: int, prior: np.ndarray, with_bias: bool
) -> np.ndarray:
    """sum_k w_k x_k x_k^T + diag(prior): the Laplacian of the comparison graph, weighted."""
    precision = np.bincount(a * size + b, weight, size * size).astype(float).reshape(size, size)
    precision += precision.T
    np.negative(precision, out=precision)
    degree = np.bincount(a, weight, n) + np.bincount(b, weight, n)
    precision[np.arange(n), np.arange(n)] += degree
    if with_bias:
        column = np.bincount(a, weight, n) - np.bincount(b, weight, n)
        precision[:n, n] = column
        precision[n, :n] = column
        precision[n, n] = weight.sum()
    precision[np.diag_indices(size)] += prior
    return precision
