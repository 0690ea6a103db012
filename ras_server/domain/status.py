"""The batch's status, derived from its facts and its tally (never stored as a decision).

Inputs are joins of the batch's events, so any order of the same events gives the same
status: the tally (per-phase and per-essay counters, see `phases.contribution`), the
earliest and latest outcome times, and the batch-wide facts: ready, cancelled, pipeline
completed.

State, first rule that holds:
1. cancelled by the orchestrator -> CANCELLED;
2. every requested phase settled for every essay -> COMPLETED_SUCCESSFULLY when every
   essay completed, FAILED_CRITICALLY when every essay failed, CANCELLED when every
   essay was cancelled, else COMPLETED_WITH_FAILURES;
3. any outcome or a batch-level 'started' report -> PROCESSING_PIPELINES;
4. marked ready -> READY_FOR_PIPELINE_EXECUTION;
5. else AWAITING_CONTENT_VALIDATION.

current_phase (the seeds' rule): only while processing, the first requested phase in
pipeline order that is not settled for every essay.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ras_server.domain.phases import PhaseStatus


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


TERMINAL_STATES = frozenset(
    {
        BatchState.COMPLETED_SUCCESSFULLY,
        BatchState.COMPLETED_WITH_FAILURES,
        BatchState.FAILED_CRITICALLY,
        BatchState.CANCELLED,
    }
)


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
class BatchFacts:
    """The batch-wide joins of its events (times in seconds since the epoch)."""

    essay_count: int
    phases: tuple[str, ...]
    tally: Mapping[str, int] = field(default_factory=dict)
    first_start: float | None = None
    last_end: float | None = None
    ready_at: float | None = None
    cancelled_at: float | None = None
    pipeline_completed_at: float | None = None
    reported_started: bool = False


@dataclass(frozen=True)
class PhaseCounts:
    phase: str
    status: PhaseStatus
    counts: Mapping[PhaseStatus, int]

    @property
    def open(self) -> int:
        return self.counts[PhaseStatus.PENDING] + self.counts[PhaseStatus.STARTED]


@dataclass(frozen=True)
class Derived:
    state: BatchState
    current_phase: str
    completed_essays: int
    failed_essays: int
    cancelled_essays: int
    pending_essays: int
    progress_percent: float
    completed_at: float | None
    phases: tuple[PhaseCounts, ...]


def essay_counts(facts: BatchFacts) -> tuple[int, int, int, int]:
    """(completed, failed, cancelled, in progress), with the batch-wide facts applied."""
    t = Counter({k.removeprefix("essays."): v for k, v in facts.tally.items() if k.startswith("essays.")})
    completed, failed, in_progress = t["completed"], t["failed"], t["in_progress"]
    settled, open_ = t["cancelled_settled"], t["cancelled_open"]
    if facts.cancelled_at is not None:
        return completed, failed, settled + open_ + in_progress, 0
    if facts.pipeline_completed_at is not None:
        return completed, failed + open_ + in_progress, settled, 0
    return completed, failed, settled + open_, in_progress


def phase_counts(facts: BatchFacts, phase: str) -> PhaseCounts:
    counts = {status: int(facts.tally.get(f"{phase}.{status.value}", 0)) for status in PhaseStatus}
    still_open = counts[PhaseStatus.PENDING] + counts[PhaseStatus.STARTED]
    settle_as = PhaseStatus.CANCELLED if facts.cancelled_at is not None else PhaseStatus.FAILED
    if facts.cancelled_at is not None or facts.pipeline_completed_at is not None:
        counts[settle_as] += still_open
        counts[PhaseStatus.PENDING] = counts[PhaseStatus.STARTED] = 0
    return PhaseCounts(phase, _phase_status(counts), counts)


def _phase_status(counts: Mapping[PhaseStatus, int]) -> PhaseStatus:
    if counts[PhaseStatus.PENDING] + counts[PhaseStatus.STARTED]:
        return PhaseStatus.PENDING if counts[PhaseStatus.PENDING] == sum(counts.values()) else PhaseStatus.STARTED
    for status in (PhaseStatus.COMPLETED, PhaseStatus.FAILED, PhaseStatus.CANCELLED):
        if counts[status]:
            return status
    return PhaseStatus.SKIPPED


def _settled_state(essays: int, completed: int, failed: int, cancelled: int) -> BatchState:
    if completed == essays:
        return BatchState.COMPLETED_SUCCESSFULLY
    if failed == essays:
        return BatchState.FAILED_CRITICALLY
    if cancelled == essays:
        return BatchState.CANCELLED
    return BatchState.COMPLETED_WITH_FAILURES


def batch_state(facts: BatchFacts, phases: Sequence[PhaseCounts], essays: tuple[int, int, int, int]) -> BatchState:
    if facts.cancelled_at is not None:
        return BatchState.CANCELLED
    if facts.essay_count and all(p.open == 0 for p in phases):
        return _settled_state(facts.essay_count, *essays[:3])
    if facts.first_start is not None or facts.reported_started:
        return BatchState.PROCESSING_PIPELINES
    if facts.ready_at is not None:
        return BatchState.READY_FOR_PIPELINE_EXECUTION
    return BatchState.AWAITING_CONTENT_VALIDATION


def completed_at(facts: BatchFacts) -> float | None:
    times = [t for t in (facts.last_end, facts.cancelled_at, facts.pipeline_completed_at) if t is not None]
    return max(times) if times else None


def derive(facts: BatchFacts) -> Derived:
    phases = tuple(phase_counts(facts, phase) for phase in facts.phases)
    essays = essay_counts(facts)
    state = batch_state(facts, phases, essays)
    current = ""
    if state is BatchState.PROCESSING_PIPELINES:
        current = next((p.phase for p in phases if p.open), "")
    cells = facts.essay_count * len(phases)
    settled = sum(cells and (facts.essay_count - p.open) for p in phases)
    return Derived(
        state=state,
        current_phase=current,
        completed_essays=essays[0],
        failed_essays=essays[1],
        cancelled_essays=essays[2],
        pending_essays=essays[3],
        progress_percent=round(100.0 * settled / cells, 2) if cells else 0.0,
        completed_at=completed_at(facts) if state.terminal else None,
        phases=phases,
    )
