"""Drives provider batch jobs through their lifecycle.

For each due job (claimed with a lease, so one poller at a time and a restarted
server picks up where it left off): submit it if it was never submitted, send a
cancel that was asked for, poll the provider, and once the job has ended and its
output is readable, map every item (succeeded, errored, expired, cancelled) to
its request's result, in the same transaction as the job's end state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from llm_provider_server.domain.batch_job import (
    BatchPoll,
    ItemResult,
    JobRecord,
    JobState,
    RequestCounts,
    effective_state,
)
from llm_provider_server.domain.model import Outcome, Provider, ProviderFailure, ResultRecord
from llm_provider_server.executor import Executor, failure_result, judge_call, success_result
from llm_provider_server.metrics import LpsMetrics
from llm_provider_server.providers.base import JudgeCall
from llm_provider_server.queue_worker import observe_results
from llm_provider_server.settings import LpsSettings
from llm_provider_server.store import BatchJobStore, ClaimedRequest, terminal_result

log = logging.getLogger("llm_provider_server.batch")

MODE = "batch_api"


class BatchPoller:
    def __init__(
        self,
        jobs: BatchJobStore,
        executor: Executor,
        settings: LpsSettings,
        metrics: LpsMetrics,
        clock: Callable[[], float] = time.time,
        poller_id: str | None = None,
    ):
        self.jobs = jobs
        self.executor = executor
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.poller_id = poller_id or f"poller-{uuid.uuid4().hex[:12]}"
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._running = True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="lps-batch-poller")

    async def stop(self) -> None:
        self._running = False
        self._wake.set()
        if self._task:
            done, _ = await asyncio.wait([self._task], timeout=10)
            if not done:
                self._task.cancel()

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while self._running:
            due: list[JobRecord] = []
            try:
                due = await self.jobs.claim_due(self.poller_id, self.clock(), lease=60.0, limit=20)
                for job in due:
                    await self._advance_safely(job)
            except Exception:
                log.exception("batch poll round failed")
            if not due and self._running:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(self.settings.batch_poll_interval_seconds, 1.0))
                self._wake.clear()

    async def _advance_safely(self, job: JobRecord) -> None:
        try:
            await self.advance(job)
        except Exception as exc:
            log.exception("batch job %s: poll failed; will try again", job.job_id)
            await self.jobs.update(
                job.job_id,
                self.poller_id,
                self.clock(),
                self.clock() + self.settings.batch_poll_interval_seconds,
                error={"reason": "POLL_FAILED", "message": str(exc)[:300]},
            )

    def _next_poll(self) -> float:
        return self.clock() + self.settings.batch_poll_interval_seconds

    async def advance(self, job: JobRecord) -> None:
        adapter = self.executor.runtimes[Provider(job.provider)].adapter.batch
        assert adapter is not None, f"{job.provider} has no batch API"
        claims = await self.jobs.claims(job.job_id)
        calls = [judge_call(c, self.executor.manifest) for c in claims]
        now = self.clock()
        if job.provider_job_id is None:
            if job.cancel_at is not None:
                await self._finish(job, claims, calls, {}, JobState.CANCELLED)
                return
            try:
                provider_job_id = await adapter.submit(job, calls)
            except ProviderFailure as failure:
                if failure.retryable:
                    await self.jobs.update(job.job_id, self.poller_id, now, now + (failure.retry_after_seconds or 5))
                    return
                await self._finish(job, claims, calls, {}, JobState.FAILED, failure)
                return
            await self.jobs.update(
                job.job_id,
                self.poller_id,
                now,
                self._next_poll(),
                provider_job_id=provider_job_id,
                submitted_at=now,
                state=JobState.VALIDATING,
                expire_at=now + self.settings.mock_batch_window_seconds
                if job.provider == Provider.MOCK.value
                else now + 24 * 3600,
            )
            return
        if job.cancel_at is not None and job.state is JobState.CANCELLING:
            await adapter.cancel(job)
        poll = await adapter.poll(job)
        state = effective_state(poll)
        if job.cancel_at is not None and not state.is_terminal:
            state = JobState.CANCELLING
        if not state.is_terminal:
            await self.jobs.update(
                job.job_id,
                self.poller_id,
                now,
                self._next_poll(),
                state=state,
                counts=poll.counts,
                **self._timestamps(job, state, now),
            )
            return
        items = await adapter.fetch(job, calls) if state is not JobState.FAILED else {}
        await self._finish(job, claims, calls, items, state, failure_of(poll))

    def _timestamps(self, job: JobRecord, state: JobState, now: float) -> dict[str, float]:
        stamps = {}
        if state in (JobState.IN_PROGRESS, JobState.FINALIZING) and job.in_progress_at is None:
            stamps["in_progress_at"] = now
        if state is JobState.FINALIZING and job.finalizing_at is None:
            stamps["finalizing_at"] = now
        return stamps

    async def _finish(
        self,
        job: JobRecord,
        claims: list[ClaimedRequest],
        calls: list[JudgeCall],
        items: dict[str, ItemResult],
        state: JobState,
        failure: ProviderFailure | None = None,
    ) -> None:
        now = self.clock()
        results = [
            self._result(claim, call, items.get(claim.spec.request_id), state, failure, job, now)
            for claim, call in zip(claims, calls, strict=True)
        ]
        counts = RequestCounts(
            total=len(results),
            processing=0,
            succeeded=sum(r.outcome is Outcome.SUCCEEDED for r in results),
            errored=sum(r.outcome is Outcome.FAILED for r in results),
            cancelled=sum(r.outcome is Outcome.CANCELLED for r in results),
            expired=sum(r.outcome is Outcome.EXPIRED for r in results),
        )
        error = {"reason": failure.code, "message": failure.message} if failure else None
        recorded = await self.jobs.finish(
            job.job_id,
            self.poller_id,
            results,
            now,
            state=state,
            counts=counts,
            ended_at=now,
            cost_usd=sum(r.cost_usd for r in results),
            error=error,
            **self._timestamps(job, state, now),
        )
        observe_results(self.metrics, recorded, MODE)
        self.metrics.batch_jobs.labels(job.provider, job.model, state.value).inc()
        self.metrics.batch_duration.labels(job.provider, job.model).observe(now - job.created_at)
        log.info("batch job ended", extra={"job_id": job.job_id, "state": state.value, **counts.__dict__})

    def _result(
        self,
        claim: ClaimedRequest,
        call: JudgeCall,
        item: ItemResult | None,
        state: JobState,
        failure: ProviderFailure | None,
        job: JobRecord,
        now: float,
    ) -> ResultRecord:
        if item is not None and item.outcome is Outcome.SUCCEEDED and item.verdict is not None:
            return success_result(
                call,
                claim,
                item.verdict,
                call.model,
                now - (job.submitted_at or now),
                MODE,
                now,
                batch=True,
                batch_job_id=job.job_id,
            )
        if item is not None and item.outcome is Outcome.FAILED:
            item_failure = item.failure or ProviderFailure("BATCH_ITEM_FAILED", "the provider failed this item", False)
            return failure_result(call, claim, item_failure, MODE, now, batch_job_id=job.job_id)
        if state is JobState.FAILED:
            job_failure = failure or ProviderFailure("BATCH_JOB_FAILED", "the provider failed the batch job", False)
            return failure_result(call, claim, job_failure, MODE, now, batch_job_id=job.job_id)
        outcome = (
            Outcome.CANCELLED
            if (item and item.outcome is Outcome.CANCELLED) or state is JobState.CANCELLED
            else Outcome.EXPIRED
        )
        result = terminal_result(
            claim.spec, claim.provider, claim.model, claim.created_at, claim.attempts, outcome, now, MODE
        )
        return replace(
            result,
            batch_job_id=job.job_id,
            prompt_sha256=call.prompt.sha256,
            template_version=call.prompt.template_version,
        )


def failure_of(poll: BatchPoll) -> ProviderFailure | None:
    if poll.state is JobState.FAILED:
        return ProviderFailure("BATCH_JOB_FAILED", poll.error_message or "the provider rejected the batch job", False)
    return None
