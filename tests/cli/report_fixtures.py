"""Assessment results to render in the report tests: the Swedish eight-grade scale with narrow bands
(whose labels overlapped in the old report) and an essay whose most probable grade is not its band."""

from __future__ import annotations

import itertools
import math

from huleedu.cj.v1 import assessment_pb2
from huleedu.llm.v1 import comparison_pb2

SWEDISH = ("F", "E", "D", "D+", "C", "C+", "B", "A")
CUTS = (-2.0, -1.0, -0.9, -0.8, 0.5, 0.55, 0.6)  # D+, C, C+ and B are narrow bands
NAMES = {"s00": "Søren Ødegaard", "s01": "张伟", "s02": "Åsa Öberg", "s03": "Łukasz Nowak"}


def _probabilities(score: float, se: float) -> list[tuple[str, float]]:
    edges = [-math.inf, *CUTS, math.inf]
    cdf = [0.5 * (1 + math.erf((e - score) / (se * math.sqrt(2)))) for e in edges]
    return [(g, cdf[i + 1] - cdf[i]) for i, g in enumerate(SWEDISH)]


def essay(essay_id: str, rank: int, score: float, se: float, anchor_grade: str = "") -> assessment_pb2.EssayResult:
    probabilities = _probabilities(score, se)
    grade, confidence = max(probabilities, key=lambda p: p[1])
    return assessment_pb2.EssayResult(
        essay_id=essay_id,
        is_anchor=bool(anchor_grade),
        anchor_grade=anchor_grade,
        rank=rank,
        score=score,
        standard_error=se,
        comparison_count=6,
        win_count=3,
        grade_projection=assessment_pb2.GradeProjection(
            grade=grade,
            confidence=confidence,
            probabilities=[assessment_pb2.GradeProbability(grade=g, probability=p) for g, p in probabilities],
        ),
    )


def swedish_result(n_students: int = 12, split_half: float = 0.82) -> assessment_pb2.AssessmentResult:
    scores = [2.5 - 5.0 * i / max(n_students - 1, 1) for i in range(n_students)]
    essays = [essay(f"s{i:02d}", 0, s, 0.45) for i, s in enumerate(scores)]
    essays.append(essay("s-narrow", 0, 0.57, 0.6))  # drawn in the narrow B band, more probably C or A
    essays += [essay("anchor-A", 0, 2.0, 0.4, "A"), essay("anchor-F", 0, -2.6, 0.4, "F")]
    essays.sort(key=lambda e: -e.score)
    for rank, e in enumerate(essays, start=1):
        e.rank = rank
    return assessment_pb2.AssessmentResult(
        assessment="assessments/abc",
        essay_results=essays,
        reliability=assessment_pb2.Reliability(
            estimate=split_half,
            estimate_lower=max(0.0, split_half - 0.05),
            estimate_upper=min(1.0, split_half + 0.03),
            split_half_reliability=split_half,
            scale_separation_reliability=0.93,
            mean_standard_error=0.45,
        ),
        grade_scale_id="swedish_f_to_a",
        grades_projected=True,
        grade_boundaries=[
            assessment_pb2.GradeBoundary(lower_grade=SWEDISH[i], upper_grade=SWEDISH[i + 1], score=c)
            for i, c in enumerate(CUTS)
        ],
        stop_reason=assessment_pb2.AssessmentResult.STOP_REASON_BUDGET_SPENT,
        comparisons_succeeded=40,
        comparisons_attempted=42,
        complete_time={"seconds": 1_800_000_000},
        provider=comparison_pb2.PROVIDER_MOCK,
        model="mock-judge-v1",
        cost_usd=0.0123,
    )


def judgements(result: assessment_pb2.AssessmentResult) -> list[assessment_pb2.Judgement]:
    ids = [e.essay_id for e in result.essay_results]
    return [
        assessment_pb2.Judgement(
            essay_a_id=a,
            essay_b_id=b,
            outcome=assessment_pb2.Judgement.OUTCOME_SUCCEEDED,
            winner=comparison_pb2.WINNER_ESSAY_A,
            confidence=4.0,
            justification=f"{a} argues more clearly than {b} <and> cites evidence.",
            wave=1,
        )
        for a, b in itertools.pairwise(ids)
    ] + [
        assessment_pb2.Judgement(essay_a_id=ids[0], essay_b_id=ids[-1], outcome=assessment_pb2.Judgement.OUTCOME_FAILED)
    ]


def assessment() -> assessment_pb2.Assessment:
    return assessment_pb2.Assessment(
        name="assessments/abc",
        labels={f"essay-name/{k}": v for k, v in NAMES.items()},
        progress=assessment_pb2.AssessmentProgress(budget=48),
        create_time={"seconds": 1_799_999_000},
    )


def swedish_scale() -> assessment_pb2.GradeScale:
    return assessment_pb2.GradeScale(
        scale_id="swedish_f_to_a",
        display_name="Swedish F-A with D+ and C+",
        grades=[assessment_pb2.Grade(label=g) for g in SWEDISH],
    )
