"""Proto <-> domain records for RAS, in one place: every request is checked against the
declared limits (`domain/limits.py`) here, before anything reaches the service or storage.
Lengths, NUL characters, finite numbers and valid timestamps were checked before the handler
ran, by the server's request checks with RAS's table (`limits.request_limits`); the rules here
are the ones only RAS knows."""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf import json_format, timestamp_pb2
from google.rpc import status_pb2
from huleedu.results.v1 import batch_pb2
from huleedu.results.v1 import result_aggregator_service_pb2 as pb

from ras_server.domain import limits
from ras_server.domain import records as r
from ras_server.domain.phases import EssayState, EssayView, PhaseStatus, PhaseView
from ras_server.domain.pipeline import PIPELINE_ORDER, in_pipeline_order, is_known
from ras_server.domain.status import CLIENT_STATUS, BatchState, ClientStatus, PhaseCounts, states_for
from service_core.errors import FieldViolation, InvalidArgument
from service_core.paging import keyset_after
from service_core.protos import timestamp
from service_core.validation import enum_violation

PHASE_STATUS_FROM_PROTO = {
    batch_pb2.PHASE_STATUS_PENDING: PhaseStatus.PENDING,
    batch_pb2.PHASE_STATUS_STARTED: PhaseStatus.STARTED,
    batch_pb2.PHASE_STATUS_COMPLETED: PhaseStatus.COMPLETED,
    batch_pb2.PHASE_STATUS_FAILED: PhaseStatus.FAILED,
    batch_pb2.PHASE_STATUS_CANCELLED: PhaseStatus.CANCELLED,
    batch_pb2.PHASE_STATUS_SKIPPED: PhaseStatus.SKIPPED,
}
PHASE_STATUS_TO_PROTO = {v: k for k, v in PHASE_STATUS_FROM_PROTO.items()}
REPORTABLE = {PhaseStatus.STARTED, PhaseStatus.COMPLETED, PhaseStatus.FAILED, PhaseStatus.CANCELLED}
# getattr, not .Value(): the generated stubs type .Value() as a plain int, the attribute as the enum
STATE_TO_PROTO: dict[BatchState, batch_pb2.BatchState] = {
    state: getattr(batch_pb2.BatchState, f"BATCH_STATE_{state.name}") for state in BatchState
}
CLIENT_TO_PROTO: dict[ClientStatus, batch_pb2.ClientStatus] = {
    status: getattr(batch_pb2.ClientStatus, f"CLIENT_STATUS_{status.name}") for status in ClientStatus
}
CLIENT_FROM_PROTO = {v: k for k, v in CLIENT_TO_PROTO.items()}
ERROR_BYTES = "b64:"
ESSAY_STATE_TO_PROTO: dict[EssayState, batch_pb2.EssayState] = {
    state: getattr(batch_pb2.EssayState, f"ESSAY_STATE_{state.name}") for state in EssayState
}


def _invalid(violations: list[FieldViolation]) -> None:
    if violations:
        raise InvalidArgument(violations[: limits.MAX_LIST_VIOLATIONS])


def _time(request: Any, field: str, required: bool = False) -> tuple[float | None, list[FieldViolation]]:
    if not request.HasField(field):
        return None, [FieldViolation(field, "required")] if required else []
    stamp: timestamp_pb2.Timestamp = getattr(request, field)
    return stamp.seconds + stamp.nanos / 1e9, []


def _event(request: Any, time_required: bool = False) -> tuple[float | None, list[FieldViolation]]:
    at, violations = _time(request, "event_time", time_required)
    return at, limits.text("event_id", request.event_id) + limits.text("batch_id", request.batch_id) + violations


def _error(error: status_pb2.Status, field: str = "error") -> tuple[str | None, list[FieldViolation]]:
    if error.ByteSize() > limits.MAX_ERROR_BYTES:
        return None, [FieldViolation(field, f"at most {limits.MAX_ERROR_BYTES} bytes")]
    if len(error.message) > limits.MAX_ERROR_MESSAGE or "\x00" in error.message:
        return None, [FieldViolation(f"{field}.message", f"at most {limits.MAX_ERROR_MESSAGE} characters, no NUL")]
    return error_to_record(error), []


def error_to_record(error: status_pb2.Status) -> str:
    """Kept as the Status's bytes: its details may hold Any types this server cannot resolve."""
    return ERROR_BYTES + base64.b64encode(error.SerializeToString(deterministic=True)).decode()


# ---- requests -> domain records --------------------------------------------------------------


def register_from_proto(request: pb.RegisterBatchRequest) -> r.RegisterBatch:
    at, violations = _event(request)
    violations += limits.text("owner", request.owner)
    for name in ("assignment_id", "course_code", "class_id", "org_id"):
        violations += limits.text(name, getattr(request, name))
    violations += limits.count("essays", len(request.essays), limits.MAX_ESSAYS, minimum=1)
    violations += limits.distinct_ids("essays", [e.essay_id for e in request.essays], "essay_id")
    violations += _phases(list(request.requested_phases))
    _invalid(violations)
    return r.RegisterBatch(
        event_id=request.event_id,
        batch_id=request.batch_id,
        event_time=at,
        owner=request.owner,
        essays=tuple(r.RegisteredEssay(e.essay_id, e.filename) for e in request.essays),
        phases=tuple(in_pipeline_order(request.requested_phases)),
        assignment_id=request.assignment_id,
        course_code=request.course_code,
        class_id=request.class_id,
        org_id=request.org_id,
    )


