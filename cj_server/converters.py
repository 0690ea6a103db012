"""Proto <-> domain conversions for CJ, in one place."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar, cast

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from huleedu.cj.v1 import assessment_pb2, cj_assessment_service_pb2
from huleedu.llm.v1 import comparison_pb2
from huleedu.results.v1 import batch_pb2, result_aggregator_service_pb2

from cj_server.domain.grading import GradeScale
from cj_server.domain.records import Arrived
from cj_server.domain.summary import Summary
from cj_server.domain.validation import CreateSpec, CustomScale, EssayInput, LlmChoice
from cj_server.settings import BatchingMode
from service_core.protos import timestamp
from service_core.validation import ResourceName

Event = cj_assessment_service_pb2.StreamComparisonResultsResponse
ASSESSMENT_NAMES = ResourceName("assessments")
ANCHOR_NAMES = ResourceName("anchors")
M = TypeVar("M", bound=Message)

A = assessment_pb2.Assessment
BATCHING_TO_PROTO = {
    BatchingMode.PER_REQUEST: assessment_pb2.BATCHING_MODE_PER_REQUEST,
    BatchingMode.SERIAL_BUNDLE: assessment_pb2.BATCHING_MODE_SERIAL_BUNDLE,
    BatchingMode.PROVIDER_BATCH_API: assessment_pb2.BATCHING_MODE_PROVIDER_BATCH_API,
}
BATCHING_FROM_PROTO: dict[int, BatchingMode] = {v: k for k, v in BATCHING_TO_PROTO.items()}
STATE_TO_PROTO = {
    "pending": A.STATE_PENDING,
    "running": A.STATE_RUNNING,
    "succeeded": A.STATE_SUCCEEDED,
    "failed": A.STATE_FAILED,
    "cancelled": A.STATE_CANCELLED,
}
STATE_FROM_PROTO: dict[int, str] = {v: k for k, v in STATE_TO_PROTO.items()}
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
        stop_reason=STOP_REASONS.get(stop_reason, assessment_pb2.AssessmentResult.STOP_REASON_UNSPECIFIED),
        comparisons_succeeded=succeeded,
        comparisons_attempted=attempted,
        complete_time=timestamp(complete_time),
        cost_usd=cost,
        provider=provider_enum(provider),
        model=model,
    )


def to_json(message: Message) -> str:
    return json_format.MessageToJson(message, preserving_proto_field_name=True)


def from_json(text: str, message_type: type[M]) -> M:
    return json_format.Parse(text, message_type())


def provider_enum(value: int) -> comparison_pb2.Provider:
    """A provider number (stored, or from the domain) as the proto enum type: the generated stubs
    type enums as classes, but the runtime values are plain ints (an EnumTypeWrapper is not callable)."""
    return cast(comparison_pb2.Provider, value)


def anchor_proto(row: Mapping[str, Any]) -> assessment_pb2.Anchor:
    return assessment_pb2.Anchor(
        name=ANCHOR_NAMES.format(row["anchor_id"]),
        grade_scale_id=row["grade_scale_id"],
        grade=row["grade"],
        text=row["text"],
        assignment_id=row["assignment_id"],
        display_name=row["display_name"],
        create_time=timestamp(row["created_at"]),
    )


# ---- requests in --------------------------------------------------------------------------------


def create_spec(request: cj_assessment_service_pb2.CreateAssessmentRequest) -> CreateSpec:
    custom = None
    if request.WhichOneof("grade_scale") == "custom_grade_scale":
        c = request.custom_grade_scale
        custom = CustomScale(
            c.scale_id, c.display_name, tuple(g.label for g in c.grades), tuple(g.prior for g in c.grades)
        )
    o = request.llm_overrides
    return CreateSpec(
        request_id=request.request_id,
        essays=[
            EssayInput(f"essays[{i}]", f"essays[{i}].essay_id", e.essay_id, e.text)
            for i, e in enumerate(request.essays)
        ],
        anchors=[
            EssayInput(f"anchors[{i}]", f"anchors[{i}].anchor_id", a.anchor_id, a.text, a.grade, True)
            for i, a in enumerate(request.anchors)
        ],
        anchor_names=list(request.anchor_names),
        grade_scale_id=request.grade_scale_id,
        custom_scale=custom,
        comparison_budget=request.comparison_budget,
        target_reliability=request.target_reliability,
        batching_mode=request.llm_batching_mode,
        batching_mode_known=request.llm_batching_mode in (0, *BATCHING_FROM_PROTO),
        student_prompt=request.student_prompt,
        instructions=request.instructions,
        rubric=request.rubric,
        llm=LlmChoice(
            provider=o.provider,
            model=o.model,
            temperature=o.temperature if o.HasField("temperature") else None,
            max_tokens=o.max_tokens if o.HasField("max_tokens") else None,
            system_prompt=o.system_prompt,
        ),
    )


def stored_anchor(row: Mapping[str, Any]) -> EssayInput:
    return EssayInput("anchor_names", "anchor_names", row["anchor_id"], row["text"], row["grade"], True)


def overrides_dict(request: cj_assessment_service_pb2.CreateAssessmentRequest) -> dict[str, Any]:
    return json_format.MessageToDict(request.llm_overrides)


def arrived(result: comparison_pb2.ComparisonResult) -> Arrived:
    succeeded = result.outcome == comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED
    return Arrived(
        request_id=result.request_id,
        assessment_id=result.metadata.get("assessment_id", ""),
        comparison_id=result.metadata.get("comparison_id", ""),
        succeeded=succeeded,
        first_won=(result.winner == comparison_pb2.WINNER_ESSAY_A) if succeeded else None,
        confidence=result.confidence if succeeded else None,
        justification=result.justification if succeeded else None,
        error_code=result.error.code,
        error_message=result.error.message,
        provider=str(result.provider),
        model=result.model,
        cost_usd=result.cost_usd,
        payload=result.SerializeToString(),
    )


def error_json(result: Arrived) -> str | None:
    if result.succeeded:
        return None
    return json.dumps({"code": result.error_code, "message": result.error_message}, sort_keys=True)


# ---- requests out -------------------------------------------------------------------------------

HINTS = {
    BatchingMode.PER_REQUEST: comparison_pb2.BATCHING_HINT_PER_REQUEST,
    BatchingMode.SERIAL_BUNDLE: comparison_pb2.BATCHING_HINT_SERIAL_BUNDLE,
    BatchingMode.PROVIDER_BATCH_API: comparison_pb2.BATCHING_HINT_PROVIDER_BATCH_API,
}


def lps_request_id(comparison_id: str) -> str:
    return f"cj:{comparison_id}"


def lps_request(
    spec: Mapping[str, Any],
    assessment_id: str,
    comparison_id: str,
    first_text: str,
    second_text: str,
    mode: BatchingMode,
    consumer: str,
) -> comparison_pb2.ComparisonRequest:
    return comparison_pb2.ComparisonRequest(
        request_id=lps_request_id(comparison_id),
        essay_a_text=first_text,
        essay_b_text=second_text,
        student_prompt=spec["student_prompt"],
        instructions=spec["instructions"],
        rubric=spec["rubric"],
        overrides=json_format.ParseDict(spec["llm_overrides"], comparison_pb2.LlmOverrides()),
        consumer=consumer,
        batching_hint=HINTS[mode],
        metadata={"assessment_id": assessment_id, "comparison_id": comparison_id},
    )


# ---- assessments and their events ---------------------------------------------------------------

JUDGEMENT_OUTCOMES = {
    comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED: assessment_pb2.Judgement.OUTCOME_SUCCEEDED,
    comparison_pb2.ComparisonResult.OUTCOME_FAILED: assessment_pb2.Judgement.OUTCOME_FAILED,
    comparison_pb2.ComparisonResult.OUTCOME_CANCELLED: assessment_pb2.Judgement.OUTCOME_CANCELLED,
    comparison_pb2.ComparisonResult.OUTCOME_EXPIRED: assessment_pb2.Judgement.OUTCOME_EXPIRED,
}


def name_of(assessment_id: str) -> str:
    return ASSESSMENT_NAMES.format(assessment_id)


def progress(row: Mapping[str, Any]) -> assessment_pb2.AssessmentProgress:
    """From the assessment row's counters alone (no read of its comparisons)."""
    succeeded, failed = row["succeeded_count"], row["failed_count"]
    active = row["state"] in ("pending", "running")
    return assessment_pb2.AssessmentProgress(
        comparisons_submitted=row["attempts"],
        comparisons_succeeded=succeeded,
        comparisons_failed=failed,
        comparisons_pending=max(row["attempts"] - succeeded - failed, 0) if active else 0,
        waves=row["waves"],
        current_reliability=row["reliability"],
        budget=row["budget"],
        budget_remaining=max(row["budget"] - row["attempts"], 0),
    )


