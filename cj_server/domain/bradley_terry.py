"""Bradley-Terry scores by maximum a posteriori estimation: sparse, warm-started Newton.

Model. Essay i has ability theta_i. In comparison k the essay shown first, a_k,
beats the essay shown second, b_k, with probability

    p_k = sigma(theta[a_k] - theta[b_k] + beta),      sigma(x) = 1 / (1 + exp(-x)),

where beta is the judge's first-position advantage (fitted only when asked).

Prior. theta ~ N(0, I / alpha) and beta ~ N(0, 1 / alpha_beta). The log posterior

    L = sum_k [y_k log p_k + (1 - y_k) log(1 - p_k)] - alpha/2 |theta|^2 - alpha_beta/2 beta^2

(y_k = 1 when the first essay won) is strictly concave, so the mode exists and
is finite even for essays that never lost, never won, or sit in a component
disconnected from the rest. At the mode sum(theta) = 0: every comparison adds
+r to one essay's gradient and -r to the other's, so the prior alone fixes the mean.

Newton. Let B be the K x (n [+1]) incidence matrix of the judgements (row k has
+1 at a_k, -1 at b_k, and 1 in the bias column), w_k = p_k (1 - p_k). Then

    gradient  g = B^T (y - p) - A param
    precision P = B^T diag(w) B + A          (A = diag(alpha, ..., alpha_beta))

P's theta block is the weighted Laplacian of the comparison graph plus alpha I:
about 2K + n non-zeros, never an n x n array. Each Newton step solves P delta = g
by conjugate gradients preconditioned with diag(P), using only products with B
and B^T (O(K) each); the step is halved while L does not increase. The prior
bounds the condition number, cond(P) <= (2 max_i sum_k w_k + alpha) / alpha, so
CG needs a few dozen products whatever n is. A warm start (the previous scores)
saves most Newton iterations when a few judgements were added. Memory is O(n + K).

Uncertainty. The Laplace approximation gives Cov = P^-1 at the mode. Scores are
reported centred, theta_c = C theta with C = I - 11^T / n, so their covariance is
C Cov C.
For n <= DENSE_SOLVE_MAX the Newton steps use a dense Cholesky instead of CG: the
same solution, and faster where n^2 is small.
- n <= `dense_max`: P is formed densely once at the mode, factorised (Cholesky)
  and inverted (LAPACK potri): exact covariance, standard errors and
  Var(theta_i - theta_j) = S_ii + S_jj - 2 S_ij for pairing. O(n^3), cheap there.
- n > `dense_max`: no covariance is formed. Two approximations, both O(K) per use:
  * pairing needs Var(theta_i - theta_j) only for candidate pairs; it uses the
    conditional variances 1/P_ii + 1/P_jj (each essay's own information). It
    ignores the correlation of scores through the rest of the graph, which for
    near neighbours in the ranking mostly cancels in the difference;
  * standard errors: the exact centred variances of `probes` randomly chosen
    essays are computed by CG (P x = e_i, plus one solve P u = 1 for the
    centring: Var(theta_c,i) = S_ii - 2 u_i / n + sum(u) / n^2), and the
    conditional variances are mapped to marginal ones by the least-squares line
    v_i ~ c0 + c1 / P_ii fitted on those probes (c0 is the variance shared through
    the graph's slow modes, c1 ~ 1). `tests/cj_server/test_bradley_terry.py`
    measures both approximations' error against the exact values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.linalg import cho_factor, cho_solve, lapack

DENSE_MAX = 1500  # exact covariance up to this many items
DENSE_SOLVE_MAX = 300  # Newton steps by dense Cholesky up to this many items (cheaper than CG's overhead there)


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
    standard_errors: np.ndarray  # of the centred abilities (exact up to dense_max, approximated above)
    position_bias: float  # beta, in logits (0 when not fitted)
    position_bias_se: float
    iterations: int
    conditional_variance: np.ndarray  # 1 / P_ii: each essay's variance given all the others
    covariance: np.ndarray | None = None  # exact covariance of the centred abilities (n <= dense_max only)
    alpha: float = 0.1  # prior precision the fit used

    @property
    def exact(self) -> bool:
        return self.covariance is not None

    def difference_variance(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Var(theta_i - theta_j): exact with a covariance, else 1/P_ii + 1/P_jj (see the module docstring)."""
        if self.covariance is not None:
            cov = self.covariance
            return np.asarray(np.maximum(cov[i, i] + cov[j, j] - 2.0 * cov[i, j], 0.0))
        return np.asarray(self.conditional_variance[i] + self.conditional_variance[j])


