"""Runs one attempt of a claimed request against its provider and turns the answer
into a result record, or a decision to retry later."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

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
from llm_provider_server.domain.resilience import BackoffPolicy, BreakerState, CircuitBreaker, RateLimiter
from llm_provider_server.metrics import LpsMetrics
from llm_provider_server.providers.base import JudgeCall, ProviderAdapter
from llm_provider_server.store import ClaimedRequest

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
}
# Failures that say the provider is unwell, and so count towards its circuit breaker.
BREAKER_FAILURES = {"PROVIDER_UNAVAILABLE", "PROVIDER_TIMEOUT"}


@dataclass
class ProviderRuntime:
    adapter: ProviderAdapter
    breaker: CircuitBreaker
    limiter: RateLimiter


@dataclass(frozen=True)
class Attempt:
    """One attempt's consequence: a result to record, or a retry at `retry_at`."""

    claimed: ClaimedRequest
    result: ResultRecord | None = None
    retry_at: float | None = None
    failure: ProviderFailure | None = None


def judge_call(claimed: ClaimedRequest, manifest: Manifest) -> JudgeCall:
    model = manifest.get(claimed.provider, claimed.model)
    assert model is not None, f"{claimed.provider}/{claimed.model} left the manifest"
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
        backoff: BackoffPolicy,
        metrics: LpsMetrics,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ):
        self.runtimes = runtimes
        self.manifest = manifest
        self.backoff = backoff
        self.metrics = metrics
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()

    async def _wait_for_rate_limit(self, runtime: ProviderRuntime) -> None:
        while (wait := runtime.limiter.wait_seconds(self.clock())) > 0:
            await self.sleep(wait)

    async def attempt(self, claimed: ClaimedRequest, mode: str) -> Attempt:
        runtime = self.runtimes[claimed.provider]
        call = judge_call(claimed, self.manifest)
        labels = (claimed.provider.value, claimed.model)
        await self._wait_for_rate_limit(runtime)
        started = self.clock()
        try:
            verdict = await runtime.adapter.judge(call)
        except ProviderFailure as failure:
            latency = self.clock() - started
            self.metrics.requests.labels(*labels, "failed").inc()
            if failure.code in BREAKER_FAILURES:
                runtime.breaker.record_failure(self.clock())
                self.metrics.breaker_state.labels(claimed.provider.value).set(runtime.breaker.state)
            if failure.retryable and self.backoff.can_retry(claimed.attempts):
                delay = self.backoff.delay(claimed.attempts, failure.retry_after_seconds, self.rng)
                self.metrics.retries.labels(claimed.provider.value, failure.code).inc()
                return Attempt(claimed, retry_at=self.clock() + delay, failure=failure)
            result = failure_result(call, claimed, failure, mode, self.clock(), latency)
            return Attempt(claimed, result, failure=failure)
        latency = self.clock() - started
        if runtime.breaker.state is not BreakerState.CLOSED:
            runtime.breaker.record_success()
            self.metrics.breaker_state.labels(claimed.provider.value).set(runtime.breaker.state)
        self.metrics.requests.labels(*labels, "succeeded").inc()
        self.metrics.call_seconds.labels(*labels).observe(latency)
        return Attempt(claimed, success_result(call, claimed, verdict, call.model, latency, mode, self.clock()))
