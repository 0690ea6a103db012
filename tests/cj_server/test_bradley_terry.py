"""Bradley-Terry fit: choix as oracle, the sparse solver against the dense one, the large-n
approximations against exact values, and properties the maths promises."""

from __future__ import annotations

import choix
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from cj_server.domain.bradley_terry import Comparisons, eigen_floored, fit, laplace_log_marginal
from tests.cj_server.simulate import neighbour_design, simulated


def winners_of(comparisons: Comparisons) -> list[tuple[int, int]]:
    return [
        (int(a), int(b)) if w else (int(b), int(a))
        for a, b, w in zip(comparisons.first, comparisons.second, comparisons.first_won, strict=True)
    ]


def test_matches_choix_with_its_regularisation():
    _theta, comparisons = simulated(60, 600, 1)
    winners = winners_of(comparisons)
    ours = fit(Comparisons.from_winners(60, winners), alpha=0.2).scores
    oracle = choix.opt_pairwise(60, winners, alpha=0.1)  # choix penalises alpha * |theta|^2 / 1, ours / 2
    assert np.max(np.abs(ours - (oracle - oracle.mean()))) < 1e-5


def test_sparse_path_matches_choix_at_scale():
    _theta, comparisons = simulated(800, 6000, 11)
    winners = winners_of(comparisons)
    ours = fit(Comparisons.from_winners(800, winners), alpha=0.25, dense_max=0).scores
    oracle = choix.opt_pairwise(800, winners, alpha=0.125)
    assert np.max(np.abs(ours - (oracle - oracle.mean()))) < 1e-4


def test_sparse_and_dense_paths_agree():
    _theta, comparisons = simulated(300, 3000, 3, bias=0.4)
    dense = fit(comparisons, fit_position_bias=True)
    sparse = fit(comparisons, fit_position_bias=True, dense_max=0, probes=300)
    assert dense.exact and not sparse.exact
    assert np.max(np.abs(dense.scores - sparse.scores)) < 1e-7
    assert abs(dense.position_bias - sparse.position_bias) < 1e-7
    assert abs(dense.position_bias_se - sparse.position_bias_se) < 1e-4
    # probing every essay makes the "approximate" standard errors exact
    assert np.max(np.abs(dense.standard_errors - sparse.standard_errors)) < 1e-4


def test_warm_start_reaches_the_same_mode_in_fewer_iterations():
    _theta, comparisons = simulated(200, 2000, 4)
    cold = fit(comparisons)
    more = Comparisons(
        200,
        np.append(comparisons.first, [0, 1]),
        np.append(comparisons.second, [1, 2]),
        np.append(comparisons.first_won, [True, False]),
    )
    warm = fit(more, start=cold.scores)
    again = fit(more)
    assert np.max(np.abs(warm.scores - again.scores)) < 1e-5
    assert warm.iterations < again.iterations


def test_standard_error_approximation_error_against_exact():
    """Above the dense threshold standard errors are approximated (probes + a line in 1/P_ii). Measured
    here against the exact covariance on an adaptive-like banded design and on random pairs."""
    for theta_design in (neighbour_design(1200, 12, 5), simulated(1200, 7200, 6)):
        _theta, comparisons = theta_design
        exact = fit(comparisons)
        approx = fit(comparisons, dense_max=0)
        relative = np.abs(approx.standard_errors / exact.standard_errors - 1)
        assert np.median(relative) < 0.03
        assert np.quantile(relative, 0.95) < 0.10


def test_difference_variance_approximation_orders_pairs_like_the_exact_one():
    """Pairing uses 1/P_ii + 1/P_jj above the threshold. Against the exact Var(theta_i - theta_j) on the
    pairs pairing would consider (near neighbours in the ranking) its ranking of pairs must agree."""
    _theta, comparisons = neighbour_design(1200, 12, 7)
    exact = fit(comparisons)
    approx = fit(comparisons, dense_max=0)
    order = np.argsort(exact.scores)
    i = order[:-5].repeat(5)
    j = np.concatenate([order[s : len(order) - 5 + s] for s in range(1, 6)]).reshape(5, -1).T.ravel()
    exact_var = exact.difference_variance(i, j)
    approx_var = approx.difference_variance(i, j)
    assert spearmanr(exact_var, approx_var).statistic > 0.8
    ratio = approx_var / exact_var
    assert 0.6 < np.median(ratio) <= 1.05  # it omits the covariance through the graph, so it is smaller


