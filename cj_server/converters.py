"""Proto <-> domain conversions for CJ, in one place."""

from __future__ import annotations

from google.protobuf import json_format
from huleedu.cj.v1 import assessment_pb2

from cj_server.domain.grading import GradeScale
from cj_server.domain.summary import Summary
from cj_server.settings import BatchingMode
from service_core.protos import timestamp

A = assessment_pb2.Assessment
BATCHING_TO_PROTO = {
    BatchingMode.PER_REQUEST: assessment_pb2.BATCHING_MODE_PER_REQUEST,
    BatchingMode.SERIAL_BUNDLE: assessment_pb2.BATCHING_MODE_SERIAL_BUNDLE,
    BatchingMode.PROVIDER_BATCH_API: assessment_pb2.BATCHING_MODE_PROVIDER_BATCH_API,
}
BATCHING_FROM_PROTO = {v: k for k, v in BATCHING_TO_PROTO.items()}
STATE_TO_PROTO = {
    "pending": A.STATE_PENDING,
    "running": A.STATE_RUNNING,
    "succeeded": A.STATE_SUCCEEDED,
    "failed": A.STATE_FAILED,
    "cancelled": A.STATE_CANCELLED,
}
STATE_FROM_PROTO = {v: k for k, v in STATE_TO_PROTO.items()}
LABELS = {
    "HIGH": assessment_pb2.GradeProjection.CONFIDENCE_LABEL_HIGH,
    "MEDIUM": assessment_pb2.GradeProjection.CONFIDENCE_LABEL_MEDIUM,
    "LOW": assessment_pb2.GradeProjection.CONFIDENCE_LABEL_LOW,
}
STOP_REASONS = {
    "target_reliability": assessment_pb2.AssessmentResult.STOP_REASON_TARGET_RELIABILITY,
    "budget_spent": assessment_pb2.AssessmentResult.STOP_REASON_BUDGET_SPENT,
    "no_informative_pair": assessment_pb2.AssessmentResult.STOP_REASON_NO_INFORMATIVE_PAIR,
    "all_pairs_judged": assessment_pb2.AssessmentResult.STOP_REASON_ALL_PAIRS_JUDGED,
}


def scale_to_proto(scale: GradeScale) -> assessment_pb2.GradeScale:
    priors = scale.priors or (0.0,) * len(scale.grades)
    return assessment_pb2.GradeScale(
        scale_id=scale.scale_id,
        display_name=scale.display_name,
        grades=[assessment_pb2.Grade(label=g, prior=p) for g, p in zip(scale.grades, priors, strict=True)],
    )


def summary_to_proto(
    summary: Summary,
    name: str,
    scale: GradeScale,
    stop_reason: str,
    succeeded: int,
    attempted: int,
    target: float,
    complete_time: float,
    cost: float,
    provider: int,
    model: str,
) -> assessment_pb2.AssessmentResult:
    essays = []
    for essay in summary.essays:
        message = assessment_pb2.EssayResult(
            essay_id=essay.essay_id,
            is_anchor=essay.is_anchor,
            anchor_grade=essay.anchor_grade,
            rank=essay.rank,
            student_rank=essay.student_rank,
            score=essay.score,
            standard_error=essay.standard_error,
            comparison_count=essay.comparisons,
            win_count=essay.wins,
        )
        if essay.projection is not None:
            p = essay.projection
            message.grade_projection.CopyFrom(
                assessment_pb2.GradeProjection(
                    grade=p.grade,
                    display_grade=p.display_grade or p.grade,
                    confidence=p.confidence,
                    confidence_label=LABELS[p.label],
                    probabilities=[
                        assessment_pb2.GradeProbability(grade=g, probability=v) for g, v in p.probabilities.items()
                    ],
                )
            )
        essays.append(message)
    return assessment_pb2.AssessmentResult(
        assessment=name,
        essay_results=essays,
        reliability=assessment_pb2.Reliability(
            scale_separation_reliability=summary.ssr,
            split_half_reliability=summary.split_half,
            mean_standard_error=summary.mean_se,
            target=target,
            estimate=summary.estimate,
            estimate_lower=summary.estimate_lower,
            estimate_upper=summary.estimate_upper,
            warning=summary.reliability_warning,
        ),
        position_bias=assessment_pb2.PositionBias(
            first_position_win_rate=summary.first_position_win_rate,
            logit=summary.position_bias,
            standard_error=summary.position_bias_se,
        ),
        grade_scale_id=scale.scale_id,
        grades_projected=summary.grades_projected,
        grades_note=summary.grades_note,
        grade_boundaries=[
            assessment_pb2.GradeBoundary(lower_grade=lo, upper_grade=up, score=s) for lo, up, s in summary.boundaries
        ],
        stop_reason=STOP_REASONS.get(stop_reason, 0),
        comparisons_succeeded=succeeded,
        comparisons_attempted=attempted,
        complete_time=timestamp(complete_time),
        cost_usd=cost,
        provider=provider,
        model=model,
    )


def to_json(message) -> str:
    return json_format.MessageToJson(message, preserving_proto_field_name=True)


def from_json(text: str, message_type):
    return json_format.Parse(text, message_type())
