"""Batch status from per-essay, per-phase outcomes.

Phase outcomes never move backwards: PENDING < STARTED < a terminal status
(COMPLETED, FAILED, CANCELLED). A later event with a lower rank is ignored; between
two terminal outcomes the one with the later event time wins. So events may arrive
in any order and the batch ends in the same place.

Batch state: registered batches wait (awaiting content validation); the first phase
outcome starts processing; the batch is complete only when every requested phase is
terminal for every essay: completed successfully when none failed, completed with
failures when some did, failed critically when every essay failed. Terminal batch
states are final.

current_phase (the seeds' rule): set only while processing; the first requested
phase, in pipeline order, that is not terminal for every essay; none otherwise; the
orchestrator's batch-level report only when no essay is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PhaseStatus(StrEnum):
    PENDING = "pending"
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def rank(self) -> int:
        return {"pending": 0, "started": 1}.get(self.value, 2)

    @property
    def terminal(self) -> bool:
        return self.rank == 2


class BatchState(StrEnum):
    AWAITING_CONTENT_VALIDATION = "awaiting_content_validation"
    CONTENT_INGESTION_FAILED = "content_ingestion_failed"
    AWAITING_PIPELINE_CONFIGURATION = "awaiting_pipeline_configuration"
    READY_FOR_PIPELINE_EXECUTION = "ready_for_pipeline_execution"
    PROCESSING_PIPELINES = "processing_pipelines"
    AWAITING_STUDENT_VALIDATION = "awaiting_student_validation"
    STUDENT_VALIDATION_COMPLETED = "student_validation_completed"
    VALIDATION_TIMEOUT_PROCESSED = "validation_timeout_processed"
    COMPLETED_SUCCESSFULLY = "completed_successfully"
    COMPLETED_WITH_FAILURES = "completed_with_failures"
    FAILED_CRITICALLY = "failed_critically"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = {
    BatchState.COMPLETED_SUCCESSFULLY,
    BatchState.COMPLETED_WITH_FAILURES,
    BatchState.FAILED_CRITICALLY,
    BatchState.CANCELLED,
}


class ClientStatus(StrEnum):
    PENDING_CONTENT = "pending_content"
    READY = "ready"
    PROCESSING = "processing"
    COMPLETED_SUCCESSFULLY = "completed_successfully"
    COMPLETED_WITH_FAILURES = "completed_with_failures"
    FAILED = "failed"
    CANCELLED = "cancelled"


# The one mapping from the pipeline's states to what a dashboard shows.
CLIENT_STATUS = {
    BatchState.AWAITING_CONTENT_VALIDATION: ClientStatus.PENDING_CONTENT,
    BatchState.AWAITING_PIPELINE_CONFIGURATION: ClientStatus.PENDING_CONTENT,
    BatchState.READY_FOR_PIPELINE_EXECUTION: ClientStatus.READY,
    BatchState.PROCESSING_PIPELINES: ClientStatus.PROCESSING,
    BatchState.AWAITING_STUDENT_VALIDATION: ClientStatus.PROCESSING,
    BatchState.STUDENT_VALIDATION_COMPLETED: ClientStatus.PROCESSING,
    BatchState.VALIDATION_TIMEOUT_PROCESSED: ClientStatus.PROCESSING,
    BatchState.COMPLETED_SUCCESSFULLY: ClientStatus.COMPLETED_SUCCESSFULLY,
    BatchState.COMPLETED_WITH_FAILURES: ClientStatus.COMPLETED_WITH_FAILURES,
    BatchState.CONTENT_INGESTION_FAILED: ClientStatus.FAILED,
    BatchState.FAILED_CRITICALLY: ClientStatus.FAILED,
    BatchState.CANCELLED: ClientStatus.CANCELLED,
}


def states_for(client: ClientStatus) -> list[BatchState]:
    return [state for state, shown in CLIENT_STATUS.items() if shown is client]


@dataclass(frozen=True)
class PhaseRecord:
    status: PhaseStatus
    start_time: float | None
    end_time: float | None
    event_time: float


def apply_outcome(current: PhaseRecord | None, status: PhaseStatus, event_time: float) -> PhaseRecord | None:
    """The phase record after an outcome, or None when the outcome changes nothing."""
    if current is not None:
        older_terminal = current.status.terminal and status.terminal and event_time <= current.event_time
        if status.rank < current.status.rank or older_terminal or (status == current.status and not status.terminal):
            return None
    start = current.start_time if current and current.start_time is not None else None
    if status is PhaseStatus.STARTED or (status.terminal and start is None):
        start = min(event_time, start) if start is not None else event_time
    end = event_time if status.terminal else None
    return PhaseRecord(status, start, end, event_time)


@dataclass(frozen=True)
class Derived:
    state: BatchState
    current_phase: str
    completed_essays: int
    failed_essays: int
    progress_percent: float
    all_done: bool


def derive(
    state: BatchState, requested: list[str], essays: dict[str, dict[str, PhaseRecord]], orchestrator_phase: str
) -> Derived:
    """`essays` maps essay id -> {phase: record} (phases without a record are pending)."""
    statuses = {essay: [phases.get(p) for p in requested] for essay, phases in essays.items()}
    settled = sum(1 for records in statuses.values() for r in records if r is not None and r.status.terminal)
    total = len(essays) * len(requested)
    completed = sum(
        1 for records in statuses.values() if all(r is not None and r.status is PhaseStatus.COMPLETED for r in records)
    )
    failed = sum(
        1 for records in statuses.values() if any(r is not None and r.status is PhaseStatus.FAILED for r in records)
    )
    all_done = total > 0 and settled == total
    started = any(r is not None for records in statuses.values() for r in records)
    if not state.terminal:
        if all_done:
            state = (
                BatchState.FAILED_CRITICALLY
                if failed == len(essays)
                else BatchState.COMPLETED_WITH_FAILURES
                if failed or completed < len(essays)
                else BatchState.COMPLETED_SUCCESSFULLY
            )
        elif started or orchestrator_phase:
            state = BatchState.PROCESSING_PIPELINES
    current = ""
    if state is BatchState.PROCESSING_PIPELINES:
        if essays:
            current = next(
                (
                    phase
                    for index, phase in enumerate(requested)
                    if any(
                        records[index] is None or not records[index].status.terminal for records in statuses.values()
                    )
                ),
                "",
            )
        else:
            current = orchestrator_phase
    return Derived(state, current, completed, failed, 100.0 * settled / total if total else 0.0, all_done)
