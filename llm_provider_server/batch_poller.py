"""Drives provider batch jobs through their lifecycle.

For each due job (claimed with a lease, so one poller at a time and a restarted
server picks up where it left off): split it once into vendor jobs ("parts") that
fit the vendor's limits, submit the parts never submitted, send a cancel that was
asked for to each part exactly once, poll the parts, and once every part has ended
and its output is readable, map every item (succeeded, errored, expired,
cancelled) to its request's result, in the same transaction as the job's end
state. The job's state and counts are its parts' aggregated.

A job whose requests were all cancelled one by one (CancelComparison, as CJ's
CancelAssessment does) is cancelled as if CancelBatchJob had been called.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from llm_provider_server.domain import vendor_limits
from llm_provider_server.domain.batch_job import (
    ItemResult,
    JobRecord,
    JobState,
    RequestCounts,
    VendorPart,
    aggregate_state,
    effective_state,
    sum_counts,
)
from llm_provider_server.domain.model import Outcome, Provider, ProviderFailure, ResultRecord
from llm_provider_server.executor import Executor, failure_result, judge_call, success_result
from llm_provider_server.metrics import LpsMetrics
from llm_provider_server.providers.base import BatchAdapter, JudgeCall
from llm_provider_server.providers.errors import scrub
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
                error={"reason": "POLL_FAILED", "message": scrub(str(exc))[:300]},
            )

    def _next_poll(self) -> float:
        return self.clock() + self.settings.batch_poll_interval_seconds

    async def advance(self, job: JobRecord) -> None:
        """One step of a job. The job's requests are read (and their prompts rendered) only
        to submit parts or to record outcomes, so a poll costs the same for any job size."""
        adapter = self.executor.runtimes[Provider(job.provider)].adapter.batch
        calls_of: list[tuple[list[ClaimedRequest], list[JudgeCall]]] = []

        async def requests() -> tuple[list[ClaimedRequest], list[JudgeCall]]:
            if not calls_of:
                claims = await self.jobs.claims(job.job_id)
                calls_of.append((claims, [judge_call(c, self.executor.manifest) for c in claims]))
            return calls_of[0]

        if adapter is None:
            failure = ProviderFailure("BATCH_API_UNSUPPORTED", f"{job.provider} has no batch API", False)
            await self._finish(job, *(await requests()), {}, [], failure)
            return
        if job.cancel_at is None and await self.jobs.cancel_requested_count(job.job_id) == job.item_count:
            # Every request was cancelled one by one (a CJ CancelAssessment): cancel the job.
            job = await self.jobs.request_cancel(job.job_id, self.clock()) or job
        parts = await self.jobs.parts(job.job_id)
        if not parts:
            parts = await self._split(job, adapter, (await requests())[1])
        retry_at: float | None = None
        for part in parts:
            if part.state.is_terminal:
                continue
            if not part.submitted:
                submit_calls = [] if job.cancel_at is not None else (await requests())[1]
                retry_at = _earliest(retry_at, await self._submit(job, part, adapter, submit_calls))
                continue
            await self._poll(job, await self._cancel_once(job, part, adapter), adapter)
        parts = await self.jobs.parts(job.job_id)
        state = aggregate_state([p.state for p in parts], job.cancel_at is not None)
        if not state.is_terminal:
            await self._progress(job, parts, state, retry_at)
            return
        claims, calls = await requests()
        items: dict[str, ItemResult] = {}
        for part in parts:
            if part.submitted:
                items |= await adapter.fetch(part.vendor_record(job), calls[part.first_index : part.end_index])
        await self._finish(job, claims, calls, items, parts)

    async def _split(self, job: JobRecord, adapter: BatchAdapter, calls: list[JudgeCall]) -> list[VendorPart]:
        limits = vendor_limits.limits_for(
            Provider(job.provider), self.settings.vendor_job_max_items, self.settings.vendor_job_max_bytes
        )
        ranges = vendor_limits.split([adapter.request_bytes(call) for call in calls], limits)
        parts = await self.jobs.add_parts(job.job_id, self.poller_id, ranges)
        if len(parts) > 1:
            self.metrics.batch_splits.labels(job.provider).inc()
            log.info("batch job split", extra={"job_id": job.job_id, "parts": len(parts)})
        return parts

    async def _submit(
        self, job: JobRecord, part: VendorPart, adapter: BatchAdapter, calls: list[JudgeCall]
    ) -> float | None:
        """Submit one part; returns when to try again after a retryable refusal."""
        now = self.clock()
        if job.cancel_at is not None:  # never reached the vendor: nothing to cancel there
            counts = RequestCounts(total=part.item_count, cancelled=part.item_count)
            await self.jobs.update_part(job.job_id, part.part, state=JobState.CANCELLED, counts=counts, ended_at=now)
            return None
        try:
            provider_job_id = await adapter.submit(part.vendor_record(job), calls[part.first_index : part.end_index])
        except ProviderFailure as failure:
            if failure.retryable:
                return now + (failure.retry_after_seconds or 5)
            counts = RequestCounts(total=part.item_count, errored=part.item_count)
            await self.jobs.update_part(
                job.job_id,
                part.part,
                state=JobState.FAILED,
                counts=counts,
                ended_at=now,
                error={"reason": failure.code, "message": failure.message},
            )
            return None
        self.metrics.vendor_jobs.labels(job.provider).inc()
        await self.jobs.update_part(
            job.job_id, part.part, provider_job_id=provider_job_id, submitted_at=now, state=JobState.VALIDATING
        )
        return None

    async def _cancel_once(self, job: JobRecord, part: VendorPart, adapter: BatchAdapter) -> VendorPart:
        """A cancel reaches each vendor job once: `cancel_sent_at` is written after the vendor
        took it, and a vendor that refuses it for good (the job ended meanwhile) is not asked again."""
        if job.cancel_at is None or part.cancel_sent_at is not None:
            return part
        now = self.clock()
        try:
            await adapter.cancel(part.vendor_record(job))
        except ProviderFailure as failure:
            if failure.retryable:
                return part
            log.warning("batch job %s part %s: the vendor refused the cancel (%s)", job.job_id, part.part, failure.code)
        self.metrics.vendor_cancels.labels(job.provider).inc()
        await self.jobs.update_part(job.job_id, part.part, cancel_sent_at=now)
        return replace(part, cancel_sent_at=now)

    async def _poll(self, job: JobRecord, part: VendorPart, adapter: BatchAdapter) -> None:
        poll = await adapter.poll(part.vendor_record(job))
        state = effective_state(poll)
        fields: dict = {"state": state, "counts": poll.counts}
        if state.is_terminal:
            fields["ended_at"] = self.clock()
        if state is JobState.FAILED:
            fields["error"] = {
                "reason": "BATCH_JOB_FAILED",
                "message": scrub(poll.error_message) or "the provider rejected the batch job",
            }
        await self.jobs.update_part(job.job_id, part.part, **fields)

    async def _progress(self, job: JobRecord, parts: list[VendorPart], state: JobState, retry_at: float | None) -> None:
        now = self.clock()
        submitted = [p.submitted_at for p in parts if p.submitted_at is not None]
        fields: dict = {
            "state": state,
            "counts": sum_counts([p.counts for p in parts]),
            "provider_job_id": parts[0].provider_job_id,
            **self._timestamps(job, state, now),
        }
        if submitted and job.submitted_at is None:
            fields["submitted_at"] = min(submitted)
            fields["expire_at"] = min(submitted) + (
                self.settings.mock_batch_window_seconds if job.provider == Provider.MOCK.value else 24 * 3600
            )
        next_poll = self._next_poll() if retry_at is None else min(self._next_poll(), retry_at)
        if retry_at is not None and all(not p.submitted for p in parts if not p.state.is_terminal):
            next_poll = retry_at
        await self.jobs.update(job.job_id, self.poller_id, now, next_poll, **fields)

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
        parts: list[VendorPart],
        failure: ProviderFailure | None = None,
    ) -> None:
        now = self.clock()
        results = []
        for index, (claim, call) in enumerate(zip(claims, calls, strict=True)):
            part = next((p for p in parts if p.first_index <= index < p.end_index), None)
            part_state = part.state if part is not None else (JobState.FAILED if failure else JobState.CANCELLED)
            part_failure = failure or (
                ProviderFailure(part.error_reason, part.error_message, False) if part and part.error_reason else None
            )
            results.append(
                self._result(claim, call, items.get(claim.spec.request_id), part_state, part_failure, job, now)
            )
        counts = RequestCounts(
            total=len(results),
            processing=0,
            succeeded=sum(r.outcome is Outcome.SUCCEEDED for r in results),
            errored=sum(r.outcome is Outcome.FAILED for r in results),
            cancelled=sum(r.outcome is Outcome.CANCELLED for r in results),
            expired=sum(r.outcome is Outcome.EXPIRED for r in results),
        )
        state = (
            aggregate_state([p.state for p in parts], job.cancel_at is not None)
            if parts
            else (JobState.FAILED if failure else JobState.CANCELLED)
        )
        error = job_error(state, parts, failure)
        submitted = [p.submitted_at for p in parts if p.submitted_at is not None]
        extra = {"submitted_at": min(submitted)} if submitted and job.submitted_at is None else {}
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
            provider_job_id=parts[0].provider_job_id if parts else None,
            **extra,
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
        if item is None and state is JobState.FAILED:
            job_failure = failure or ProviderFailure("BATCH_JOB_FAILED", "the provider failed the batch job", False)
            return failure_result(call, claim, job_failure, MODE, now, batch_job_id=job.job_id)
        outcome = (
            Outcome.CANCELLED
            if (item and item.outcome is Outcome.CANCELLED) or (item is None and state is JobState.CANCELLED)
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


def job_error(state: JobState, parts: list[VendorPart], failure: ProviderFailure | None) -> dict[str, str] | None:
    """Why a job failed or expired: the failure, else its first failed part's, else expiry."""
    if failure is not None:
        return {"reason": failure.code, "message": failure.message}
    if errors := [p for p in parts if p.error_reason]:
        return {"reason": errors[0].error_reason, "message": errors[0].error_message}
    if state is JobState.EXPIRED:
        return {
            "reason": "BATCH_JOB_EXPIRED",
            "message": "the provider's completion window passed before every request was judged",
        }
    return None


def _earliest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)