def _phases(requested: list[str]) -> list[FieldViolation]:
    found = limits.count("requested_phases", len(requested), len(PIPELINE_ORDER), minimum=1)
    if found:
        return found
    seen: set[str] = set()
    for i, phase in enumerate(requested):
        if not is_known(phase) or phase in seen:
            rule = f"distinct phases of the pipeline ({', '.join(PIPELINE_ORDER)})"
            found.append(FieldViolation(f"requested_phases[{i}]", f"{limits.preview(phase)}: {rule}"))
        seen.add(phase)
    return found


def phase_from_proto(request: pb.RecordPhaseOutcomeRequest) -> r.PhaseReport:
    at, violations = _event(request, time_required=True)
    violations += limits.text("phase", request.phase)
    if request.essay_id:
        violations += limits.text("essay_id", request.essay_id)
    status = PHASE_STATUS_FROM_PROTO.get(request.status)
    if status not in REPORTABLE:
        violations.append(FieldViolation("status", "STARTED, COMPLETED, FAILED or CANCELLED"))
    elif not request.essay_id and status not in (PhaseStatus.STARTED, PhaseStatus.CANCELLED):
        violations.append(FieldViolation("status", "a report for the whole batch is STARTED or CANCELLED"))
    error, found = _error(request.error) if request.HasField("error") else (None, [])
    _invalid(violations + found)
    return r.PhaseReport(
        event_id=request.event_id,
        batch_id=request.batch_id,
        event_time=at,
        essay_id=request.essay_id,
        phase=request.phase,
        status=status or PhaseStatus.STARTED,
        error=error,
    )


def _assessment(field: str, a: batch_pb2.EssayAssessment) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    for name in ("rank", "student_rank", "comparison_count"):
        found += limits.non_negative(f"{field}.{name}", getattr(a, name))
    return found + limits.finite(f"{field}.grade_confidence", a.grade_confidence, 0.0, 1.0)


def assessment_from_proto(request: pb.RecordAssessmentResultRequest) -> r.AssessmentReport:
    at, violations = _event(request, time_required=True)
    for name in ("assessment", "grade_scale_id", "model"):
        violations += limits.text(name, getattr(request, name))
    violations += limits.finite("reliability", request.reliability, -1.0, 1.0)
    violations += limits.distinct_ids("essays", [e.essay_id for e in request.essays], "essay_id")
    violations += limits.first(
        _assessment(f"essays[{i}].assessment", e.assessment) for i, e in enumerate(request.essays)
    )
    _invalid(violations)
    return r.AssessmentReport(
        event_id=request.event_id,
        batch_id=request.batch_id,
        event_time=at,
        assessment=request.assessment,
        essays=tuple((e.essay_id, _assessment_record(e.assessment)) for e in request.essays),
        reliability=request.reliability,
        grade_scale_id=request.grade_scale_id,
        model=request.model,
    )


def _assessment_record(a: batch_pb2.EssayAssessment) -> r.EssayAssessment:
    return r.EssayAssessment(
        a.rank,
        a.student_rank,
        a.score,
        a.standard_error,
        a.grade,
        a.grade_confidence,
        a.confidence_label,
        a.comparison_count,
        a.is_anchor,
    )


def cancel_from_proto(request: pb.CancelBatchRequest) -> r.CancelBatch:
    at, violations = _event(request)
    _invalid(violations + limits.text("reason", request.reason))
    return r.CancelBatch(request.event_id, request.batch_id, at, request.reason)


def ready_from_proto(request: pb.MarkBatchReadyRequest) -> r.MarkReady:
    at, violations = _event(request)
    _invalid(violations)
    return r.MarkReady(request.event_id, request.batch_id, at)


def pipeline_from_proto(request: pb.RecordPipelineCompletionRequest) -> r.PipelineCompleted:
    at, violations = _event(request)
    _invalid(violations)
    return r.PipelineCompleted(request.event_id, request.batch_id, at)


def batch_id_from_proto(batch_id: str) -> str:
    _invalid(limits.text("batch_id", batch_id))
    return batch_id


def filter_from_proto(request: pb.ListBatchesRequest) -> tuple[r.BatchFilter, tuple[float, str] | None]:
    violations = limits.text("class_id", request.class_id) + limits.text("org_id", request.org_id)
    violations += limits.text("page_token", request.page_token)
    if request.owner:
        violations += limits.text("owner", request.owner)
    states: list[BatchState] = []
    for i, value in enumerate(request.statuses):
        if violation := enum_violation(CLIENT_FROM_PROTO, value, f"statuses[{i}]"):
            violations.append(violation)
        else:
            states += states_for(CLIENT_FROM_PROTO[value])
    _invalid(violations)
    query = r.BatchFilter(request.owner, tuple(states), request.class_id, request.org_id, request.include_essays)
    return query, keyset_after(request.page_token)