class _System:
    """The judgements as a sparse incidence matrix, with the products Newton and CG need."""

    def __init__(self, comparisons: Comparisons, prior: np.ndarray, with_bias: bool):
        n, k = comparisons.n_items, len(comparisons)
        self.n, self.size, self.with_bias, self.prior = n, len(prior), with_bias, prior
        self.a, self.b = comparisons.first, comparisons.second
        self.y = comparisons.first_won.astype(float)
        rows = np.concatenate([np.arange(k), np.arange(k)] + ([np.arange(k)] if with_bias else []))
        cols = np.concatenate([self.a, self.b] + ([np.full(k, n)] if with_bias else []))
        vals = np.concatenate([np.ones(k), -np.ones(k)] + ([np.ones(k)] if with_bias else []))
        self.incidence = sparse.csr_matrix((vals, (rows, cols)), shape=(k, self.size))
        self.transpose = self.incidence.T.tocsr()

    def margins(self, params: np.ndarray) -> np.ndarray:
        return np.asarray(self.incidence @ params)

    def log_posterior(self, params: np.ndarray) -> float:
        margin = self.margins(params)
        signed = np.where(self.y > 0, margin, -margin)
        return float(-np.logaddexp(0.0, -signed).sum() - 0.5 * (self.prior * params * params).sum())

    def diagonal(self, weight: np.ndarray) -> np.ndarray:
        n = self.n
        diag = np.array(self.prior, dtype=float)
        diag[:n] += np.bincount(self.a, weight, n) + np.bincount(self.b, weight, n)
        if self.with_bias:
            diag[n] += weight.sum()
        return diag

    def product(self, weight: np.ndarray, x: np.ndarray) -> np.ndarray:
        """P x for a vector or a block of column vectors."""
        if x.ndim == 1:
            return np.asarray(self.transpose @ (weight * (self.incidence @ x)) + self.prior * x)
        return np.asarray(self.transpose @ (weight[:, None] * (self.incidence @ x)) + self.prior[:, None] * x)


def conjugate_gradients(
    product: Callable[[np.ndarray], np.ndarray],
    diagonal: np.ndarray,
    rhs: np.ndarray,
    *,
    tolerance: float = 1e-10,
    max_iterations: int = 500,
) -> np.ndarray:
    """Solve P X = rhs (one vector or a block of columns) by Jacobi-preconditioned CG, columns independent."""
    single = rhs.ndim == 1
    b = rhs[:, None] if single else rhs
    inv = (1.0 / diagonal)[:, None]
    x = np.zeros_like(b)
    r = b.copy()
    z = inv * r
    p = z.copy()
    rz = np.einsum("ij,ij->j", r, z)
    stop = tolerance**2 * np.maximum(np.einsum("ij,ij->j", b, b), 1e-300)
    for _ in range(max_iterations):
        if np.all(np.einsum("ij,ij->j", r, r) <= stop):
            break
        q = product(p)
        pq = np.einsum("ij,ij->j", p, q)
        step = np.where(pq > 0, rz / np.where(pq > 0, pq, 1.0), 0.0)
        x += step * p
        r -= step * q
        z = inv * r
        rz_new = np.einsum("ij,ij->j", r, z)
        p = z + np.where(rz > 0, rz_new / np.where(rz > 0, rz, 1.0), 0.0) * p
        rz = rz_new
    return x[:, 0] if single else x


def fit(
    comparisons: Comparisons,
    *,
    alpha: float = 0.1,
    fit_position_bias: bool = False,
    alpha_bias: float = 1.0,
    max_iterations: int = 100,
    tolerance: float = 1e-8,
    start: np.ndarray | None = None,
    dense_max: int = DENSE_MAX,
    probes: int = 16,
    seed: int = 0,
    uncertainty: bool = True,
) -> Fit:
    """MAP scores with their uncertainty. `start`: previous scores (n, or n + 1 with the bias last).
    `uncertainty=False` skips the covariance: standard errors are then the conditional ones, sqrt(1/P_ii)."""
    n = comparisons.n_items
    size = n + (1 if fit_position_bias else 0)
    prior = np.full(size, alpha, dtype=float)
    if fit_position_bias:
        prior[n] = alpha_bias
    system = _System(comparisons, prior, fit_position_bias)
    params = _start(system, start)
    params, weight, iterations = _newton(system, params, max_iterations, tolerance)
    diagonal = system.diagonal(weight)
    scores = params[:n] - params[:n].mean()
    bias = float(params[n]) if fit_position_bias else 0.0
    conditional = 1.0 / diagonal[:n]
    if not uncertainty:
        bias_se = float(np.sqrt(1.0 / diagonal[n])) if fit_position_bias else 0.0
        return Fit(scores, np.sqrt(conditional), bias, bias_se, iterations, conditional, None, alpha)
    if n <= dense_max:
        covariance, bias_variance = _dense_covariance(system, weight)
        return Fit(
            scores=scores,
            standard_errors=np.sqrt(np.clip(np.diag(covariance), 0, None)),
            position_bias=bias,
            position_bias_se=float(np.sqrt(bias_variance)) if fit_position_bias else 0.0,
            iterations=iterations,
            conditional_variance=conditional,
            covariance=covariance,
            alpha=alpha,
        )
    variances, bias_variance = _approximate_variances(system, weight, diagonal, probes, seed)
    return Fit(
        scores=scores,
        standard_errors=np.sqrt(variances),
        position_bias=bias,
        position_bias_se=float(np.sqrt(bias_variance)) if fit_position_bias else 0.0,
        iterations=iterations,
        conditional_variance=conditional,
        covariance=None,
        alpha=alpha,
    )


