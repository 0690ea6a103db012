"""The held-out reliability: probes are never chosen adaptively, keep their share, and the estimate is
honest on a small fixed-seed grid of simulated judges (no timing)."""

from __future__ import annotations

import numpy as np
import pytest

from cj_server.domain.bradley_terry import Comparisons, fit
from cj_server.domain.engine import EngineConfig, State, probe_schedule, step
from cj_server.domain.held_out import (
    MAX_SAMPLED,
    MIN_HELD_OUT,
    ProbeSchedule,
    estimate,
    posterior_weights,
    squared_correlations,
)
from cj_server.domain.pairing import AskedPairs


def judge(quality: np.ndarray, bias: float, seed: int):
    """Deterministic per ordered pair, as latent_bt: one uniform draw per (first, second)."""

    def outcome(a: int, b: int) -> bool:
        draw = np.random.default_rng([seed, a, b]).random()
        return bool(draw < 1 / (1 + np.exp(-(quality[a] - quality[b] + bias))))

    return outcome


def run(n: int, sigma: float, k: float, seed: int, bias: float = 0.0, config: EngineConfig | None = None):
    """The engine in waves of n/2 up to k comparisons per essay; (truth, honest, schedule, outcomes).
    The waves are a fixed design for the estimator under test, not the server's window (which the
    engine's own tests and bench/cj_simulation.py cover)."""
    config = config or EngineConfig(max_in_flight=n // 2)
    quality = np.random.default_rng(1000 + seed).normal(0, sigma, n)
    outcome = judge(quality, bias, seed)
    succeeded: list[tuple[int, int, bool]] = []
    budget = int(n * k / 2)
    waves, result = 0, None
    while len(succeeded) < budget:
        state = State(n, budget, 0.9999, False, waves, len(succeeded), succeeded, [], {}, seed=seed)
        result = step(state, config)
        if not result.wave:
            break
        succeeded = succeeded + [(a, b, outcome(a, b)) for a, b in result.wave]
        waves += 1
    final = step(State(n, budget, 0.9999, False, waves, len(succeeded), succeeded, [], {}, seed=seed), config)
    truth = float(np.corrcoef(final.fit.scores, quality)[0, 1] ** 2)
    return truth, final.honest, probe_schedule(final_state(n, budget, seed), config), succeeded


def final_state(n: int, budget: int, seed: int) -> State:
    return State(n, budget, 0.9, False, 0, 0, [], [], {}, seed=seed)


def test_probe_schedule_is_fixed_random_matchings():
    schedule = ProbeSchedule.build(20, 7, 3)
    assert len(schedule.pairs) <= 30 and len({frozenset(p) for p in schedule.pairs.tolist()}) == len(schedule.pairs)
    again = ProbeSchedule.build(20, 7, 3)
    assert np.array_equal(schedule.pairs, again.pairs)
    first_round = schedule.pairs[:10]
    assert sorted(first_round.ravel().tolist()) == list(range(20))  # a perfect matching
    a, b = schedule.pairs[0]
    assert schedule.is_probe(np.array([a, b]), np.array([b, a])).all()
    asked = AskedPairs.none(20).with_pairs([(int(b), int(a))])
    assert (int(a), int(b)) not in schedule.due(asked, None, 5)  # asked in the other order: done


def test_probes_keep_their_share_and_adaptive_pairs_never_touch_them():
    _truth, honest, schedule, outcomes = run(40, 2.0, 12, 3)
    first = np.array([a for a, _, _ in outcomes])
    second = np.array([b for _, b, _ in outcomes])
    probes = schedule.is_probe(first, second)
    share = probes.mean()
    assert 0.08 <= share <= 0.15
    assert honest.available and honest.held_out == probes.sum() >= MIN_HELD_OUT
    # every probe judged is one of the schedule's pairs in schedule order: the first rounds, in turn
    judged = {frozenset((int(a), int(b))) for a, b in zip(first[probes], second[probes], strict=True)}
    expected = {frozenset(p) for p in schedule.pairs[: len(judged)].tolist()}
    assert len(judged & expected) >= len(judged) - 20  # capacity may defer a few to the next step
    assert 0.0 < honest.lower <= honest.estimate <= honest.upper <= 1.0


def test_no_estimate_without_enough_probes():
    _truth, honest, _schedule, _ = run(30, 2.0, 3, 1, config=EngineConfig(held_out_share=0.02))
    assert not honest.available and honest.estimate == 0.0


@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.0])
def test_estimate_is_honest_on_a_fixed_seed_grid(sigma):
    """Across seeds the estimate (the figure the stop compares with the target) is close to the truth on
    average and never more than 0.05 above it in a run (issue 9 item 1); its 95% lower bound is never
    clearly above it: adaptive pairing does not inflate them."""
    errors, lower_errors = [], []
    for seed in range(4):
        truth, honest, _schedule, _ = run(60, sigma, 15, seed)
        errors.append(honest.estimate - truth)
        lower_errors.append(honest.lower - truth)
    assert np.mean(errors) < 0.03  # on average it does not overstate (with a weak judge it understates)
    assert max(errors) < 0.05
    assert max(lower_errors) < 0.03


def test_interval_holds_the_truth_on_the_fixed_seed_grid():
    """The 95% interval is the posterior of the realized reliability, not only of the scale: it holds the
    truth in every run of the grid (the scale's profile alone held it in 8 of 12 of these runs)."""
    covered = [
        honest.lower <= truth <= honest.upper
        for sigma in (1.0, 2.0, 3.0)
        for seed in range(4)
        for truth, honest, _schedule, _ in [run(60, sigma, 15, seed)]
    ]
    assert all(covered)


def test_posterior_weights_keep_the_heaviest_grid_points():
    profile = [(float(x), -0.5 * float(x) ** 2) for x in np.linspace(-3, 3, 13)]  # a normal in log tau^2
    points, weights = posterior_weights(profile)
    assert points[0] == 0.0 and len(points) <= MAX_SAMPLED
    assert np.isclose(weights.sum(), 1.0) and np.all(np.diff(weights) <= 1e-12)  # heaviest first
    flat = [(float(x), 0.0) for x in range(3)]
    assert np.allclose(posterior_weights(flat)[1], 1 / 3)


def test_squared_correlations_match_numpy():
    rng = np.random.default_rng(5)
    reported = rng.normal(size=20)
    reported -= reported.mean()
    draws = reported + rng.normal(size=(7, 20))
    expected = [np.corrcoef(reported, row)[0, 1] ** 2 for row in draws]
    assert np.allclose(squared_correlations(draws, reported), expected)
    assert squared_correlations(np.ones((2, 20)), reported).tolist() == [0.0, 0.0]  # no spread: no correlation


def test_estimate_is_repeatable_and_inside_its_interval():
    """The same judgements give the same figures (the draws are seeded), the point lies inside the interval,
    and the reported scores are the fit at the most likely prior scale."""
    _truth, _honest, schedule, outcomes = run(40, 2.0, 12, 2)
    comparisons = Comparisons.from_outcomes(40, outcomes)
    held_out = schedule.is_probe(comparisons.first, comparisons.second)
    first, final = estimate(comparisons, held_out, fit_position_bias=True, seed=2)
    again, _ = estimate(comparisons, held_out, fit_position_bias=True, seed=2)
    assert first == again
    assert first.lower < first.estimate < first.upper
    at_best = fit(comparisons, alpha=1 / first.prior_variance, fit_position_bias=True)
    assert final is not None and np.allclose(final.scores, at_best.scores, atol=1e-6)