def feed_from_proto(request: pb.WatchBatchesRequest) -> tuple[str, int]:
    violations = limits.text("cursor", request.cursor)
    if request.owner:
        violations += limits.text("owner", request.owner)
    if not violations and request.cursor and not (request.cursor.isascii() and request.cursor.isdigit()):
        violations.append(FieldViolation("cursor", "not a cursor this server sent"))
    _invalid(violations)
    cursor = int(request.cursor or 0)
    if cursor >= 2**62:
        _invalid([FieldViolation("cursor", "not a cursor this server sent")])
    return request.owner, cursor


# ---- domain records -> protos ----------------------------------------------------------------


def _phase_to_proto(view: PhaseView) -> batch_pb2.EssayPhase:
    message = batch_pb2.EssayPhase(
        phase=view.phase,
        status=PHASE_STATUS_TO_PROTO[view.status],
        start_time=timestamp(view.start_time),
        end_time=timestamp(view.end_time),
        reason=view.reason,
    )
    if view.error and view.error.startswith(ERROR_BYTES):
        message.error.ParseFromString(base64.b64decode(view.error.removeprefix(ERROR_BYTES)))
    elif view.error:  # written as JSON by revision 0001
        json_format.ParseDict(json.loads(view.error), message.error, ignore_unknown_fields=True)
    return message


def essay_to_proto(essay: r.EssayStatus) -> batch_pb2.EssayStatus:
    view: EssayView = essay.view
    message = batch_pb2.EssayStatus(
        essay_id=essay.essay_id,
        filename=essay.filename,
        phases=[_phase_to_proto(p) for p in view.phases],
        update_time=timestamp(essay.updated_at),
        state=ESSAY_STATE_TO_PROTO[view.state],
        current_phase=view.current_phase,
    )
    if essay.assessment is not None:
        message.assessment.CopyFrom(batch_pb2.EssayAssessment(**r.plain(essay.assessment)))
    return message


def _summary(counts: PhaseCounts, times: tuple[float | None, float | None]) -> batch_pb2.PhaseSummary:
    c = counts.counts
    return batch_pb2.PhaseSummary(
        phase=counts.phase,
        status=PHASE_STATUS_TO_PROTO[counts.status],
        completed_count=c[PhaseStatus.COMPLETED],
        failed_count=c[PhaseStatus.FAILED],
        pending_count=c[PhaseStatus.PENDING],
        started_count=c[PhaseStatus.STARTED],
        cancelled_count=c[PhaseStatus.CANCELLED],
        skipped_count=c[PhaseStatus.SKIPPED],
        start_time=timestamp(times[0]),
        end_time=timestamp(times[1] if counts.open == 0 else None),
    )


def batch_to_proto(view: r.BatchView) -> batch_pb2.BatchStatus:
    d = view.derived
    message = batch_pb2.BatchStatus(
        batch_id=view.batch_id,
        owner=view.owner,
        assignment_id=view.assignment_id,
        state=STATE_TO_PROTO[d.state],
        client_status=CLIENT_TO_PROTO[CLIENT_STATUS[d.state]],
        requested_phases=list(view.phases),
        current_phase=d.current_phase,
        processing_phase=d.current_phase,
        essay_count=view.essay_count,
        completed_essay_count=d.completed_essays,
        failed_essay_count=d.failed_essays,
        failed_essays=d.failed_essays,
        cancelled_essay_count=d.cancelled_essays,
        pending_essay_count=d.pending_essays,
        progress_percent=d.progress_percent,
        phases=[_summary(p, view.phase_times.get(p.phase, (None, None))) for p in d.phases],
        create_time=timestamp(view.created_at),
        update_time=timestamp(view.updated_at),
        processing_start_time=timestamp(view.first_start),
        processing_end_time=timestamp(d.completed_at),
        completed_at=timestamp(d.completed_at),
        course_code=view.course_code,
        class_id=view.class_id,
        org_id=view.org_id,
        cj_reliability=view.cj.reliability,
        cj_assessment=view.cj.assessment,
        ready_time=timestamp(view.ready_at),
        cancel_time=timestamp(view.cancelled_at),
        cancel_reason=view.cancel_reason,
        pipeline_complete_time=timestamp(view.pipeline_completed_at),
    )
    if view.cj.assessment or view.cj.assessed_at is not None:
        message.cj_summary.CopyFrom(
            batch_pb2.CjSummary(
                assessment=view.cj.assessment,
                reliability=view.cj.reliability,
                grade_scale_id=view.cj.grade_scale_id,
                model=view.cj.model,
                assessed_essay_count=view.cj.assessed_essays,
                assess_time=timestamp(view.cj.assessed_at),
            )
        )
    for essay in view.essays or ():
        message.essays.append(essay_to_proto(essay))
    return message
