"""The final result of an assessment: ranks, scores with standard errors, reliability,
position bias and grade projections, from the fit and the anchors.

Reliability is reported honest figure first: the held-out estimate with its interval
(`held_out.py`), then SSR and split-half, labelled for what they are. Below
`LOW_RELIABILITY` (or without an estimate) the result carries a warning a client
shows: at rho = 0.7 the scores correlate about 0.84 with the judge's true quality, and
most essays' grade intervals hold less than half of their probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cj_server.domain.bradley_terry import Fit
from cj_server.domain.grading import Calibration, GradeScale, Projection, calibrate, project_many
from cj_server.domain.held_out import HonestReliability
from cj_server.domain.reliability import scale_separation_reliability

LOW_RELIABILITY = 0.7


@dataclass(frozen=True)
class ItemInfo:
    essay_id: str
    is_anchor: bool
    anchor_grade: str


@dataclass(frozen=True)
class EssaySummary:
    essay_id: str
    is_anchor: bool
    anchor_grade: str
    rank: int
    student_rank: int
    score: float
    standard_error: float
    comparisons: int
    wins: int
    projection: Projection | None


@dataclass(frozen=True)
class Summary:
    essays: list[EssaySummary]
    ssr: float
    split_half: float
    mean_se: float
    first_position_win_rate: float
    position_bias: float
    position_bias_se: float
    grades_projected: bool
    grades_note: str
    boundaries: list[tuple[str, str, float]]
    estimate: float = 0.0  # the honest reliability (held-out), and its 95% interval
    estimate_lower: float = 0.0
    estimate_upper: float = 0.0
    reliability_warning: str = ""


def reliability_warning(honest: HonestReliability | None) -> str:
    if honest is None or not honest.available:
        return "too few held-out random comparisons were judged to estimate the reliability"
    if honest.estimate < LOW_RELIABILITY:
        return (
            f"reliability {honest.estimate:.2f} is below {LOW_RELIABILITY:.2f}: "
            "ranks and grades are uncertain; more comparisons per essay or a stronger judge would help"
        )
    return ""


def _anchor_posterior(result: Fit, anchors: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The anchors' scores and their covariance (the exact one, or independent above the dense limit)."""
    if result.covariance is not None:
        return result.scores[anchors], result.covariance[np.ix_(anchors, anchors)]
    return result.scores[anchors], np.diag(result.standard_errors[anchors] ** 2)


def _projections(calibration: Calibration, result: Fit, anchors: list[int]) -> list[Projection]:
    """Every essay's grade probabilities (grading.py): students with their covariance with the anchors,
    anchors as a student with their score would be (so one that scores like another grade shows it)."""
    cross = None
    if result.covariance is not None:
        cross = result.covariance[:, anchors].copy()
        cross[anchors] = 0.0
    return project_many(calibration, result.scores, result.standard_errors**2, cross)


def summarize(
    items: list[ItemInfo],
    outcomes: list[tuple[int, int, bool]],
    result: Fit,
    split_half: float,
    scale: GradeScale,
    honest: HonestReliability | None = None,
) -> Summary:
    n = len(items)
    counts, wins = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    for first, second, first_won in outcomes:
        counts[first] += 1
        counts[second] += 1
        wins[first if first_won else second] += 1
    order = np.argsort(-result.scores, kind="stable")
    anchors = [i for i, item in enumerate(items) if item.is_anchor]
    calibration = None
    note = ""
    if not anchors:
        note = "no anchor essays: scores and ranks only"
    else:
        calibration = calibrate(scale, [items[i].anchor_grade for i in anchors], *_anchor_posterior(result, anchors))
        if calibration is None:
            note = "anchors cover fewer than two grades: scores and ranks only"
    projections = _projections(calibration, result, anchors) if calibration else []
    student_rank = 0
    essays = []
    for rank, index in enumerate(order, start=1):
        item = items[index]
        if not item.is_anchor:
            student_rank += 1
        projection = projections[index] if projections else None
        essays.append(
            EssaySummary(
                item.essay_id,
                item.is_anchor,
                item.anchor_grade,
                rank,
                0 if item.is_anchor else student_rank,
                float(result.scores[index]),
                float(result.standard_errors[index]),
                int(counts[index]),
                int(wins[index]),
                projection,
            )
        )
    boundaries = []
    if calibration is not None:
        grades = scale.grades
        boundaries = [(grades[g], grades[g + 1], float(b)) for g, b in enumerate(calibration.boundaries)]
    first_wins = sum(1 for _, _, first_won in outcomes if first_won)
    return Summary(
        essays=essays,
        ssr=scale_separation_reliability(result),
        split_half=split_half,
        mean_se=float(np.mean(result.standard_errors)),
        first_position_win_rate=first_wins / len(outcomes) if outcomes else 0.0,
        position_bias=result.position_bias,
        position_bias_se=result.position_bias_se,
        grades_projected=calibration is not None,
        grades_note=note,
        boundaries=boundaries,
        estimate=honest.estimate if honest and honest.available else 0.0,
        estimate_lower=honest.lower if honest and honest.available else 0.0,
        estimate_upper=honest.upper if honest and honest.available else 0.0,
        reliability_warning=reliability_warning(honest),
    )