def _start(system: _System, start: np.ndarray | None) -> np.ndarray:
    n, size = system.n, system.size
    if start is not None and len(start) in (n, size):
        params = np.zeros(size)
        params[: len(start)] = start
        params[:n] -= params[:n].mean()
        return params
    # One Newton step from zero with only the diagonal of the precision.
    residual = system.y - 0.5
    params = np.zeros(size)
    gradient = np.bincount(system.a, residual, n) - np.bincount(system.b, residual, n)
    games = np.bincount(system.a, minlength=n) + np.bincount(system.b, minlength=n)
    params[:n] = gradient / (0.25 * games + system.prior[:n])
    params[:n] -= params[:n].mean()
    return params


def _newton(
    system: _System, params: np.ndarray, max_iterations: int, tolerance: float
) -> tuple[np.ndarray, np.ndarray, int]:
    current = system.log_posterior(params)
    iterations = 0
    weight = np.zeros(len(system.y))
    scale_of_data = max(1.0, float(len(system.y)))
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - reported
        p = 1.0 / (1.0 + np.exp(-system.margins(params)))
        weight = p * (1.0 - p)
        gradient = system.transpose @ (system.y - p) - system.prior * params
        diagonal = system.diagonal(weight)
        step = _newton_step(system, weight, diagonal, gradient)
        decrement = float(gradient @ step)
        params, current, scale = _line_search(system, params, step, current)
        # Newton decrement g.step: the log posterior is within about half of it of its maximum.
        if scale == 1.0 and decrement < tolerance * scale_of_data:
            break
    p = 1.0 / (1.0 + np.exp(-system.margins(params)))
    return params, p * (1.0 - p), iterations


