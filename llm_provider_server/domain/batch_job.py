"""Provider batch jobs: states mirroring the OpenAI lifecycle, and per-item outcomes.

Anthropic maps onto the same states: in_progress -> IN_PROGRESS, canceling ->
CANCELLING, ended -> COMPLETED (or CANCELLED / EXPIRED when that is what ended it).
A provider that says completed before its output is readable is FINALIZING.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from llm_provider_server.domain.model import Outcome, ProviderFailure, Verdict


class JobState(StrEnum):
    VALIDATING = "validating"
    IN_PROGRESS = "in_progress"
    FINALIZING = "finalizing"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.EXPIRED, JobState.CANCELLED)


@dataclass(frozen=True)
class RequestCounts:
    total: int = 0
    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    cancelled: int = 0
    expired: int = 0


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    provider: str
    model: str
    state: JobState
    item_count: int
    created_at: float
    updated_at: float
    counts: RequestCounts = field(default_factory=RequestCounts)
    request_id: str | None = None
    provider_job_id: str | None = None
    submitted_at: float | None = None
    in_progress_at: float | None = None
    finalizing_at: float | None = None
    ended_at: float | None = None
    expire_at: float | None = None
    cancel_at: float | None = None
    cost_usd: float = 0.0
    error_reason: str = ""
    error_message: str = ""


@dataclass(frozen=True)
class BatchPoll:
    """What the provider says about a job now."""

    state: JobState
    counts: RequestCounts
    output_ready: bool
    error_message: str = ""


@dataclass(frozen=True)
class ItemResult:
    outcome: Outcome
    verdict: Verdict | None = None
    failure: ProviderFailure | None = None


def effective_state(poll: BatchPoll) -> JobState:
    """Completed without readable output is still finalizing."""
    if poll.state is JobState.COMPLETED and not poll.output_ready:
        return JobState.FINALIZING
    return poll.state
