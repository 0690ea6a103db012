"""Grade boundaries from anchors and per-grade probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cj_server.domain.grading import BUILT_IN_SCALES, calibrate, isotonic, project

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
