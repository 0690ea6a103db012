"""The shared retry policy: backoff, jitter, cap, RetryInfo, and which codes are permanent."""

from __future__ import annotations

import random

import grpc
import pytest
from grpc_status import rpc_status

from service_core import errors
from service_core.retry import (
    DEFAULT_RETRY_POLICY,
    PERMANENT_CODES,
    Failure,
    RetryPolicy,
    Verdict,
    is_permanent,
    is_transient,
    retry_delay,
    status_code,
)

NAMED_PERMANENT = [
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
]
TRANSIENT = [
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
]


@pytest.mark.parametrize("code", NAMED_PERMANENT)
def test_permanent_codes_are_never_retried(code):
    assert is_permanent(code) and not is_transient(code)
    decision = DEFAULT_RETRY_POLICY.decide(code, attempt=1, now=100.0)
    assert decision.verdict is Verdict.PERMANENT and not decision.retry and decision.retry_at is None


@pytest.mark.parametrize("code", TRANSIENT)
def test_transient_codes_are_retried_later(code):
    assert is_transient(code) and code not in PERMANENT_CODES
    decision = DEFAULT_RETRY_POLICY.decide(Failure(code), attempt=1, now=100.0, rng=random.Random(1))
    assert decision.retry and decision.delay_seconds > 0
    assert decision.retry_at == pytest.approx(100.0 + decision.delay_seconds)


def test_codes_given_as_wire_numbers_or_names_classify_the_same():
    assert status_code(5) is grpc.StatusCode.NOT_FOUND and is_permanent(5)
    assert status_code("unavailable") is grpc.StatusCode.UNAVAILABLE and is_transient("UNAVAILABLE")
    assert status_code(999) is grpc.StatusCode.UNKNOWN
    assert not is_transient(grpc.StatusCode.OK)


def test_backoff_grows_exponentially_up_to_the_cap():
    policy = RetryPolicy("t", base_seconds=1.0, multiplier=2.0, cap_seconds=30.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert policy.delay(10**9) == 30.0  # no overflow for a row retried for years


def test_jitter_stays_between_the_floor_and_the_ceiling_and_spreads_callers():
    policy = RetryPolicy("t", base_seconds=1.0, cap_seconds=60.0, jitter=0.5)
    rng = random.Random(7)
    delays = [policy.delay(4, rng=rng) for _ in range(200)]
    assert all(4.0 <= d <= 8.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100


def test_the_same_seed_gives_the_same_delays():
    policy = RetryPolicy("t")
    first = [policy.delay(n, rng=random.Random(3)) for n in range(1, 6)]
    assert first == [policy.delay(n, rng=random.Random(3)) for n in range(1, 6)]


def test_a_server_retry_hint_is_a_floor_bounded_by_the_policy():
    policy = RetryPolicy("t", base_seconds=0.5, cap_seconds=10.0, jitter=0.0, max_server_delay_seconds=120.0)
    assert policy.delay(1, retry_after_seconds=7.5) == 7.5  # longer than backoff: the hint wins
    assert policy.delay(5, retry_after_seconds=0.1) == 8.0  # shorter: backoff wins
    assert policy.delay(1, retry_after_seconds=10_000.0) == 120.0  # absurd hint: bounded
    assert policy.delay(1, retry_after_seconds=-3.0) == 0.5


def test_attempt_budget_exhausts_transient_failures():
    policy = RetryPolicy("queue", max_attempts=3)
    assert policy.decide(grpc.StatusCode.UNAVAILABLE, attempt=2, now=0.0).retry
    assert policy.decide(grpc.StatusCode.UNAVAILABLE, attempt=3, now=0.0).verdict is Verdict.EXHAUSTED
    assert DEFAULT_RETRY_POLICY.decide(grpc.StatusCode.UNAVAILABLE, attempt=10_000, now=0.0).retry


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_seconds": 0},
        {"base_seconds": 5, "cap_seconds": 1},
        {"jitter": 1.5},
        {"multiplier": 0.5},
        {"max_attempts": 0},
    ],
)
def test_a_nonsensical_policy_is_refused_when_built(kwargs):
    with pytest.raises(ValueError, match="retry policy bad"):
        RetryPolicy("bad", **kwargs)


class _FakeRpcError(grpc.RpcError):
    def __init__(self, code, details, trailing):
        self._code, self._details, self._trailing = code, details, trailing

    def code(self):
        return self._code

    def details(self):
        return self._details

    def trailing_metadata(self):
        return self._trailing


def _error_from(error: errors.DomainError) -> _FakeRpcError:
    status = rpc_status.to_status(errors.domain_error_to_status(error, "test.example"))
    return _FakeRpcError(status.code, status.details, status.trailing_metadata)


def test_failure_reads_retry_info_and_reason_from_the_status_the_servers_send():
    failure = Failure.from_rpc_error(
        _error_from(errors.ResourceExhausted("queue full", retry_after_seconds=2.25, reason="QUEUE_FULL"))
    )
    assert failure.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert failure.retry_after_seconds == pytest.approx(2.25)
    assert failure.reason == "QUEUE_FULL" and failure.message == "queue full"
    policy = RetryPolicy("t", base_seconds=0.1, jitter=0.0)
    assert policy.decide(failure, attempt=1, now=10.0).retry_at == pytest.approx(12.25)


def test_failure_without_details_or_with_garbage_details_has_no_hint():
    plain = Failure.from_rpc_error(_FakeRpcError(grpc.StatusCode.UNAVAILABLE, "down", ()))
    garbage = Failure.from_rpc_error(
        _FakeRpcError(grpc.StatusCode.UNAVAILABLE, "down", (("grpc-status-details-bin", b"\xff\x00junk"),))
    )
    assert plain.retry_after_seconds is None and garbage.retry_after_seconds is None
    assert Failure.from_rpc_error(_error_from(errors.NotFound("gone"))).reason == "NOT_FOUND"


def test_retry_delay_is_none_without_retry_info():
    status = errors.domain_error_to_status(errors.NotFound("gone"), "d")
    assert retry_delay(status) is None
