"""domain/resilience.py: circuit breaker and token buckets; and `Executor.call`, which applies them
to the batch poller's vendor calls."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from llm_provider_server.domain.manifest import Manifest
from llm_provider_server.domain.model import Provider, ProviderFailure
from llm_provider_server.domain.resilience import BreakerState, CircuitBreaker, RateLimiter, estimate_tokens
from llm_provider_server.executor import CircuitOpen, Executor, ProviderRuntime
from llm_provider_server.metrics import LpsMetrics
from service_core.retry import RetryPolicy


class TestResilience:
    def test_breaker_opens_and_recovers(self):
        breaker = CircuitBreaker(failure_threshold=3, recovery_seconds=10)
        for t in range(3):
            assert breaker.admit(t)
            breaker.record_failure(t)
        assert breaker.state is BreakerState.OPEN and not breaker.admit(5)
        assert breaker.next_admission(5) == 12
        assert breaker.admit(13) and breaker.state is BreakerState.HALF_OPEN
        assert not breaker.admit(13), "one trial call at a time"
        breaker.record_failure(14)
        assert breaker.state is BreakerState.OPEN and not breaker.admit(20)
        assert breaker.admit(25)
        breaker.record_success()
        assert breaker.state is BreakerState.CLOSED and breaker.admit(25)

    def test_accepting_looks_without_taking_the_trial(self):
        breaker = CircuitBreaker(failure_threshold=1, recovery_seconds=10)
        breaker.record_failure(0)
        assert not breaker.accepting(5)
        assert breaker.accepting(10) and breaker.accepting(10), "looking twice takes nothing"
        assert breaker.admit(10) and not breaker.accepting(10) and not breaker.admit(10)
        assert breaker.next_admission(10) == 11, "while the trial runs"

    def test_rate_limiter_holds_requests_per_minute(self):
        limiter = RateLimiter(per_minute=600, updated_at=0.0)  # 10 a second, a burst of 10
        assert sum(limiter.wait_seconds(0.0) == 0 for _ in range(100)) == 10
        assert limiter.wait_seconds(0.0) == pytest.approx(0.1)
        started = sum(limiter.wait_seconds(t / 100) == 0 for t in range(1, 301))  # three more seconds
        assert 29 <= started <= 30  # 10 a second; the last refill lands on the boundary
        slow = RateLimiter(per_minute=30, updated_at=0.0)
        assert slow.wait_seconds(0.0) == 0 and slow.wait_seconds(0.0) == pytest.approx(2.0)

    def test_token_bucket_delays_large_calls_and_settles_to_actual_use(self):
        tokens = RateLimiter(per_minute=60_000, updated_at=0.0)  # 1,000 a second, 1,000 held
        assert tokens.wait_seconds(0.0, 600) == 0
        assert tokens.wait_seconds(0.0, 600) == pytest.approx(0.2), "400 left: wait for 200 more"
        assert tokens.wait_seconds(0.2, 600) == 0
        tokens.settle(estimated=600, actual=100)  # the call used less than estimated
        assert tokens.tokens == pytest.approx(500)
        big = RateLimiter(per_minute=60_000, updated_at=0.0)
        assert big.wait_seconds(0.0, 5_000) == 0, "larger than the bucket: taken from a full one"
        assert big.wait_seconds(0.0, 1) == pytest.approx(4.001), "and the debt is paid before the next"

    def test_no_limit_never_waits(self):
        assert RateLimiter(per_minute=0).wait_seconds(0.0, 10**9) == 0

    def test_token_estimate_counts_prompt_and_completion(self):
        assert estimate_tokens(4_000, 300) == 1_300
        assert estimate_tokens(4_000, None) == 1_000 + 256


def _executor(breaker: CircuitBreaker, per_minute: float = 0.0, now: list[float] | None = None) -> Executor:
    clock = now if now is not None else [0.0]
    runtime = ProviderRuntime(adapter=None, breaker=breaker, limiter=RateLimiter(per_minute))
    return Executor(
        {Provider.OPENAI: runtime},
        Manifest.load(),
        RetryPolicy("test"),
        LpsMetrics(CollectorRegistry()),
        clock=lambda: clock[0],
        timeouts={Provider.OPENAI: 0.05},
    )


class TestVendorCalls:
    """`Executor.call`, the batch poller's way to the vendor: the breaker, its classification of
    failures, the request bucket and the timeout, as for judgements."""

    async def test_unwell_answers_count_towards_the_breaker_and_any_other_answer_ends_the_count(self):
        breaker = CircuitBreaker(failure_threshold=3, recovery_seconds=10)
        executor = _executor(breaker)
        calls: list[str] = []

        def answering(failure: ProviderFailure | None):
            async def operation() -> str:
                calls.append(failure.code if failure else "ok")
                if failure is not None:
                    raise failure
                return "ok"

            return operation

        down = ProviderFailure("PROVIDER_UNAVAILABLE", "HTTP 503", retryable=True)
        throttled = ProviderFailure("RATE_LIMITED", "HTTP 429", retryable=True, retry_after_seconds=1.0)
        for failure in (down, down, throttled, down, down):  # two, a 429 (the vendor is up), two
            with pytest.raises(ProviderFailure):
                await executor.call(Provider.OPENAI, answering(failure))
        assert breaker.state is BreakerState.CLOSED, "only consecutive 5xx and timeouts count"
        with pytest.raises(ProviderFailure):
            await executor.call(Provider.OPENAI, answering(down))
        assert breaker.state is BreakerState.OPEN
        with pytest.raises(CircuitOpen) as held:
            await executor.call(Provider.OPENAI, answering(None))
        assert held.value.retry_at == 10.0 and len(calls) == 6, "no call while open"

    async def test_an_exception_the_adapter_did_not_map_and_a_hung_call_are_provider_failures(self):
        breaker = CircuitBreaker(failure_threshold=2, recovery_seconds=10)
        executor = _executor(breaker)

        async def unreadable() -> None:
            raise KeyError("the vendor's text, never kept")

        async def hung() -> None:
            await asyncio.sleep(10)

        with pytest.raises(ProviderFailure) as caught:
            await executor.call(Provider.OPENAI, unreadable)
        assert caught.value.code == "UNPARSEABLE_VERDICT" and "vendor's text" not in str(caught.value)
        with pytest.raises(ProviderFailure) as caught:
            await executor.call(Provider.OPENAI, hung)
        assert caught.value.code == "PROVIDER_TIMEOUT" and caught.value.retryable
        assert breaker.failures == 1, "the timeout counts; the unreadable reply did not"

    async def test_each_call_takes_one_request_from_the_bucket(self):
        now = [0.0]
        executor = _executor(CircuitBreaker(), per_minute=60, now=now)  # one a second, a burst of one
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            now[0] += seconds

        executor.sleep = sleep

        async def operation() -> None:
            return None

        for _ in range(3):
            await executor.call(Provider.OPENAI, operation)
        assert waits == [pytest.approx(1.0), pytest.approx(1.0)]
