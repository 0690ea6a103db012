"""Runs one attempt of a claimed request against its provider and turns the answer
into a result record, or a decision to retry later.

Whatever the provider call does, an attempt ends in a result or a retry: a
`ProviderFailure` is classified by its code; a verdict of the wrong shape is an
UNPARSEABLE_VERDICT; any other exception from the adapter (a reply it could not read,
a network error it did not map) is an UNPARSEABLE_VERDICT or PROVIDER_UNAVAILABLE
failure, retried within `max_attempts`. The call runs under the provider's timeout.
Retries follow the named policy of `service_core.retry`.

`Executor.call` applies the same rules to the batch poller's vendor calls (submit, poll,
cancel, fetch): the provider's breaker admits it (else `CircuitOpen`, no call), it takes
one request from the requests-per-minute bucket, the provider's timeout bounds it, and its
outcome settles the breaker exactly as a judgement's does (`settle_breaker`)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from llm_provider_server.domain.manifest import Manifest, ModelInfo
from llm_provider_server.domain.model import (
    ComparisonSpec,
    Outcome,
    Provider,
    ProviderFailure,
    ResultError,
    ResultRecord,
    Verdict,
)
from llm_provider_server.domain.prompt import RenderedPrompt, render
from llm_provider_server.domain.resilience import BreakerState, CircuitBreaker, RateLimiter, estimate_tokens
from llm_provider_server.domain.validation import verdict_problem
from llm_provider_server.metrics import LpsMetrics
from llm_provider_server.providers.base import JudgeCall, ProviderAdapter
from llm_provider_server.store import ClaimedRequest
from service_core.retry import RetryPolicy

log = logging.getLogger("llm_provider_server.executor")

T = TypeVar("T")

# Failure reason -> canonical status code name carried in the result's google.rpc.Status.
STATUS_OF_FAILURE = {
    "RATE_LIMITED": "RESOURCE_EXHAUSTED",
    "PROVIDER_UNAVAILABLE": "UNAVAILABLE",
    "PROVIDER_TIMEOUT": "DEADLINE_EXCEEDED",
    "UNPARSEABLE_VERDICT": "UNKNOWN",
    "TRUNCATED": "UNKNOWN",
    "PROVIDER_AUTH": "UNAUTHENTICATED",
    "PROVIDER_REJECTED": "INVALID_ARGUMENT",
    "BATCH_ITEM_FAILED": "UNAVAILABLE",
    "MODEL_UNAVAILABLE": "FAILED_PRECONDITION",
    "CIRCUIT_OPEN": "UNAVAILABLE",
}
# Failures that say the provider is unwell, and so count towards its circuit breaker.
BREAKER_FAILURES = {"PROVIDER_UNAVAILABLE", "PROVIDER_TIMEOUT"}
# Exceptions an adapter raises when it could not read a reply (a shape it did not expect).
READING_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, LookupError)


def unexpected_failure(exc: BaseException) -> ProviderFailure:
    """An exception the adapter did not turn into a ProviderFailure. Only its type is kept: its text
    may quote the vendor's reply."""
    if isinstance(exc, TimeoutError):
        return ProviderFailure("PROVIDER_TIMEOUT", "the provider did not answer in time", retryable=True)
    if isinstance(exc, READING_ERRORS):
        return ProviderFailure(
            "UNPARSEABLE_VERDICT", f"the provider's reply could not be read ({type(exc).__name__})", retryable=True
        )
    return ProviderFailure("PROVIDER_UNAVAILABLE", f"the provider call failed ({type(exc).__name__})", retryable=True)


@dataclass
class ProviderRuntime:
    adapter: ProviderAdapter
    breaker: CircuitBreaker
    limiter: RateLimiter  # requests per minute
    token_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0.0))  # tokens per minute
    # The most work in the vendor's batch queue (unit per vendor: `vendor_limits.BATCH_QUEUES`); 0 = no limit.
    batch_queue_limit: int = 0


class CircuitOpen(Exception):
    """The provider's circuit breaker admitted no call: none was made. `retry_at` is its next admission."""

    def __init__(self, provider: Provider, retry_at: float):
        super().__init__(f"{provider.value} is failing; held back until {retry_at:.3f}")
        self.provider = provider
        self.retry_at = retry_at


@dataclass(frozen=True)
class Attempt:
    """One attempt's consequence: a result to record, or a retry at `retry_at`."""

    claimed: ClaimedRequest
    result: ResultRecord | None = None
    retry_at: float | None = None
    failure: ProviderFailure | None = None
    # For a retry: the result that ends the request should it be cancelled before it runs again.
    fallback: ResultRecord | None = None
    # False when no provider call was made (held back by an open circuit breaker): not an attempt.
    counted: bool = True


def judge_call(claimed: ClaimedRequest, manifest: Manifest) -> JudgeCall:
    model = manifest.get(claimed.provider, claimed.model)
    if model is None:
        raise ProviderFailure(
            "MODEL_UNAVAILABLE", f"{claimed.provider.value}/{claimed.model} is no longer served", retryable=False
        )
    return JudgeCall(spec=claimed.spec, prompt=render(claimed.spec), model=model, attempt=claimed.attempts)


