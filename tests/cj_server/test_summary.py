"""The result's grade projections from a fit: with the fit's exact covariance and without it (large n)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cj_server.domain.bradley_terry import fit
from cj_server.domain.grading import BUILT_IN_SCALES
from cj_server.domain.summary import ItemInfo, summarize
from tests.cj_server.simulate import simulated

SCALE = BUILT_IN_SCALES["letter_a_to_f"]


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
