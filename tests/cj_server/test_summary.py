"""The final result built from a fit (cj_server/domain/summary.py): ranks, counts, the grade
projections with the fit's exact covariance and without it (large n), and the reliability warning."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cj_server.domain.bradley_terry import Fit, fit
from cj_server.domain.grading import BUILT_IN_SCALES, GradeScale
from cj_server.domain.held_out import NOT_AVAILABLE, HonestReliability
from cj_server.domain.summary import LOW_RELIABILITY, ItemInfo, reliability_warning, summarize
from tests.cj_server.simulate import simulated

SCALE = BUILT_IN_SCALES["letter_a_to_f"]
THREE = GradeScale("test", "Test", ("C", "B", "A"))


def _assessment(n: int = 60, anchors: int = 12, k: int = 900, seed: int = 4):
    theta, comparisons = simulated(n, k, seed)
    result = fit(comparisons, alpha=0.25)
    cuts = np.quantile(theta, np.linspace(0, 1, 7)[1:-1])
    grade = np.searchsorted(cuts, theta)
    anchor_ids = set(np.argsort(theta)[:: n // anchors][:anchors].tolist())
    items = [ItemInfo(f"e{i}", i in anchor_ids, SCALE.grades[grade[i]] if i in anchor_ids else "") for i in range(n)]
    outcomes = [
        (int(a), int(b), bool(w))
        for a, b, w in zip(comparisons.first, comparisons.second, comparisons.first_won, strict=True)
    ]
    return items, outcomes, result, grade


def test_every_essay_gets_a_distribution_and_the_boundaries_are_ordered():
    items, outcomes, result, grade = _assessment()
    summary = summarize(items, outcomes, result, 0.0, SCALE)
    assert summary.grades_projected
    scores = [score for _, _, score in summary.boundaries]
    assert scores == sorted(scores)
    for essay in summary.essays:
        probabilities = essay.projection.probabilities
        assert sum(probabilities.values()) == pytest.approx(1.0)
        assert essay.projection.confidence == pytest.approx(max(probabilities.values()))
    students = [e for e in summary.essays if not e.is_anchor]
    truth = {f"e{i}": SCALE.grades[g] for i, g in enumerate(grade)}
    hits = np.mean([e.projection.grade == truth[e.essay_id] for e in students])
    assert hits > 0.5  # 900 comparisons of 60 essays: most grades right, and most probabilities honest
    assert abs(np.mean([e.projection.confidence for e in students]) - hits) < 0.1


def test_without_the_covariance_the_projection_is_close():
    """Above the fit's dense limit there is no covariance: the anchors are taken as independent and the
    essays as independent of them. On a small assessment that approximation changes little."""
    items, outcomes, result, _ = _assessment()
    exact = summarize(items, outcomes, result, 0.0, SCALE)
    approximate = summarize(items, outcomes, replace(result, covariance=None), 0.0, SCALE)
    differences = [
        max(abs(a.projection.probabilities[g] - b.projection.probabilities[g]) for g in SCALE.grades)
        for a, b in zip(exact.essays, approximate.essays, strict=True)
    ]
    assert max(differences) < 0.1
    agree = np.mean(
        [a.projection.grade == b.projection.grade for a, b in zip(exact.essays, approximate.essays, strict=True)]
    )
    assert agree > 0.9


def test_an_anchor_is_projected_by_its_score_not_its_label():
    items, outcomes, result, _ = _assessment()
    top = int(np.argmax(result.scores))
    mislabelled = [
        replace(item, is_anchor=True, anchor_grade="F") if i == top else item for i, item in enumerate(items)
    ]
    summary = summarize(mislabelled, outcomes, result, 0.0, SCALE)
    projection = next(e for e in summary.essays if e.essay_id == f"e{top}").projection
    assert projection.grade != "F"


def a_fit(scores: list[float], se: float = 0.3) -> Fit:
    n = len(scores)
    return Fit(
        scores=np.array(scores),
        standard_errors=np.full(n, se),
        position_bias=0.1,
        position_bias_se=0.05,
        iterations=3,
        conditional_variance=np.full(n, se**2),
    )


def honest(estimate: float) -> HonestReliability:
    return HonestReliability(True, estimate, estimate - 0.05, estimate + 0.03, 4.0, 40, 400)


def test_ranks_students_apart_from_anchors_and_counts_each_essays_judgements():
    items = [ItemInfo("s1", False, ""), ItemInfo("anchor-a", True, "A"), ItemInfo("s2", False, "")]
    outcomes = [(0, 1, False), (2, 0, False), (1, 2, True), (0, 2, True)]
    summary = summarize(items, outcomes, a_fit([0.5, 2.0, -1.0]), 0.8, THREE, honest(0.9))
    by_id = {e.essay_id: e for e in summary.essays}
    assert [e.essay_id for e in summary.essays] == ["anchor-a", "s1", "s2"]
    assert (by_id["anchor-a"].rank, by_id["anchor-a"].student_rank) == (1, 0)
    assert (by_id["s1"].rank, by_id["s1"].student_rank, by_id["s2"].student_rank) == (2, 1, 2)
    assert {e.essay_id: (e.comparisons, e.wins) for e in summary.essays} == {
        "s1": (3, 2),
        "anchor-a": (2, 2),
        "s2": (3, 0),
    }
    assert summary.first_position_win_rate == 0.5
    assert (summary.estimate, summary.estimate_lower, summary.estimate_upper) == (0.9, 0.85, 0.93)
    assert summary.reliability_warning == ""


def test_grades_need_anchors_of_two_grades():
    students = [ItemInfo("s1", False, ""), ItemInfo("s2", False, "")]
    none = summarize(students, [(0, 1, True)], a_fit([1.0, -1.0]), 0.8, THREE, honest(0.9))
    assert not none.grades_projected and none.grades_note == "no anchor essays: scores and ranks only"
    assert all(e.projection is None for e in none.essays)
    one_grade = [*students, ItemInfo("a1", True, "B"), ItemInfo("a2", True, "B")]
    single = summarize(one_grade, [(0, 2, True)], a_fit([1.0, -1.0, 0.0, 0.1]), 0.8, THREE, honest(0.9))
    assert not single.grades_projected and "fewer than two grades" in single.grades_note


def test_anchors_of_two_grades_project_every_essay_with_probabilities_that_sum_to_one():
    items = [ItemInfo("a-c", True, "C"), ItemInfo("a-a", True, "A"), ItemInfo("top", False, "")]
    summary = summarize(items, [(0, 1, False)], a_fit([-2.0, 2.0, 3.0], se=0.2), 0.8, THREE, honest(0.9))
    assert summary.grades_projected and [(low, high) for low, high, _ in summary.boundaries] == [
        ("C", "B"),
        ("B", "A"),
    ]
    top = next(e for e in summary.essays if e.essay_id == "top")
    assert top.projection is not None and top.projection.grade == "A"
    assert abs(sum(top.projection.probabilities.values()) - 1.0) < 1e-9


def test_a_low_or_missing_honest_estimate_is_a_warning_a_client_can_show():
    assert "held-out" in reliability_warning(None) and "held-out" in reliability_warning(NOT_AVAILABLE)
    low = reliability_warning(honest(LOW_RELIABILITY - 0.01))
    assert "below 0.70" in low and "uncertain" in low
    assert reliability_warning(honest(LOW_RELIABILITY)) == ""
    summary = summarize([ItemInfo("s", False, "")], [], a_fit([0.0]), 0.0, THREE, None)
    assert summary.estimate == 0.0 and summary.reliability_warning and summary.first_position_win_rate == 0.0
