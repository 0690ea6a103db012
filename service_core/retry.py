"""The one retry policy every background sender uses (outbox, batch poller, queue, wave sender).

A `RetryPolicy` is pure: the caller tells it how many attempts have been made and what time
it is, and the policy answers whether to try again and when. It never sleeps and never reads
a clock, so the same policy serves a loop that sleeps, a row that stores `next_attempt_at`,
and a test with a fake clock.

- **Backoff**: exponential (`base_seconds * multiplier ** (attempt - 1)`), capped at
  `cap_seconds`, with jitter: the delay is drawn from `[ceiling * (1 - jitter), ceiling]`
  (`jitter=1` is "full jitter", `0` none; the default 0.5 keeps the growth while spreading
  clients apart).
- **RetryInfo**: when the server sent a `google.rpc.RetryInfo` delay, the policy waits at least
  that long (bounded by `max_server_delay_seconds`, so a bad hint cannot park a sender forever).
- **Classification**: a status code is permanent when repeating the same call cannot succeed
  (`PERMANENT_CODES`); a permanent failure is never retried. Everything else is transient.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

import grpc
from google.rpc import error_details_pb2, status_pb2

# Repeating the same request cannot change the answer: the caller must change the request
# (INVALID_ARGUMENT, OUT_OF_RANGE), the world (NOT_FOUND, FAILED_PRECONDITION, ALREADY_EXISTS),
# its credentials (PERMISSION_DENIED, UNAUTHENTICATED) or the server (UNIMPLEMENTED).
PERMANENT_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)

_CODES_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}
STATUS_DETAILS_KEY = "grpc-status-details-bin"


def status_code(code: grpc.StatusCode | int | str) -> grpc.StatusCode:
    """A status code given as the enum, its wire number or its name (`"UNAVAILABLE"`)."""
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):
        return _CODES_BY_NUMBER.get(code, grpc.StatusCode.UNKNOWN)
    return grpc.StatusCode.__members__.get(code.upper(), grpc.StatusCode.UNKNOWN)


def is_permanent(code: grpc.StatusCode | int | str) -> bool:
    return status_code(code) in PERMANENT_CODES


def is_transient(code: grpc.StatusCode | int | str) -> bool:
    resolved = status_code(code)
    return resolved is not grpc.StatusCode.OK and resolved not in PERMANENT_CODES


@dataclass(frozen=True)
class Failure:
    """What a failed attempt reported: its code, the server's retry hint and its message."""

    code: grpc.StatusCode
    retry_after_seconds: float | None = None
    message: str = ""
    reason: str = ""

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> Failure:
        """Read code, message, `RetryInfo` and `ErrorInfo.reason` from a failed call."""
        code = status_code(error.code()) if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = (error.details() if hasattr(error, "details") else "") or ""
        metadata = error.trailing_metadata() if hasattr(error, "trailing_metadata") else ()
        status = _status_from_metadata(metadata)
        if status is None:
            return cls(code, None, message)
        return cls(code, retry_delay(status), message, error_reason(status))


def _status_from_metadata(metadata: object) -> status_pb2.Status | None:
    for key, value in metadata or ():  # type: ignore[attr-defined]
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status()
            try:
                status.ParseFromString(value)
            except Exception:  # a malformed trailer is no hint, not a crash
                return None
            return status
    return None


def retry_delay(status: status_pb2.Status) -> float | None:
    """The `RetryInfo.retry_delay` in a `google.rpc.Status`, in seconds; None if absent."""
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            seconds = info.retry_delay.seconds + info.retry_delay.nanos / 1e9
            return max(float(seconds), 0.0)
    return None


def error_reason(status: status_pb2.Status) -> str:
    """The `ErrorInfo.reason` in a `google.rpc.Status`; empty if absent."""
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return ""


class Verdict(StrEnum):
    RETRY = "retry"
    PERMANENT = "permanent"  # the failure cannot be fixed by repeating the call
    EXHAUSTED = "exhausted"  # transient, but the attempt budget is spent


@dataclass(frozen=True)
class RetryDecision:
    verdict: Verdict
    delay_seconds: float = 0.0
    retry_at: float | None = None  # `now + delay_seconds` when the verdict is RETRY

    @property
    def retry(self) -> bool:
        return self.verdict is Verdict.RETRY


_SHARED_RNG = random.Random()


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter and a cap, honouring RetryInfo. `attempt` counts the
    attempts already made (1 after the first failure). `max_attempts=None` retries transient
    failures forever (for senders that must not lose anything, such as an outbox)."""

    name: str
    base_seconds: float = 0.5
    multiplier: float = 2.0
    cap_seconds: float = 60.0
    jitter: float = 0.5
    max_attempts: int | None = None
    max_server_delay_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError(f"retry policy {self.name}: need 0 < base_seconds <= cap_seconds")
        if self.multiplier < 1 or not 0 <= self.jitter <= 1:
            raise ValueError(f"retry policy {self.name}: need multiplier >= 1 and 0 <= jitter <= 1")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"retry policy {self.name}: max_attempts must be at least 1")

    def ceiling(self, attempt: int) -> float:
        """The un-jittered delay after `attempt` attempts."""
        exponent = max(attempt - 1, 0)
        # Stop multiplying once past the cap, so a huge attempt count cannot overflow.
        delay = self.base_seconds
        for _ in range(exponent):
            delay *= self.multiplier
            if delay >= self.cap_seconds:
                return self.cap_seconds
        return min(delay, self.cap_seconds)

    def delay(
        self, attempt: int, *, retry_after_seconds: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after `attempt` attempts: jittered backoff, at least the server's hint."""
        ceiling = self.ceiling(attempt)
        draw = (rng or _SHARED_RNG).random()
        backoff = ceiling * (1 - self.jitter * draw)
        hint = min(max(retry_after_seconds or 0.0, 0.0), self.max_server_delay_seconds)
        return max(backoff, hint)

    def can_retry(self, attempt: int) -> bool:
        return self.max_attempts is None or attempt < self.max_attempts

    def decide(
        self,
        failure: Failure | grpc.StatusCode,
        *,
        attempt: int,
        now: float,
        rng: random.Random | None = None,
    ) -> RetryDecision:
        """Whether and when to try again after `attempt` attempts, the last one failing now."""
        if isinstance(failure, grpc.StatusCode):
            failure = Failure(failure)
        if not is_transient(failure.code):
            return RetryDecision(Verdict.PERMANENT)
        if not self.can_retry(attempt):
            return RetryDecision(Verdict.EXHAUSTED)
        wait = self.delay(attempt, retry_after_seconds=failure.retry_after_seconds, rng=rng)
        return RetryDecision(Verdict.RETRY, wait, now + wait)


# The default for background senders between the three servers: from half a second to a
# minute, forever for transient failures. Senders with other needs build their own, named.
DEFAULT_RETRY_POLICY = RetryPolicy("default")
