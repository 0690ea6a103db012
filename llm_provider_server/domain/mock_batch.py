"""A simulated provider batch lifecycle, computed from timestamps alone so it
survives restarts and needs no vendor state.

A job with n items submitted at t0, with durations V (validating), P (processing
all items) and F (finalizing), and window W:
  item i (0-based) finishes at  t0 + V + P * (i + 1) / n
  state at time t:  t < t0+V -> validating;  items left -> in_progress;
                    t < last_item + F -> finalizing;  else completed
  expiry: at t0 + W unfinished items expire and the job is expired
  cancel at c: items finished before c keep their result, the rest are cancelled;
               the job is cancelling until c + F, then cancelled
  `output_delay` after completion: the job already says completed but its output
  is not readable yet (callers must treat that as finalizing).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from llm_provider_server.domain.batch_job import JobState


class ItemState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class MockBatchTiming:
    validating_seconds: float = 0.2
    processing_seconds: float = 1.0
    finalizing_seconds: float = 0.2
    window_seconds: float = 24 * 3600
    output_delay_seconds: float = 0.0


@dataclass(frozen=True)
class MockBatchSnapshot:
    state: JobState
    items: list[ItemState]
    output_ready: bool


def item_finish_time(submitted_at: float, index: int, count: int, timing: MockBatchTiming) -> float:
    return submitted_at + timing.validating_seconds + timing.processing_seconds * (index + 1) / count


def snapshot(
    *, submitted_at: float, count: int, now: float, timing: MockBatchTiming, cancel_at: float | None = None
) -> MockBatchSnapshot:
    expire_at = submitted_at + timing.window_seconds
    finish = [item_finish_time(submitted_at, i, count, timing) for i in range(count)]
    cutoff = min(c for c in (cancel_at, expire_at) if c is not None)
    items = [ItemState.DONE if f <= min(now, cutoff) else ItemState.PENDING for f in finish]
    if cancel_at is not None and cancel_at <= now and cancel_at < expire_at:
        ended = now >= cancel_at + timing.finalizing_seconds
        if ended:
            items = [s if s is ItemState.DONE else ItemState.CANCELLED for s in items]
        return MockBatchSnapshot(JobState.CANCELLED if ended else JobState.CANCELLING, items, ended)
    last = max(finish) if finish else submitted_at + timing.validating_seconds
    if now >= expire_at and last > expire_at:
        items = [s if s is ItemState.DONE else ItemState.EXPIRED for s in items]
        return MockBatchSnapshot(JobState.EXPIRED, items, True)
    if now < submitted_at + timing.validating_seconds:
        return MockBatchSnapshot(JobState.VALIDATING, items, False)
    if now < last:
        return MockBatchSnapshot(JobState.IN_PROGRESS, items, False)
    if now < last + timing.finalizing_seconds:
        return MockBatchSnapshot(JobState.FINALIZING, items, False)
    ready = now >= last + timing.finalizing_seconds + timing.output_delay_seconds
    return MockBatchSnapshot(JobState.COMPLETED, items, ready)
