"""Provider batch jobs: states mirroring the OpenAI lifecycle, and per-item outcomes.

A job the vendor cannot take in one piece is several vendor jobs ("parts", see
`vendor_limits.split`); the job's state and counts are aggregated from its parts.

Anthropic maps onto the same states: in_progress -> IN_PROGRESS, canceling ->
CANCELLING, ended -> COMPLETED (or CANCELLED / EXPIRED when that is what ended it).
A provider that says completed before its output is readable is FINALIZING.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    poll_failures: int = 0  # polls that failed in a row


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


@dataclass(frozen=True)
class VendorPart:
    """One vendor job of a batch job: requests [first_index, first_index + item_count)."""

    job_id: str
    part: int
    first_index: int
    item_count: int
    state: JobState = JobState.VALIDATING
    counts: RequestCounts = field(default_factory=RequestCounts)
    provider_job_id: str | None = None
    submitted_at: float | None = None
    cancel_sent_at: float | None = None
    ended_at: float | None = None
    error_reason: str = ""
    error_message: str = ""
    estimated_tokens: int = 0  # its requests' prompts, estimated

    @property
    def end_index(self) -> int:
        return self.first_index + self.item_count

    @property
    def submitted(self) -> bool:
        return self.provider_job_id is not None

    def vendor_record(self, job: JobRecord) -> JobRecord:
        """The job as one vendor sees this part: its own id, size, vendor job and cancel time."""
        return replace(
            job,
            job_id=job.job_id if self.part == 0 else f"{job.job_id}-{self.part}",
            item_count=self.item_count,
            provider_job_id=self.provider_job_id,
            submitted_at=self.submitted_at,
            cancel_at=self.cancel_sent_at,
            state=self.state,
            counts=self.counts,
        )


# Least advanced first: a job is as far along as its slowest part.
_PROGRESS = (JobState.VALIDATING, JobState.IN_PROGRESS, JobState.FINALIZING)


def aggregate_state(states: list[JobState], cancel_requested: bool) -> JobState:
    """The state of a job from its parts' states."""
    running = [s for s in states if not s.is_terminal]
    if running:
        if cancel_requested:
            return JobState.CANCELLING
        return min((s for s in running if s in _PROGRESS), key=_PROGRESS.index, default=JobState.IN_PROGRESS)
    ended = set(states)
    if len(ended) == 1:
        return states[0]
    if cancel_requested and JobState.CANCELLED in ended:
        return JobState.CANCELLED
    if JobState.COMPLETED in ended:
        return JobState.COMPLETED
    if JobState.EXPIRED in ended:
        return JobState.EXPIRED
    return JobState.CANCELLED if JobState.CANCELLED in ended else JobState.FAILED


def sum_counts(counts: list[RequestCounts]) -> RequestCounts:
    return RequestCounts(
        total=sum(c.total for c in counts),
        processing=sum(c.processing for c in counts),
        succeeded=sum(c.succeeded for c in counts),
        errored=sum(c.errored for c in counts),
        cancelled=sum(c.cancelled for c in counts),
        expired=sum(c.expired for c in counts),
    )
