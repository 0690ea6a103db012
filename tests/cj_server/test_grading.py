"""Grade boundaries from anchors and per-grade probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr
from scipy.stats import norm

from cj_server.domain.grading import BUILT_IN_SCALES, calibrate, isotonic, project, project_many, truncated_normal

SCALE = BUILT_IN_SCALES["letter_a_to_f"]


def test_boundaries_follow_the_anchors():
    calibration = calibrate(SCALE, ["E", "E", "C", "A"], np.array([-2.0, -1.8, 0.0, 2.0]))
    assert np.all(np.diff(calibration.centres) >= 0)
    assert calibration.centres[1] == pytest.approx(-1.9) and calibration.centres[5] == pytest.approx(2.0)
    assert project(calibration, 2.5, 0.1).grade == "A"
    assert project(calibration, -1.9, 0.1).grade == "E"


def test_probabilities_integrate_uncertainty():
    calibration = calibrate(SCALE, ["D", "B"], np.array([-1.0, 1.0]))
    sure = project(calibration, 1.0, 0.05)
    unsure = project(calibration, 0.0, 2.0)
    assert sure.confidence > 0.9 and sure.label == "HIGH"
    assert unsure.confidence < 0.5 and unsure.label == "LOW"
    assert sum(unsure.probabilities.values()) == pytest.approx(1.0)
    assert sum(p > 0.01 for p in unsure.probabilities.values()) >= 3


def test_needs_two_anchored_grades():
    assert calibrate(SCALE, ["C", "C"], np.array([0.0, 0.1])) is None


def test_isotonic_pools_violators():
    assert list(isotonic(np.array([1.0, 3.0, 2.0, 4.0]), np.ones(4))) == [1.0, 2.5, 2.5, 4.0]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=12), st.floats(-6, 6), st.floats(0.01, 3))
def test_projection_is_a_distribution(scores, score, se):
    grades = [SCALE.grades[i % len(SCALE.grades)] for i in range(len(scores))]
    calibration = calibrate(SCALE, grades, np.array(scores))
    if calibration is None:
        return
    projection = project(calibration, score, se)
    assert sum(projection.probabilities.values()) == pytest.approx(1.0)
    assert projection.probabilities[projection.grade] == pytest.approx(projection.confidence)


def test_swedish_scale_has_minus_and_plus_steps():
    scale = BUILT_IN_SCALES["swedish_f_to_a"]
    # one anchor per grade, one logit apart: every interval is one logit wide
    calibration = calibrate(scale, list(scale.grades), np.arange(len(scale.grades), dtype=float))
    e, b, a, c_plus = 1.0, 6.0, 7.0, 5.0  # centres of E, B, A and C+
    assert project(calibration, e - 0.4, 0.01).display_grade == "E-"
    assert project(calibration, e, 0.01).display_grade == "E"
    assert project(calibration, e + 0.4, 0.01).display_grade == "E+"
    assert project(calibration, b + 0.4, 0.01).display_grade == "B+"
    assert project(calibration, a - 0.4, 0.01).display_grade == "A-"  # the open top interval has a width too
    assert project(calibration, a + 3.0, 0.01).display_grade == "A"
    assert project(calibration, c_plus - 0.4, 0.01).display_grade == "C+"  # C+ and D+ have no steps
    assert project(calibration, 2.0 - 0.4, 0.01).display_grade == "D-"
    assert project(calibration, 2.0 - 0.4, 0.01).grade == "D"


def test_other_scales_show_the_grade():
    calibration = calibrate(SCALE, ["E", "A"], np.array([-2.0, 2.0]))
    projection = project(calibration, -2.4, 0.01)
    assert projection.display_grade == projection.grade == "E"


def _synthetic_class(rng: np.random.Generator, tau2: float, noise2: float, per_grade: int = 3, students: int = 100):
    """Students and anchors of a class whose posterior is exactly N(mean, var I): true abilities from N(0, tau2),
    a noisy measurement, and its conjugate posterior. True grades by the population's sextiles."""
    cuts = np.sqrt(tau2) * np.array([-0.9674, -0.4307, 0.0, 0.4307, 0.9674])
    pool = rng.normal(0.0, np.sqrt(tau2), 40 * students)
    grade = np.searchsorted(cuts, pool)
    anchors = np.concatenate([np.flatnonzero(grade[students:] == g)[:per_grade] + students for g in range(6)])
    chosen = np.concatenate([np.arange(students), anchors])
    shrink = tau2 / (tau2 + noise2)
    mean = shrink * (pool[chosen] + rng.normal(0.0, np.sqrt(noise2), len(chosen)))
    return mean, shrink * noise2, grade[chosen]


