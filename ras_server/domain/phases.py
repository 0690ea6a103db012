"""One essay in its phases: outcomes merged in any order, and the view a dashboard shows.

Merging outcomes (a join, so arrival order and repeats never matter)
--------------------------------------------------------------------
Every outcome of one essay in one phase is a fact with a sort key
``(rank, authority, event_time, status priority, event_id, error)``; the record keeps the
greatest one. ``rank`` puts any terminal outcome (completed, failed, cancelled) above
``started`` above ``pending``, so a late 'started' never reopens a phase. ``authority``
puts an outcome reported for this essay above one implied by a batch-wide report (a
whole phase cancelled), so such a report never overwrites a real result. Between two
terminal outcomes of one authority the later event wins; equal times fall back to a
fixed status priority, then to the event id. The phase's start time is the earliest
time of any outcome; its end time is the winner's time when the winner is terminal.
The error kept is the winner's.

The view (what counts as settled)
---------------------------------
Phases are walked in pipeline order. A phase with a terminal record shows it. A phase
without one, after a phase that ended failed or cancelled, is *skipped* with that
reason: it is settled, so a batch with failures still completes. Otherwise a batch
that was cancelled shows the phase cancelled, and a batch whose pipeline the
orchestrator reported complete shows it failed ("no outcome"); else it is pending or
started. An essay is failed when a phase failed, cancelled when one was cancelled (and
none failed), completed when every phase completed, else in progress.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class PhaseStatus(StrEnum):
    PENDING = "pending"
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"

    @property
    def rank(self) -> int:
        return {"pending": 0, "started": 1}.get(self.value, 2)

    @property
    def terminal(self) -> bool:
        return self.rank == 2


# Ties between terminal outcomes at the same time: the more cautious one wins.
PRIORITY = {PhaseStatus.COMPLETED: 0, PhaseStatus.CANCELLED: 1, PhaseStatus.FAILED: 2}
REPORTED, IMPLIED = 1, 0


@dataclass(frozen=True)
class Outcome:
    """One reported outcome of one essay in one phase."""

    status: PhaseStatus
    event_time: float
    event_id: str
    error: str | None = None  # a google.rpc.Status, encoded by the converters and kept whole
    authority: int = REPORTED


@dataclass(frozen=True)
class PhaseRecord:
    status: PhaseStatus
    start_time: float | None
    end_time: float | None
    event_time: float
    event_id: str = ""
    error: str | None = None
    authority: int = REPORTED

    @property
    def key(self) -> tuple[int, int, float, int, str, str]:
        return _key(Outcome(self.status, self.event_time, self.event_id, self.error, self.authority))


def _key(outcome: Outcome) -> tuple[int, int, float, int, str, str]:
    """A total order on outcomes (every field takes part, so the greatest is unique)."""
    status = outcome.status
    return (
        status.rank,
        outcome.authority,
        outcome.event_time,
        PRIORITY.get(status, 0),
        outcome.event_id,
        outcome.error or "",
    )


def merge(current: PhaseRecord | None, outcome: Outcome) -> PhaseRecord:
    """The record after one more outcome; merging is commutative, associative and idempotent."""
    start = outcome.event_time if current is None or current.start_time is None else current.start_time
    start = min(start, outcome.event_time)
    new_key = _key(outcome)
    if current is not None and current.key >= new_key:
        return replace(current, start_time=start)
    end = outcome.event_time if outcome.status.terminal else None
    return PhaseRecord(
        outcome.status, start, end, outcome.event_time, outcome.event_id, outcome.error, outcome.authority
    )


class EssayState(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Flags:
    """Batch-wide facts that settle every phase still open."""

    cancelled: bool = False
    pipeline_completed: bool = False


NO_FLAGS = Flags()
BATCH_CANCELLED = "batch cancelled"
NO_OUTCOME = "no outcome before the pipeline completed"


@dataclass(frozen=True)
class PhaseView:
    phase: str
    status: PhaseStatus
    start_time: float | None = None
    end_time: float | None = None
    error: str | None = None
    reason: str = ""

    @property
    def settled(self) -> bool:
        return self.status.terminal


@dataclass(frozen=True)
class EssayView:
    phases: tuple[PhaseView, ...]
    state: EssayState
    current_phase: str
    # Cancelled with a phase still open: the pipeline's completion turns such an essay failed.
    open: bool


def _open_view(phase: str, record: PhaseRecord | None, flags: Flags) -> PhaseView:
    start = record.start_time if record else None
    if flags.cancelled:
        return PhaseView(phase, PhaseStatus.CANCELLED, start, None, None, BATCH_CANCELLED)
    if flags.pipeline_completed:
        return PhaseView(phase, PhaseStatus.FAILED, start, None, None, NO_OUTCOME)
    if record is None:
        return PhaseView(phase, PhaseStatus.PENDING)
    return PhaseView(phase, record.status, start, None, record.error)


def phase_views(
    phases: Sequence[str], records: Mapping[str, PhaseRecord], flags: Flags = NO_FLAGS
) -> tuple[PhaseView, ...]:
    views: list[PhaseView] = []
    blocked = ""
    for phase in phases:
        record = records.get(phase)
        if record is not None and record.status.terminal:
            views.append(PhaseView(phase, record.status, record.start_time, record.end_time, record.error))
            if not blocked and record.status in (PhaseStatus.FAILED, PhaseStatus.CANCELLED):
                blocked = f"{phase} {record.status.value}"
        elif blocked:
            start = record.start_time if record else None
            views.append(PhaseView(phase, PhaseStatus.SKIPPED, start, None, None, blocked))
        else:
            views.append(_open_view(phase, record, flags))
    return tuple(views)


def essay_state(records: Mapping[str, PhaseRecord], views: Sequence[PhaseView]) -> EssayState:
    """From the records alone: batch-wide flags change open essays, see `flagged_state`."""
    statuses = {records[view.phase].status for view in views if view.phase in records}
    if PhaseStatus.FAILED in statuses:
        return EssayState.FAILED
    if PhaseStatus.CANCELLED in statuses:
        return EssayState.CANCELLED
    if all(view.status is PhaseStatus.COMPLETED for view in views):
        return EssayState.COMPLETED
    return EssayState.PROCESSING if records else EssayState.PENDING


def flagged_state(state: EssayState, open_: bool, flags: Flags) -> EssayState:
    in_progress = state in (EssayState.PENDING, EssayState.PROCESSING)
    if flags.cancelled:
        return EssayState.CANCELLED if in_progress else state
    if flags.pipeline_completed and (in_progress or (state is EssayState.CANCELLED and open_)):
        return EssayState.FAILED
    return state


def essay_view(phases: Sequence[str], records: Mapping[str, PhaseRecord], flags: Flags = NO_FLAGS) -> EssayView:
    raw = phase_views(phases, records)
    open_ = any(not view.settled for view in raw)
    state = flagged_state(essay_state(records, raw), open_, flags)
    views = raw if flags == NO_FLAGS else phase_views(phases, records, flags)
    current = next((view.phase for view in views if not view.settled), "")
    return EssayView(views, state, current, open_)


# ---- the batch's tally: what each essay contributes to the batch's counters ----------------

ESSAY_CLASSES = ("completed", "failed", "cancelled_settled", "cancelled_open", "in_progress")


def essay_class(view: EssayView) -> str:
    """The counter an essay (viewed without batch-wide flags) adds to."""
    if view.state is EssayState.CANCELLED:
        return "cancelled_open" if view.open else "cancelled_settled"
    if view.state in (EssayState.PENDING, EssayState.PROCESSING):
        return "in_progress"
    return view.state.value


def contribution(view: EssayView) -> Counter[str]:
    """Counter keys: `essays.<class>` and `<phase>.<status>`; summed over essays, the tally."""
    counts: Counter[str] = Counter({f"essays.{essay_class(view)}": 1})
    for phase in view.phases:
        counts[f"{phase.phase}.{phase.status.value}"] += 1
    return counts