def _newton_step(system: _System, weight: np.ndarray, diagonal: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """Solve P step = g: Cholesky for small n (where a dense n x n is cheaper than CG's overhead), else
    inexact Newton by CG, loose far from the mode and tight near it (superlinear convergence)."""
    if system.n <= DENSE_SOLVE_MAX:
        factor = cho_factor(dense_precision(system, weight), check_finite=False)
        return np.asarray(cho_solve(factor, gradient, check_finite=False))
    forcing = min(0.1, max(1e-10, float(np.abs(gradient).max())))
    return conjugate_gradients(lambda x: system.product(weight, x), diagonal, gradient, tolerance=forcing)


def _line_search(
    system: _System, params: np.ndarray, step: np.ndarray, current: float
) -> tuple[np.ndarray, float, float]:
    scale = 1.0
    while True:
        candidate = params + scale * step
        value = system.log_posterior(candidate)
        if value >= current - 1e-12 or scale < 1e-6:
            return candidate, value, scale
        scale /= 2


def dense_precision(system: _System, weight: np.ndarray) -> np.ndarray:
    """sum_k w_k x_k x_k^T + diag(prior) as a dense array (only for n <= dense_max)."""
    n, size, a, b = system.n, system.size, system.a, system.b
    precision = np.bincount(a * size + b, weight, size * size).astype(float).reshape(size, size)
    precision += precision.T
    np.negative(precision, out=precision)
    precision[np.arange(n), np.arange(n)] += np.bincount(a, weight, n) + np.bincount(b, weight, n)
    if system.with_bias:
        column = np.bincount(a, weight, n) - np.bincount(b, weight, n)
        precision[:n, n] = column
        precision[n, :n] = column
        precision[n, n] = weight.sum()
    precision[np.diag_indices(size)] += system.prior
    return precision


def _dense_covariance(system: _System, weight: np.ndarray) -> tuple[np.ndarray, float]:
    factor = cho_factor(dense_precision(system, weight), check_finite=False)
    inverse, info = lapack.dpotri(factor[0], lower=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"could not invert the precision matrix (potri info {info})")
    full = np.triu(inverse) + np.triu(inverse, 1).T
    n = system.n
    bias_variance = float(full[n, n]) if system.with_bias else 0.0
    return centre(full[:n, :n]), bias_variance


def centre(covariance: np.ndarray) -> np.ndarray:
    """C S C with C = I - 11^T/n, in O(n^2): S - r 1^T - 1 r^T + m, r the row means, m the grand mean."""
    rows = covariance.mean(axis=1)
    return np.asarray(covariance - rows[:, None] - rows[None, :] + rows.mean())


def eigen_floored(covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors of a covariance, the eigenvalues floored at 1e-9 of the largest: a
    centred covariance is singular along the mean, so it has no Cholesky factor. The square root is
    vectors * sqrt(values), the inverse (vectors / values) @ vectors.T."""
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
    return np.maximum(values, max(float(values.max()), 1e-12) * 1e-9), vectors


def _approximate_variances(
    system: _System, weight: np.ndarray, diagonal: np.ndarray, probes: int, seed: int
) -> tuple[np.ndarray, float]:
    """Centred marginal variances without a covariance: exact at `probes` essays, a line in 1/P_ii elsewhere."""
    n, size = system.n, system.size
    rng = np.random.default_rng(seed)
    chosen = rng.choice(n, size=min(probes, n), replace=False)
    rhs = np.zeros((size, len(chosen) + 2))
    rhs[chosen, np.arange(len(chosen))] = 1.0
    rhs[:n, len(chosen)] = 1.0  # u = P^-1 1 for the centring
    if system.with_bias:
        rhs[n, len(chosen) + 1] = 1.0
    precision = (system.transpose @ sparse.diags(weight) @ system.incidence + sparse.diags(system.prior)).tocsr()
    solved = conjugate_gradients(lambda x: precision @ x, diagonal, rhs, tolerance=1e-5)
    u = solved[:n, len(chosen)]
    exact = solved[chosen, np.arange(len(chosen))] - 2.0 * u[chosen] / n + u.sum() / n**2
    conditional = 1.0 / diagonal[:n]
    design = np.column_stack([np.ones(len(chosen)), conditional[chosen]])
    (c0, c1), *_ = np.linalg.lstsq(design, exact, rcond=None)
    if c1 <= 0:  # degenerate probes (all alike): a pure shift
        c0, c1 = float(np.mean(exact - conditional[chosen])), 1.0
    variances = np.maximum(c0 + c1 * conditional, conditional * (1.0 - 1.0 / n))
    variances[chosen] = np.maximum(exact, 0.0)
    bias_variance = float(solved[n, len(chosen) + 1]) if system.with_bias else 0.0
    return variances, bias_variance


def laplace_log_marginal(comparisons: Comparisons, result: Fit, *, alpha_bias: float = 1.0) -> float:
    """log p(judgements | tau^2 = 1 / result.alpha) by the Laplace approximation at the fit's mode, up to
    a constant that does not depend on tau^2 (exact covariance sizes only: a dense Cholesky):

        log p(y | mode) - |theta|^2 / (2 tau^2) - (n / 2) log tau^2 - alpha_beta beta^2 / 2 - log det(P) / 2
    """
    n = comparisons.n_items
    with_bias = result.position_bias_se != 0.0
    prior = np.full(n + (1 if with_bias else 0), result.alpha)
    if with_bias:
        prior[n] = alpha_bias
    system = _System(comparisons, prior, with_bias)
    params = np.append(result.scores, result.position_bias) if with_bias else result.scores
    margin = system.margins(params)
    p = 1.0 / (1.0 + np.exp(-margin))
    signed = np.where(system.y > 0, margin, -margin)
    log_likelihood = float(-np.logaddexp(0.0, -signed).sum())
    factor = cho_factor(dense_precision(system, p * (1.0 - p)), check_finite=False)[0]
    log_det = 2.0 * float(np.log(np.abs(np.diag(factor))).sum())
    tau2 = 1.0 / result.alpha
    penalty = 0.5 * float(np.sum(result.scores**2)) / tau2 + 0.5 * n * np.log(tau2)
    return float(log_likelihood - penalty - 0.5 * alpha_bias * result.position_bias**2 - 0.5 * log_det)
