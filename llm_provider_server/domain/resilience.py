"""A circuit breaker, and token buckets for requests-per-minute and tokens-per-minute limits.

(Retry backoff is the named policy of `service_core.retry`.)

Circuit breaker: CLOSED counts consecutive failures; at `failure_threshold` it OPENs
and admits no call for `recovery_seconds`; then HALF_OPEN admits one trial call:
success closes it, failure opens it again. `accepting` only looks (dispatchers use it
to decide whether to claim work); `admit` takes the permission (the executor calls it
right before each provider call, in every processing mode, and before each of the batch
poller's vendor calls), so work claimed while the breaker was closed is still held back
when it opened meanwhile. A call that reached the provider settles the breaker by what it
answered: a 5xx or timeout counts (`record_failure`), anything else resets the count.

Token bucket: refilled at per_minute / 60 a second, holding at most one second's worth
(at least one call's worth). A call takes its amount (1 for requests, its estimated
tokens for tokens); one larger than the bucket waits for a full bucket and leaves it in
debt, so a long prompt is delayed, never refused. Over any window of T seconds at most
per_minute * T / 60 + capacity is taken.

Both take the time from the caller, so they are deterministic under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class BreakerState(IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


@dataclass
class CircuitBreaker:
    failure_threshold: int = 5
    recovery_seconds: float = 30.0
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    trial_in_flight: bool = False

    def _recover(self, now: float) -> None:
        if self.state is BreakerState.OPEN and now - self.opened_at >= self.recovery_seconds:
            self.state, self.trial_in_flight = BreakerState.HALF_OPEN, False

    def accepting(self, now: float) -> bool:
        """Would a call be admitted now? (Takes nothing.)"""
        self._recover(now)
        return self.state is BreakerState.CLOSED or (self.state is BreakerState.HALF_OPEN and not self.trial_in_flight)

    def admit(self, now: float) -> bool:
        """May a call start now? In HALF_OPEN only one trial call at a time."""
        if not self.accepting(now):
            return False
        if self.state is BreakerState.HALF_OPEN:
            self.trial_in_flight = True
        return True

    def next_admission(self, now: float) -> float:
        """When a call may next be admitted: the end of the open period (or, while a trial call
        runs, a second from now, by when it has usually answered)."""
        if self.state is BreakerState.OPEN:
            return max(self.opened_at + self.recovery_seconds, now)
        return now + 1.0 if self.state is BreakerState.HALF_OPEN and self.trial_in_flight else now

    def abandon_trial(self) -> None:
        """A call admitted here ended without an answer (it was cancelled): in HALF_OPEN the next
        call is the trial instead. (A call that answered settles with record_success / record_failure.)"""
        if self.state is BreakerState.HALF_OPEN:
            self.trial_in_flight = False

    def record_success(self) -> None:
        self.state, self.failures, self.trial_in_flight = BreakerState.CLOSED, 0, False

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.failure_threshold:
            self.state, self.opened_at, self.trial_in_flight = BreakerState.OPEN, now, False


@dataclass
class RateLimiter:
    """A token bucket of `per_minute` (0 = no limit)."""

    per_minute: float
    tokens: float = field(default=-1.0)
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    @property
    def capacity(self) -> float:
        return max(1.0, self.per_minute / 60.0)

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + max(now - self.updated_at, 0.0) * self.per_minute / 60.0)
        self.updated_at = now

    def wait_seconds(self, now: float, amount: float = 1.0) -> float:
        """Take `amount` if the bucket holds it (returns 0), else how long until it will."""
        if self.per_minute <= 0:
            return 0.0
        self._refill(now)
        needed = min(amount, self.capacity)
        if self.tokens >= needed:
            self.tokens -= amount
            return 0.0
        return (needed - self.tokens) * 60.0 / self.per_minute

    def settle(self, estimated: float, actual: float) -> None:
        """Correct a take by what the call really used (tokens are estimated before the call)."""
        if self.per_minute > 0:
            self.tokens = min(self.capacity, self.tokens + estimated - actual)


# About four characters a token for English text; the completion side counts the most the call may
# write (vendors count max_tokens against the limit when the call starts).
CHARS_PER_TOKEN = 4
DEFAULT_COMPLETION_ESTIMATE = 256


def estimate_prompt_tokens(prompt_chars: int) -> int:
    """A prompt's tokens, before a vendor counted them (what a batch queue's token limit counts)."""
    return prompt_chars // CHARS_PER_TOKEN


def estimate_tokens(prompt_chars: int, max_tokens: int | None) -> int:
    """Tokens a call will take from a tokens-per-minute budget, before it runs."""
    return estimate_prompt_tokens(prompt_chars) + (max_tokens or DEFAULT_COMPLETION_ESTIMATE)
