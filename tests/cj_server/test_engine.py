"""The CJ engine's parts: Bradley-Terry fit (choix as oracle), pairing, reliability,
stopping and grading, with property-based tests where the maths promises something."""

from __future__ import annotations

import choix
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cj_server.domain.bradley_terry import Comparisons, fit
from cj_server.domain.engine import EngineConfig, State, step
from cj_server.domain.grading import BUILT_IN_SCALES, calibrate, isotonic, project
from cj_server.domain.pairing import PairingState, next_wave
from cj_server.domain.reliability import scale_separation_reliability, split_half_reliability
from cj_server.domain.stopping import Action, Progress, StoppingPolicy, StopReason


def simulated(n: int, k: int, seed: int, bias: float = 0.0):
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 2, n)
    first = rng.integers(0, n, k)
    second = (first + rng.integers(1, n, k)) % n
    won = rng.random(k) < 1 / (1 + np.exp(-(theta[first] - theta[second] + bias)))
    return theta, Comparisons(n, first, second, won)


class TestBradleyTerry:
    def test_matches_choix_with_its_regularisation(self):
        _theta, comparisons = simulated(60, 600, 1)
        winners = [
            (int(a), int(b)) if w else (int(b), int(a))
            for a, b, w in zip(comparisons.first, comparisons.second, comparisons.first_won, strict=True)
        ]
        ours = fit(Comparisons.from_winners(60, winners), alpha=0.2).scores
        oracle = choix.opt_pairwise(60, winners, alpha=0.1)  # choix penalises alpha * |theta|^2 / 1, ours / 2
        assert np.max(np.abs(ours - (oracle - oracle.mean()))) < 1e-5

    def test_recovers_position_bias(self):
        _, comparisons = simulated(40, 4000, 2, bias=0.8)
        result = fit(comparisons, fit_position_bias=True)
        assert abs(result.position_bias - 0.8) < 3 * result.position_bias_se

    def test_finite_for_undefeated_winless_and_disconnected(self):
        # 0 beats everyone it meets, 3 loses every time, 4 and 5 only ever meet each other
        data = [(0, 1, True), (0, 2, True), (1, 3, True), (2, 3, True), (4, 5, True), (5, 4, False)]
        result = fit(Comparisons.from_outcomes(7, data))  # 6 was never compared
        assert np.all(np.isfinite(result.scores)) and np.all(np.isfinite(result.standard_errors))
        assert result.scores[0] == result.scores.max() and result.scores[3] < result.scores[1]
        assert result.standard_errors[6] == result.standard_errors.max()

    def test_standard_errors_are_calibrated(self):
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
    )
    def test_always_finite_centred_and_positive_se(self, n, raw, with_bias):
        data = [(a % n, b % n, w) for a, b, w in raw if a % n != b % n]
        result = fit(Comparisons.from_outcomes(n, data), fit_position_bias=with_bias)
        assert np.all(np.isfinite(result.scores)) and abs(result.scores.sum()) < 1e-8
        assert np.all(result.standard_errors > 0)

    @settings(max_examples=30, deadline=None)
    @given(st.integers(3, 10), st.integers(0, 10_000))
    def test_more_wins_never_lowers_a_score(self, n, seed):
        _, comparisons = simulated(n, 5 * n, seed)
        base = fit(comparisons).scores
        extra = Comparisons(
            n, np.append(comparisons.first, 0), np.append(comparisons.second, 1), np.append(comparisons.first_won, True)
        )
        assert fit(extra).scores[0] - fit(extra).scores[1] >= base[0] - base[1] - 1e-9


class TestPairing:
    def state(self, n: int, asked=None, scores=None):
        asked = np.eye(n, dtype=bool) if asked is None else asked
        return PairingState(np.zeros(n) if scores is None else scores, np.eye(n), asked, np.zeros(n), np.zeros(n))

    @pytest.mark.parametrize("n", [2, 7, 30, 501])
    def test_a_wave_covers_every_essay_once(self, n):
        wave = next_wave(self.state(n), np.random.default_rng(0), max_pairs=n)
        seen = [x for pair in wave for x in pair]
        assert set(seen) == set(range(n))
        assert len(seen) - len(set(seen)) == (n % 2)  # with an odd count one essay appears twice

    def test_never_repeats_an_ordered_pair_and_uses_the_swap(self):
        n = 4
        asked = np.ones((n, n), dtype=bool)
        asked[1, 0] = False  # only (1 first, 0 second) remains
        wave = next_wave(self.state(n, asked), np.random.default_rng(0), max_pairs=2)
        assert wave == [(1, 0)]

    def test_prefers_close_pairs(self):
        scores = np.array([-3.0, -2.9, 2.9, 3.0])
        wave = next_wave(self.state(4, scores=scores), np.random.default_rng(0), max_pairs=2)
        assert {frozenset(p) for p in wave} == {frozenset({0, 1}), frozenset({2, 3})}

    def test_positions_balance_over_waves(self):
        n = 20
        state = State(
            n_items=n,
            budget=10 * n,
            target_reliability=0.999,
            single_wave=False,
            waves=0,
            attempts=0,
            succeeded=[],
            pending=[],
            failed={},
        )
        rng = np.random.default_rng(3)
        outcomes = []
        for wave in range(10):
            result = step(
                State(**{**state.__dict__, "succeeded": outcomes, "waves": wave, "attempts": len(outcomes)}),
                EngineConfig(),
            )
            outcomes += [(a, b, bool(rng.random() < 0.5)) for a, b in result.wave]
        firsts = np.bincount([a for a, _, _ in outcomes], minlength=n)
        seconds = np.bincount([b for _, b, _ in outcomes], minlength=n)
        assert np.max(np.abs(firsts - seconds)) <= 2
        assert len({(a, b) for a, b, _ in outcomes}) == len(outcomes)

    def test_a_wave_for_2000_essays(self):
        n = 2000
        rng = np.random.default_rng(0)
        state = PairingState(rng.normal(size=n), np.eye(n) * 0.5, np.eye(n, dtype=bool), np.zeros(n), np.zeros(n))
        wave = next_wave(state, rng, max_pairs=n)
        assert len(wave) == n // 2