def test_recovers_position_bias():
    _, comparisons = simulated(40, 4000, 2, bias=0.8)
    result = fit(comparisons, fit_position_bias=True)
    assert abs(result.position_bias - 0.8) < 3 * result.position_bias_se


def test_finite_for_undefeated_winless_and_disconnected():
    # 0 beats everyone it meets, 3 loses every time, 4 and 5 only ever meet each other
    data = [(0, 1, True), (0, 2, True), (1, 3, True), (2, 3, True), (4, 5, True), (5, 4, False)]
    for dense_max in (100, 0):
        result = fit(Comparisons.from_outcomes(7, data), dense_max=dense_max)  # 6 was never compared
        assert np.all(np.isfinite(result.scores)) and np.all(np.isfinite(result.standard_errors))
        assert result.scores[0] == result.scores.max() and result.scores[3] < result.scores[1]
        assert result.standard_errors[6] == result.standard_errors.max()


def test_standard_errors_are_calibrated():
    inside = []
    for seed in range(20):
        theta, comparisons = simulated(50, 1000, seed)
        result = fit(comparisons, alpha=1 / 4)  # prior sd 2 matches the truth
        truth = theta - theta.mean()
        inside.append(np.mean(np.abs(result.scores - truth) <= 1.96 * result.standard_errors))
    assert 0.90 <= np.mean(inside) <= 0.99


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 12),
    st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11), st.booleans()), max_size=60),
    st.booleans(),
    st.booleans(),
)
def test_always_finite_centred_and_positive_se(n, raw, with_bias, dense):
    data = [(a % n, b % n, w) for a, b, w in raw if a % n != b % n]
    result = fit(Comparisons.from_outcomes(n, data), fit_position_bias=with_bias, dense_max=100 if dense else 0)
    assert np.all(np.isfinite(result.scores)) and abs(result.scores.sum()) < 1e-8
    assert np.all(result.standard_errors > 0)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 10), st.integers(0, 10_000))
def test_more_wins_never_lowers_a_score(n, seed):
    _, comparisons = simulated(n, 5 * n, seed)
    base = fit(comparisons).scores
    extra = Comparisons(
        n, np.append(comparisons.first, 0), np.append(comparisons.second, 1), np.append(comparisons.first_won, True)
    )
    assert fit(extra).scores[0] - fit(extra).scores[1] >= base[0] - base[1] - 1e-9


def test_laplace_marginal_likelihood_peaks_near_the_true_scale():
    """On a random design with plenty of judgements the Laplace marginal likelihood of the prior variance
    peaks near the abilities' true variance (sigma = 2, so 4)."""
    theta, comparisons = simulated(80, 2400, 12)
    grid = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    values = [laplace_log_marginal(comparisons, fit(comparisons, alpha=1 / t2, fit_position_bias=True)) for t2 in grid]
    best = grid[int(np.argmax(values))]
    assert 2.0 <= best <= 8.0 and 2.0 <= np.var(theta) <= 8.0


def test_eigen_floored_factors_a_singular_centred_covariance():
    """The covariance of centred scores has a zero eigenvalue (along the mean): no Cholesky factor, but the
    floored eigendecomposition still gives a square root that reproduces it and a finite inverse."""
    outcomes = [(a, (a + 1) % 6, a % 2 == 0) for a in range(6)] + [(a, (a + 2) % 6, True) for a in range(6)]
    covariance = fit(Comparisons.from_outcomes(6, outcomes), alpha=0.5).covariance
    assert covariance is not None
    assert abs(np.linalg.eigvalsh(covariance).min()) < 1e-10  # singular along the mean
    values, vectors = eigen_floored(covariance)
    root = vectors * np.sqrt(values)
    assert np.all(values > 0)
    assert np.allclose(root @ root.T, covariance, atol=1e-8)
    assert np.all(np.isfinite((vectors / values) @ vectors.T))