def base_result(
    spec: ComparisonSpec,
    provider: Provider,
    model: str,
    prompt: RenderedPrompt | None,
    created_at: float,
    attempts: int,
    mode: str,
    now: float,
    outcome: Outcome,
) -> ResultRecord:
    return ResultRecord(
        request_id=spec.request_id,
        consumer=spec.consumer,
        outcome=outcome,
        provider=provider,
        model=model,
        processing_mode=mode,
        prompt_sha256=prompt.sha256 if prompt else "",
        template_version=prompt.template_version if prompt else "",
        created_at=created_at,
        completed_at=now,
        attempts=attempts,
        metadata=dict(spec.metadata),
        correlation_id=spec.correlation_id or spec.request_id,
    )


def success_result(
    call: JudgeCall,
    claimed: ClaimedRequest,
    verdict: Verdict,
    model: ModelInfo,
    latency: float,
    mode: str,
    now: float,
    *,
    batch: bool = False,
    batch_job_id: str = "",
) -> ResultRecord:
    result = base_result(
        call.spec,
        claimed.provider,
        verdict.model or model.model_id,
        call.prompt,
        claimed.created_at,
        claimed.attempts,
        mode,
        now,
        Outcome.SUCCEEDED,
    )
    return replace(
        result,
        winner=verdict.winner,
        confidence=verdict.confidence,
        justification=verdict.justification,
        usage=verdict.usage,
        cost_usd=model.cost_usd(verdict.usage, batch=batch),
        latency_seconds=latency,
        batch_job_id=batch_job_id,
    )


def failure_result(
    call: JudgeCall,
    claimed: ClaimedRequest,
    failure: ProviderFailure,
    mode: str,
    now: float,
    latency: float = 0.0,
    batch_job_id: str = "",
) -> ResultRecord:
    result = base_result(
        call.spec,
        claimed.provider,
        claimed.model,
        call.prompt,
        claimed.created_at,
        claimed.attempts,
        mode,
        now,
        Outcome.FAILED,
    )
    error = ResultError(STATUS_OF_FAILURE.get(failure.code, "UNAVAILABLE"), failure.code, failure.message[:500])
    return replace(result, error=error, latency_seconds=latency, batch_job_id=batch_job_id)