def test_grade_probabilities_are_calibrated():
    """Over 20 synthetic classes (fixed seed) the probabilities match the frequencies: for calibrated
    forecasts E[P(true grade)] = E[sum_g P(g)^2], and the projected grade's probability is its accuracy.
    Point boundaries (midpoints of the anchor means) with only the essay's uncertainty are overconfident."""
    rng = np.random.default_rng(11)
    model, naive, truth = [], [], []
    for _ in range(20):
        mean, var, grade = _synthetic_class(rng, tau2=4.0, noise2=0.36)
        students, anchors = np.arange(100), np.arange(100, len(mean))
        calibration = calibrate(SCALE, [SCALE.grades[g] for g in grade[anchors]], mean[anchors], np.eye(18) * var)
        projections = project_many(calibration, mean[students], np.full(100, var))
        model.append([[p.probabilities[g] for g in SCALE.grades] for p in projections])
        centres = np.array([mean[anchors][grade[anchors] == g].mean() for g in range(6)])
        edges = np.concatenate([[-np.inf], (centres[1:] + centres[:-1]) / 2, [np.inf]])
        naive.append(np.diff(ndtr((edges[None, :] - mean[students, None]) / np.sqrt(var)), axis=1))
        truth.append(grade[students])
    t = np.concatenate(truth)
    for probabilities, calibrated in ((np.concatenate(model), True), (np.concatenate(naive), False)):
        p_true = probabilities[np.arange(len(t)), t].mean()
        expected = np.sum(probabilities**2, axis=1).mean()
        overconfidence = probabilities.max(axis=1).mean() - np.mean(probabilities.argmax(axis=1) == t)
        if calibrated:
            assert abs(expected - p_true) < 0.015
            assert abs(overconfidence) < 0.03
        else:
            assert expected - p_true > 0.02 and overconfidence > 0.04


def test_uncertain_anchors_widen_the_probabilities():
    grades, scores = ["E", "D", "C", "B"], np.array([-1.5, -0.5, 0.5, 1.5])
    sure = calibrate(SCALE, grades, scores, np.eye(4) * 0.01)
    unsure = calibrate(SCALE, grades, scores, np.eye(4) * 0.5)
    assert np.all(unsure.cut_variance > sure.cut_variance)
    assert project(unsure, 0.0, 0.2).confidence < project(sure, 0.0, 0.2).confidence


def test_an_essay_correlated_with_the_anchors_is_surer():
    """Compared with the anchors, an essay's score moves with theirs: the difference to the boundaries
    (which the anchors place) is less uncertain than for an independent essay with the same variance."""
    grades, scores = ["D", "D", "C", "C"], np.array([-0.6, -0.4, 0.4, 0.6])
    covariance = np.full((4, 4), 0.3) + np.eye(4) * 0.1  # the anchors share most of their uncertainty
    calibration = calibrate(SCALE, grades, scores, covariance)
    alone, correlated = project_many(
        calibration, np.array([-0.5, -0.5]), np.array([0.4, 0.4]), np.array([[0.0] * 4, [0.3] * 4])
    )
    assert correlated.grade == alone.grade == "D"
    assert correlated.confidence > alone.confidence + 0.05


def test_calibration_is_reproducible_and_ordered():
    grades, scores = ["F", "E", "C", "A", "A"], np.array([-2.0, -1.0, 0.2, 0.1, 2.0])  # an A scored below a C
    covariance = np.eye(5) * 0.2
    first = calibrate(SCALE, grades, scores, covariance)
    second = calibrate(SCALE, grades, scores, covariance)
    assert np.array_equal(first.boundaries, second.boundaries)
    assert np.all(np.diff(first.boundaries) >= 0)
    # D and B have no anchors: their cuts lie between the neighbouring anchored grades
    assert -1.0 < first.boundaries[1] < first.boundaries[2] < 0.2 + 3 * np.sqrt(0.2)


def test_truncated_normal_stays_inside_and_has_the_right_mean():
    rng = np.random.default_rng(3)
    mean = np.zeros(20000)
    draws = truncated_normal(rng, mean, 1.0, np.full(20000, 1.0), np.full(20000, 2.0))
    assert draws.min() >= 1.0 and draws.max() <= 2.0
    expected = (norm.pdf(1.0) - norm.pdf(2.0)) / (norm.cdf(2.0) - norm.cdf(1.0))
    assert draws.mean() == pytest.approx(expected, abs=0.01)
    far = truncated_normal(rng, np.zeros(3), 1.0, np.array([40.0, -np.inf, -50.0]), np.array([41.0, -45.0, 50.0]))
    assert 40.0 <= far[0] <= 41.0 and far[1] == -45.0 and np.isfinite(far[2])
