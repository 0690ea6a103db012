"""domain/resilience.py: circuit breaker and token buckets."""

from __future__ import annotations

import pytest

from llm_provider_server.domain.resilience import BreakerState, CircuitBreaker, RateLimiter, estimate_tokens


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
