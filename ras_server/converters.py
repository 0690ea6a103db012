"""Proto <-> domain conversions for RAS, in one place."""

from __future__ import annotations

import json

from google.protobuf import json_format, timestamp_pb2
from huleedu.results.v1 import batch_pb2

from ras_server.domain.status import (
    CLIENT_STATUS,
    BatchState,
    ClientStatus,
    PhaseRecord,
    PhaseStatus,
    derive,
)
from service_core.protos import timestamp

PHASE_STATUS_FROM_PROTO = {
    batch_pb2.PHASE_STATUS_PENDING: PhaseStatus.PENDING,
    batch_pb2.PHASE_STATUS_STARTED: PhaseStatus.STARTED,
    batch_pb2.PHASE_STATUS_COMPLETED: PhaseStatus.COMPLETED,
    batch_pb2.PHASE_STATUS_FAILED: PhaseStatus.FAILED,
    batch_pb2.PHASE_STATUS_CANCELLED: PhaseStatus.CANCELLED,
}
PHASE_STATUS_TO_PROTO = {v: k for k, v in PHASE_STATUS_FROM_PROTO.items()}
STATE_TO_PROTO = {state: batch_pb2.BatchState.Value(f"BATCH_STATE_{state.name}") for state in BatchState}
CLIENT_TO_PROTO = {status: batch_pb2.ClientStatus.Value(f"CLIENT_STATUS_{status.name}") for status in ClientStatus}
CLIENT_FROM_PROTO = {v: k for k, v in CLIENT_TO_PROTO.items()}


def seconds(stamp: timestamp_pb2.Timestamp) -> float | None:
    return stamp.ToNanoseconds() / 1e9 if stamp.seconds or stamp.nanos else None


def _phase_summary(phase: str, index: int, essays: list[dict], records) -> batch_pb2.PhaseSummary:
    mine = [records.get(e["essay_id"], {}).get(phase) for e in essays]
    found = [r for r, _ in (m for m in mine if m is not None)]
    completed = sum(r.status is PhaseStatus.COMPLETED for r in found)
    failed = sum(r.status is PhaseStatus.FAILED for r in found)
    terminal = sum(r.status.terminal for r in found)
    if essays and terminal == len(essays):
        status = PhaseStatus.FAILED if failed == len(essays) else PhaseStatus.COMPLETED
    elif found:
        status = PhaseStatus.STARTED
    else:
        status = PhaseStatus.PENDING
    starts = [r.start_time for r in found if r.start_time is not None]
    ends = [r.end_time for r in found if r.end_time is not None]
    return batch_pb2.PhaseSummary(
        phase=phase,
        status=PHASE_STATUS_TO_PROTO[status],
        completed_count=completed,
        failed_count=failed,
        pending_count=len(essays) - terminal,
        start_time=timestamp(min(starts) if starts else None),
        end_time=timestamp(max(ends) if status.terminal and ends else None),
    )


def status_to_proto(
    batch: dict, essays: list[dict], records: dict[str, dict[str, tuple[PhaseRecord, str | None]]], include_essays: bool
) -> batch_pb2.BatchStatus:
    requested = json.loads(batch["requested_phases"])
    state = BatchState(batch["state"])
    derived = derive(
        state,
        requested,
        {e["essay_id"]: {p: r for p, (r, _) in records.get(e["essay_id"], {}).items()} for e in essays},
        batch["orchestrator_phase"],
    )
    message = batch_pb2.BatchStatus(
        batch_id=batch["batch_id"],
        owner=batch["owner"],
        assignment_id=batch["assignment_id"],
        state=STATE_TO_PROTO[state],
        client_status=CLIENT_TO_PROTO[CLIENT_STATUS[state]],
        requested_phases=requested,
        current_phase=derived.current_phase if state is BatchState.PROCESSING_PIPELINES else "",
        essay_count=len(essays),
        completed_essay_count=derived.completed_essays,
        failed_essay_count=derived.failed_essays,
        progress_percent=round(derived.progress_percent, 2),
        phases=[_phase_summary(p, i, essays, records) for i, p in enumerate(requested)],
        create_time=timestamp(batch["created_at"]),
        update_time=timestamp(batch["updated_at"]),
        processing_start_time=timestamp(batch["processing_started_at"]),
        processing_end_time=timestamp(batch["processing_completed_at"]),
        failed_essays=derived.failed_essays,
        completed_at=timestamp(batch["processing_completed_at"]),
        course_code=batch["course_code"],
        cj_reliability=batch["cj_reliability"],
        cj_assessment=batch["cj_assessment"],
    )
    message.processing_phase = message.current_phase
    if include_essays:
        for essay in essays:
            entry = batch_pb2.EssayStatus(
                essay_id=essay["essay_id"], filename=essay["filename"], update_time=timestamp(essay["updated_at"])
            )
            for phase in requested:
                found = records.get(essay["essay_id"], {}).get(phase)
                if found is None:
                    entry.phases.append(batch_pb2.EssayPhase(phase=phase, status=batch_pb2.PHASE_STATUS_PENDING))
                    continue
                record, error = found
                item = batch_pb2.EssayPhase(
                    phase=phase,
                    status=PHASE_STATUS_TO_PROTO[record.status],
                    start_time=timestamp(record.start_time),
                    end_time=timestamp(record.end_time),
                )
                if error:
                    json_format.ParseDict(json.loads(error), item.error)
                entry.phases.append(item)
            if essay["assessment_json"]:
                json_format.ParseDict(json.loads(essay["assessment_json"]), entry.assessment)
            message.essays.append(entry)
    return message
