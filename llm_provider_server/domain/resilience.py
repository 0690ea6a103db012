"""Retry backoff, a circuit breaker and a requests-per-minute limiter.

Backoff ("full jitter"): the delay before attempt n+1 is U(0, min(cap, base * 2**(n-1))),
but never less than the provider's Retry-After when it sent one.

Circuit breaker: CLOSED counts consecutive failures; at `failure_threshold` it
OPENs and refuses calls for `recovery_seconds`; then HALF_OPEN lets one trial call
through: success closes it, failure opens it again.

Rate limiter: a token bucket refilled at per_minute / 60 tokens a second, holding at
most one second's worth (at least one token); each call takes one token. Over any
window of T seconds at most per_minute * T / 60 + capacity calls start.

All three take the time from the caller, so they are deterministic under test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import IntEnum


@dataclass(frozen=True)
class BackoffPolicy:
    base_seconds: float = 1.0
    cap_seconds: float = 60.0
    max_attempts: int = 4

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        jittered = rng.uniform(0, ceiling)
        return max(jittered, retry_after or 0.0)

    def can_retry(self, attempts_made: int) -> bool:
        return attempts_made < self.max_attempts


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

    def allows(self, now: float) -> bool:
        """May a call start now? In HALF_OPEN only one trial call at a time."""
        if self.state is BreakerState.OPEN and now - self.opened_at >= self.recovery_seconds:
            self.state, self.trial_in_flight = BreakerState.HALF_OPEN, False
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.HALF_OPEN and not self.trial_in_flight:
            self.trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self.state, self.failures, self.trial_in_flight = BreakerState.CLOSED, 0, False

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.failure_threshold:
            self.state, self.opened_at, self.trial_in_flight = BreakerState.OPEN, now, False


@dataclass
class RateLimiter:
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
        self.tokens = min(self.capacity, self.tokens + (now - self.updated_at) * self.per_minute / 60.0)
        self.updated_at = now

    def wait_seconds(self, now: float) -> float:
        """Take a token if one is there (returns 0), else how long until one will be."""
        if self.per_minute <= 0:
            return 0.0
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) * 60.0 / self.per_minute