class Executor:
    def __init__(
        self,
        runtimes: dict[Provider, ProviderRuntime],
        manifest: Manifest,
        retry: RetryPolicy,
        metrics: LpsMetrics,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        timeouts: dict[Provider, float] | None = None,
    ):
        self.runtimes = runtimes
        self.manifest = manifest
        self.retry = retry
        self.metrics = metrics
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.timeouts = timeouts or {}

    async def _wait_for_rate_limits(self, runtime: ProviderRuntime, tokens: int) -> None:
        """Take one request, and `tokens` (when any), from the provider's buckets, waiting for them."""
        while (wait := runtime.limiter.wait_seconds(self.clock())) > 0:
            await self.sleep(wait)
        while tokens > 0 and (wait := runtime.token_limiter.wait_seconds(self.clock(), tokens)) > 0:
            await self.sleep(wait)

    async def attempt(self, claimed: ClaimedRequest, mode: str) -> Attempt:
        """One provider call for a claimed request, under the provider's circuit breaker, rate limits
        and timeout, the same in every processing mode. Never raises (but for cancellation)."""
        try:
            call = judge_call(claimed, self.manifest)
        except Exception as exc:  # a request that cannot be run at all
            failure = exc if isinstance(exc, ProviderFailure) else unexpected_failure(exc)
            return Attempt(claimed, unrunnable_result(claimed, failure, mode, self.clock()), failure=failure)
        runtime = self.runtimes[claimed.provider]
        if not runtime.breaker.admit(self.clock()):
            return self.hold(claimed, mode, call)
        tokens = estimate_tokens(len(call.prompt.system) + len(call.prompt.user), claimed.spec.overrides.max_tokens)
        started = self.clock()
        try:
            await self._wait_for_rate_limits(runtime, tokens)
            started = self.clock()
            verdict = await self._bounded(claimed.provider, runtime.adapter.judge(call))
            problem = verdict_problem(verdict)
            if problem is not None:
                raise ProviderFailure("UNPARSEABLE_VERDICT", problem, retryable=True)
            latency = self.clock() - started
            result = success_result(call, claimed, verdict, call.model, latency, mode, self.clock())
        except ProviderFailure as failure:
            return self._failed(call, claimed, failure, mode, self.clock() - started)
        except Exception as exc:  # every failure must end in a result or a retry
            log.warning("provider call raised %s", type(exc).__name__, extra={"request_id": claimed.spec.request_id})
            return self._failed(call, claimed, unexpected_failure(exc), mode, self.clock() - started)
        except BaseException:  # cancelled mid-call: a trial call that never answered proves nothing
            runtime.breaker.abandon_trial()
            raise
        runtime.token_limiter.settle(tokens, verdict.usage.total_tokens)
        self.settle_breaker(claimed.provider, None)
        labels = (claimed.provider.value, claimed.model)
        self.metrics.requests.labels(*labels, "succeeded").inc()
        self.metrics.call_seconds.labels(*labels).observe(latency)
        return Attempt(claimed, result)

    def hold(self, claimed: ClaimedRequest, mode: str, call: JudgeCall | None = None) -> Attempt:
        """The provider's breaker is open: no call; the request waits in the queue until the breaker
        admits calls again, and this claim does not count as an attempt."""
        runtime = self.runtimes[claimed.provider]
        call = call or judge_call(claimed, self.manifest)
        now = self.clock()
        failure = ProviderFailure("CIRCUIT_OPEN", f"{claimed.provider.value} is failing; held back", retryable=True)
        fallback = failure_result(call, claimed, failure, mode, now)
        return Attempt(
            claimed, retry_at=runtime.breaker.next_admission(now), failure=failure, fallback=fallback, counted=False
        )

    async def call(self, provider: Provider, operation: Callable[[], Awaitable[T]]) -> T:
        """One vendor API call other than a judgement (the batch poller's submit, poll, cancel and
        fetch), under the rules `attempt` applies: admitted by the provider's breaker (else
        `CircuitOpen`, and `operation` is not called), one request from the requests-per-minute
        bucket (tokens are metered by the vendor's batch queue instead, see the batch poller), bounded
        by the provider's timeout (then a retryable PROVIDER_TIMEOUT). A failure is raised as a
        `ProviderFailure` (an exception the adapter did not map as `unexpected_failure` says) and, as
        every outcome, settles the breaker."""
        runtime = self.runtimes[provider]
        now = self.clock()
        if not runtime.breaker.admit(now):
            raise CircuitOpen(provider, runtime.breaker.next_admission(now))
        try:
            await self._wait_for_rate_limits(runtime, 0)
            answer = await self._bounded(provider, operation())
        except ProviderFailure as refused:
            self.settle_breaker(provider, refused)
            raise
        except Exception as exc:
            log.warning("%s vendor call raised %s", provider.value, type(exc).__name__)
            failure = unexpected_failure(exc)
            self.settle_breaker(provider, failure)
            raise failure from None  # only the type is kept: the text may quote the vendor
        except BaseException:
            runtime.breaker.abandon_trial()
            raise
        self.settle_breaker(provider, None)
        return answer

    def settle_breaker(self, provider: Provider, failure: ProviderFailure | None) -> None:
        """After a call that reached the provider, in any mode: a failure that says it is unwell
        (BREAKER_FAILURES) counts towards its breaker; any other answer, a success or a failure the
        provider chose to send, says it is up and ends the count (closing a half-open breaker)."""
        breaker = self.runtimes[provider].breaker
        if failure is not None and failure.code in BREAKER_FAILURES:
            breaker.record_failure(self.clock())
        elif breaker.state is not BreakerState.CLOSED or breaker.failures:
            breaker.record_success()
        else:
            return
        self.metrics.breaker_state.labels(provider.value).set(breaker.state)

    async def _bounded(self, provider: Provider, call: Awaitable[T]) -> T:
        """`call` within the provider's timeout (none configured: unbounded)."""
        timeout = self.timeouts.get(provider)
        if not timeout:
            return await call
        try:
            async with asyncio.timeout(timeout):
                return await call
        except TimeoutError as exc:
            raise ProviderFailure("PROVIDER_TIMEOUT", f"no answer within {timeout:g} s", retryable=True) from exc

    def _failed(
        self,
        call: JudgeCall,
        claimed: ClaimedRequest,
        failure: ProviderFailure,
        mode: str,
        latency: float,
    ) -> Attempt:
        self.metrics.requests.labels(claimed.provider.value, claimed.model, "failed").inc()
        self.settle_breaker(claimed.provider, failure)
        result = failure_result(call, claimed, failure, mode, self.clock(), latency)
        if failure.retryable and self.retry.can_retry(claimed.attempts):
            delay = self.retry.delay(claimed.attempts, retry_after_seconds=failure.retry_after_seconds, rng=self.rng)
            self.metrics.retries.labels(claimed.provider.value, failure.code).inc()
            return Attempt(claimed, retry_at=self.clock() + delay, failure=failure, fallback=result)
        return Attempt(claimed, result, failure=failure)


def unrunnable_result(claimed: ClaimedRequest, failure: ProviderFailure, mode: str, now: float) -> ResultRecord:
    """The result of a request that cannot be run at all (its model is no longer served)."""
    result = base_result(
        claimed.spec,
        claimed.provider,
        claimed.model,
        None,
        claimed.created_at,
        claimed.attempts,
        mode,
        now,
        Outcome.FAILED,
    )
    error = ResultError(STATUS_OF_FAILURE.get(failure.code, "UNAVAILABLE"), failure.code, failure.message[:500])
    return replace(result, error=error)