def assessment(
    row: Mapping[str, Any], essays: int = 0, anchors: int = 0, dead: tuple[int, str] = (0, "")
) -> assessment_pb2.Assessment:
    spec = json.loads(row["spec_json"])
    message = assessment_pb2.Assessment(
        name=name_of(row["assessment_id"]),
        request_id=row["request_id"],
        state=STATE_TO_PROTO[row["state"]],
        progress=progress(row),
        llm_batching_mode=BATCHING_TO_PROTO[BatchingMode(row["llm_batching_mode"])],
        batching_mode_note=row["batching_note"],
        grade_scale_id=spec["grade_scale"]["scale_id"],
        target_reliability=row["target_reliability"],
        batch_id=spec["batch_id"],
        create_time=timestamp(row["created_at"]),
        update_time=timestamp(row["updated_at"]),
        end_time=timestamp(row["ended_at"]),
        labels=spec["labels"],
        llm_overrides=json_format.ParseDict(spec["llm_overrides"], comparison_pb2.LlmOverrides()),
        essay_count=essays,
        anchor_count=anchors,
        undeliverable_notifications=dead[0],
        undeliverable_error=dead[1],
    )
    if row["error_json"]:
        error = json.loads(row["error_json"])
        message.error.code = grpc.StatusCode[error["code"]].value[0]
        message.error.message = error["message"]
    return message


