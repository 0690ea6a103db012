"""What RAS is told (events) and what it answers (views), as plain records.

Every event carries an idempotency key (`event_id`). Its fingerprint is a digest of
everything else it says, so a repeat of the same event is recognised as a duplicate and
an event id reused for different content is refused, whatever batch it names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ras_server.domain.phases import EssayView, PhaseStatus
from ras_server.domain.status import CLIENT_STATUS, BatchState, ClientStatus, Derived


@dataclass(frozen=True)
class Event:
    event_id: str
    batch_id: str
    # None: the receiver's clock at arrival.
    event_time: float | None

    kind = "event"

    def fingerprint(self) -> str:
        body = json.dumps([self.kind, plain(self)], sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(body.encode()).hexdigest()


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True)
class RegisteredEssay:
    essay_id: str
    filename: str = ""


@dataclass(frozen=True)
class RegisterBatch(Event):
    owner: str = ""
    essays: tuple[RegisteredEssay, ...] = ()
    # In pipeline order (the converter sorts them).
    phases: tuple[str, ...] = ()
    assignment_id: str = ""
    course_code: str = ""
    class_id: str = ""
    org_id: str = ""

    kind = "register"


@dataclass(frozen=True)
class PhaseReport(Event):
    """One essay's outcome in one phase; without an essay, a report for the whole batch."""

    essay_id: str = ""
    phase: str = ""
    status: PhaseStatus = PhaseStatus.STARTED
    error: str | None = None

    kind = "phase"


@dataclass(frozen=True)
class EssayAssessment:
    rank: int = 0
    student_rank: int = 0
    score: float = 0.0
    standard_error: float = 0.0
    grade: str = ""
    grade_confidence: float = 0.0
    confidence_label: str = ""
    comparison_count: int = 0
    is_anchor: bool = False


@dataclass(frozen=True)
class AssessmentReport(Event):
    assessment: str = ""
    essays: tuple[tuple[str, EssayAssessment], ...] = ()
    reliability: float = 0.0
    grade_scale_id: str = ""
    model: str = ""

    kind = "assessment"


@dataclass(frozen=True)
class CancelBatch(Event):
    reason: str = ""

    kind = "cancel"


@dataclass(frozen=True)
class MarkReady(Event):
    kind = "ready"


@dataclass(frozen=True)
class PipelineCompleted(Event):
    kind = "pipeline_completed"


@dataclass(frozen=True)
class CjSummary:
    assessment: str = ""
    reliability: float = 0.0
    grade_scale_id: str = ""
    model: str = ""
    assessed_essays: int = 0
    assessed_at: float | None = None


@dataclass(frozen=True)
class EssayStatus:
    essay_id: str
    filename: str
    view: EssayView
    assessment: EssayAssessment | None
    updated_at: float


@dataclass(frozen=True)
class BatchView:
    batch_id: str
    owner: str
    assignment_id: str
    course_code: str
    class_id: str
    org_id: str
    phases: tuple[str, ...]
    essay_count: int
    derived: Derived
    created_at: float
    updated_at: float
    first_start: float | None
    ready_at: float | None
    cancelled_at: float | None
    cancel_reason: str
    pipeline_completed_at: float | None
    phase_times: dict[str, tuple[float | None, float | None]]
    cj: CjSummary
    essays: tuple[EssayStatus, ...] | None = None
    feed_seq: int = 0

    @property
    def state(self) -> BatchState:
        return self.derived.state

    @property
    def client_status(self) -> ClientStatus:
        return CLIENT_STATUS[self.derived.state]


@dataclass(frozen=True)
class BatchFilter:
    owner: str = ""
    states: tuple[BatchState, ...] = ()
    class_id: str = ""
    org_id: str = ""
    include_essays: bool = False