class TestReliability:
    def test_split_half_tracks_the_truth_and_ssr_is_bounded(self):
        theta, comparisons = simulated(60, 900, 5)
        result = fit(comparisons)
        truth = np.corrcoef(result.scores, theta)[0, 1] ** 2
        split = split_half_reliability(comparisons, np.random.default_rng(0), alpha=0.1)
        assert abs(split - truth) < 0.08
        assert 0 <= scale_separation_reliability(result) <= 1

    def test_no_judgements_no_reliability(self):
        assert split_half_reliability(Comparisons.from_outcomes(5, []), np.random.default_rng(0), alpha=0.1) == 0


class TestStopping:
    base = Progress(
        n_items=10,
        budget=50,
        attempts=20,
        pending=0,
        succeeded=20,
        failed=0,
        retryable=0,
        informative_pairs_left=True,
        all_pairs_judged=False,
        reliability=0.5,
        target_reliability=0.9,
        single_wave=False,
        waves=4,
    )
    policy = StoppingPolicy()

    def decide(self, **changes):
        return self.policy.decide(Progress(**{**self.base.__dict__, **changes}))

    def test_each_state_has_one_decision(self):
        assert self.decide().action is Action.SUBMIT
        assert self.decide(pending=3).action is Action.WAIT
        assert self.decide(reliability=0.95).stop_reason is StopReason.TARGET_RELIABILITY
        assert self.decide(attempts=50).stop_reason is StopReason.BUDGET_SPENT
        assert self.decide(informative_pairs_left=False).stop_reason is StopReason.NO_INFORMATIVE_PAIR
        assert (
            self.decide(informative_pairs_left=False, all_pairs_judged=True).stop_reason is StopReason.ALL_PAIRS_JUDGED
        )
        assert self.decide(informative_pairs_left=False, retryable=2).action is Action.SUBMIT
        assert self.decide(failed=30, succeeded=5).action is Action.FAIL
        assert self.decide(attempts=50, succeeded=0, failed=5).action is Action.FAIL
        assert self.decide(single_wave=True, waves=1).action is Action.FINALIZE

    @settings(max_examples=200, deadline=None)
    @given(
        st.integers(0, 100),
        st.integers(0, 100),
        st.integers(0, 100),
        st.integers(0, 100),
        st.integers(0, 5),
        st.booleans(),
        st.booleans(),
        st.floats(0, 1),
        st.booleans(),
        st.integers(0, 5),
    )
    def test_decision_is_total(
        self, attempts, pending, succeeded, failed, retryable, informative, all_judged, reliability, single, waves
    ):
        decision = self.policy.decide(
            Progress(
                n_items=10,
                budget=50,
                attempts=attempts,
                pending=pending,
                succeeded=succeeded,
                failed=failed,
                retryable=retryable,
                informative_pairs_left=informative,
                all_pairs_judged=all_judged,
                reliability=reliability,
                target_reliability=0.9,
                single_wave=single,
                waves=waves,
            )
        )
        assert decision.action in set(Action)
        if decision.action is Action.FINALIZE:
            assert decision.stop_reason is not StopReason.NONE and succeeded > 0


class TestGrading:
    scale = BUILT_IN_SCALES["letter_a_to_f"]

    def test_boundaries_follow_the_anchors(self):
        calibration = calibrate(self.scale, ["E", "E", "C", "A"], np.array([-2.0, -1.8, 0.0, 2.0]))
        assert np.all(np.diff(calibration.centres) >= 0)
        assert calibration.centres[1] == pytest.approx(-1.9) and calibration.centres[5] == pytest.approx(2.0)
        assert project(calibration, 2.5, 0.1).grade == "A"
        assert project(calibration, -1.9, 0.1).grade == "E"

    def test_probabilities_integrate_uncertainty(self):
        calibration = calibrate(self.scale, ["D", "B"], np.array([-1.0, 1.0]))
        sure = project(calibration, 1.0, 0.05)
        unsure = project(calibration, 0.0, 2.0)
        assert sure.confidence > 0.9 and sure.label == "HIGH"
        assert unsure.confidence < 0.5 and unsure.label == "LOW"
        assert sum(unsure.probabilities.values()) == pytest.approx(1.0)
        assert sum(p > 0.01 for p in unsure.probabilities.values()) >= 3

    def test_needs_two_anchored_grades(self):
        assert calibrate(self.scale, ["C", "C"], np.array([0.0, 0.1])) is None

    def test_isotonic_pools_violators(self):
        assert list(isotonic(np.array([1.0, 3.0, 2.0, 4.0]), np.ones(4))) == [1.0, 2.5, 2.5, 4.0]

    @settings(max_examples=50, deadline=None)
    @given(st.lists(st.floats(-5, 5), min_size=2, max_size=12), st.floats(-6, 6), st.floats(0.01, 3))
    def test_projection_is_a_distribution(self, scores, score, se):
        grades = [self.scale.grades[i % len(self.scale.grades)] for i in range(len(scores))]
        calibration = calibrate(self.scale, grades, np.array(scores))
        if calibration is None:
            return
        projection = project(calibration, score, se)
        assert sum(projection.probabilities.values()) == pytest.approx(1.0)
        assert projection.probabilities[projection.grade] == pytest.approx(projection.confidence)