def judgement_event(payload: bytes, essay_a: str, essay_b: str, wave: int, attempt: int, now: float) -> bytes:
    result = comparison_pb2.ComparisonResult.FromString(payload)
    judgement = assessment_pb2.Judgement(
        essay_a_id=essay_a,
        essay_b_id=essay_b,
        outcome=JUDGEMENT_OUTCOMES.get(result.outcome, assessment_pb2.Judgement.OUTCOME_UNSPECIFIED),
        winner=result.winner,
        confidence=result.confidence,
        justification=result.justification,
        wave=wave,
        attempt=attempt,
        complete_time=timestamp(now),
    )
    if result.HasField("error"):
        judgement.error.CopyFrom(result.error)
    return Event(judgement=judgement).SerializeToString()


def progress_event(row: Mapping[str, Any]) -> bytes:
    return Event(progress=progress(row)).SerializeToString()


def result_event(result: assessment_pb2.AssessmentResult) -> bytes:
    return Event(result=result).SerializeToString()


def final_event(row: Mapping[str, Any]) -> bytes:
    return Event(final_assessment=assessment(row)).SerializeToString()


def event_from_bytes(payload: bytes, sequence: int) -> cj_assessment_service_pb2.StreamComparisonResultsResponse:
    event = Event.FromString(payload)
    event.sequence = sequence
    return event


# ---- the outbox to RAS --------------------------------------------------------------------------

PHASE_STATUS = {
    "started": batch_pb2.PHASE_STATUS_STARTED,
    "failed": batch_pb2.PHASE_STATUS_FAILED,
    "cancelled": batch_pb2.PHASE_STATUS_CANCELLED,
}


def phase_outcome(
    assessment_id: str, batch_id: str, essay_id: str, status: str, now: float, message: str = ""
) -> tuple[str, bytes]:
    code = PHASE_STATUS[status]
    request = result_aggregator_service_pb2.RecordPhaseOutcomeRequest(
        event_id=f"cj-{assessment_id}-{essay_id}-{batch_pb2.PhaseStatus.Name(code)}",
        batch_id=batch_id,
        essay_id=essay_id,
        phase="cj_assessment",
        status=code,
        event_time=timestamp(now),
    )
    if message:
        request.error.message = message
    return request.event_id, request.SerializeToString()


def ras_result(assessment_id: str, batch_id: str, proto: assessment_pb2.AssessmentResult, now: float) -> bytes:
    essays = [
        result_aggregator_service_pb2.AssessedEssay(
            essay_id=e.essay_id,
            assessment=batch_pb2.EssayAssessment(
                rank=e.rank,
                student_rank=e.student_rank,
                score=e.score,
                standard_error=e.standard_error,
                grade=e.grade_projection.grade,
                grade_confidence=e.grade_projection.confidence,
                confidence_label=assessment_pb2.GradeProjection.ConfidenceLabel.Name(
                    e.grade_projection.confidence_label
                ).removeprefix("CONFIDENCE_LABEL_")
                if e.HasField("grade_projection")
                else "",
                comparison_count=e.comparison_count,
                is_anchor=False,
            ),
        )
        for e in proto.essay_results
        if not e.is_anchor
    ]
    return result_aggregator_service_pb2.RecordAssessmentResultRequest(
        event_id=f"cj-result-{assessment_id}",
        batch_id=batch_id,
        assessment=proto.assessment,
        essays=essays,
        reliability=proto.reliability.estimate,
        grade_scale_id=proto.grade_scale_id,
        event_time=timestamp(now),
        model=proto.model,
    ).SerializeToString()
