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

Resilience, as in the other modes: every vendor call (submit, poll, cancel, fetch) goes
through `Executor.call`, so the provider's circuit breaker admits it (while open: no call,
and the job's next poll is the breaker's next admission, no failure counted), it takes
one request from the provider's requests-per-minute bucket, the provider's timeout bounds
it, and its outcome settles the breaker the way a judgement's does. Batch tokens are not
taken from the tokens-per-minute bucket, which the vendors do not charge them to; a part
is submitted only when the vendor's batch queue has room (`vendor_limits`).

A round that fails (a vendor call, or the database) is retried under the shared retry
policy (`poll_retry_policy`: exponential backoff with jitter from the poll interval, never
sooner than the vendor's Retry-After), its attempt count the job's streak of failed rounds
(`poll_failures`, stored on the job); a round that succeeds ends the streak.

The poll loop runs under the `service_core.background` supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

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
from llm_provider_server.domain.resilience import estimate_prompt_tokens
from llm_provider_server.executor import CircuitOpen, Executor, failure_result, judge_call, success_result
from llm_provider_server.metrics import LpsMetrics
from llm_provider_server.providers.base import BatchAdapter, JudgeCall
from llm_provider_server.providers.errors import scrub
from llm_provider_server.queue_worker import observe_results
from llm_provider_server.settings import LpsSettings
from llm_provider_server.store import BatchJobStore, ClaimedRequest, terminal_result
from service_core.background import Supervisor
from service_core.retry import RetryPolicy

log = logging.getLogger("llm_provider_server.batch")

MODE = "batch_api"
LOOP_NAME = "lps-batch-poller"
# A round holds its jobs for this long. Paced by the rate limit, a round may take a while: past half
# of it, no new vendor call starts for a part (nor a job), so no job is worked on after its lease lapsed
# and another poller may have claimed it (two submits of one part would be two paid vendor jobs).
POLL_LEASE_SECONDS = 60.0
T = TypeVar("T")


def poll_retry_policy(settings: LpsSettings) -> RetryPolicy:
    """Failed rounds of a job: from one poll interval, doubling, up to LPS_RETRY_CAP_SECONDS (at least
    the interval), with jitter; never sooner than the vendor's Retry-After; for as long as the job runs."""
    base = settings.batch_poll_interval_seconds
    return RetryPolicy("lps-batch-poll", base_seconds=base, cap_seconds=max(settings.retry_cap_seconds, base))


class BatchPoller:
    def __init__(
        self,
        jobs: BatchJobStore,
        executor: Executor,
        settings: LpsSettings,
        metrics: LpsMetrics,
        clock: Callable[[], float] = time.time,
        poller_id: str | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        supervisor: Supervisor | None = None,
    ):
        self.jobs = jobs
        self.executor = executor
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.poller_id = poller_id or f"poller-{uuid.uuid4().hex[:12]}"
        self.retry = retry or poll_retry_policy(settings)
        self.rng = rng or random.Random()
        self.supervisor = supervisor or Supervisor()
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self.supervisor.start(LOOP_NAME, self._loop)

    async def stop(self) -> None:
        self.supervisor.stop_event.set()
        self._wake.set()
        await self.supervisor.stop(grace_seconds=10)

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self, stop: asyncio.Event) -> None:
        """Rounds until stopped; idle between them when nothing was due. A round that raises (the
        database is unreachable) ends the loop, and the supervisor restarts it by its rule."""
        while not stop.is_set():
            if not await self.poll_round() and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(self.settings.batch_poll_interval_seconds, 1.0))
                self._wake.clear()

    async def poll_round(self) -> int:
        """Claim the jobs due now (at most 20) and advance each; returns how many there were. Jobs
        left when half the lease has gone are let go, due again at once."""
        claimed_at = self.clock()
        due = await self.jobs.claim_due(self.poller_id, claimed_at, lease=POLL_LEASE_SECONDS, limit=20)
        deadline = claimed_at + POLL_LEASE_SECONDS / 2
        for job in due:
            if self.clock() >= deadline:
                await self.jobs.update(job.job_id, self.poller_id, self.clock(), self.clock())
                continue
            await self._advance_safely(job, deadline)
        return len(due)

    async def _advance_safely(self, job: JobRecord, deadline: float = math.inf) -> None:
        try:
            await self.advance(job, deadline)
        except CircuitOpen as held:  # no call was made: not a failure of this job
            await self.jobs.update(job.job_id, self.poller_id, self.clock(), held.retry_at)
        except Exception as exc:
            await self._round_failed(job, exc)

    async def _round_failed(self, job: JobRecord, exc: Exception) -> None:
        """Try the job again after the retry policy's delay for its streak of failed rounds."""
        failures = job.poll_failures + 1
        failure = exc if isinstance(exc, ProviderFailure) else None
        hint = failure.retry_after_seconds if failure is not None else None
        delay = self.retry.delay(failures, retry_after_seconds=hint, rng=self.rng)
        reason = failure.code if failure is not None else type(exc).__name__
        self.metrics.batch_poll_failures.labels(job.provider, reason).inc()
        extra = {"job_id": job.job_id, "attempt": failures, "retry_in_seconds": round(delay, 3)}
        if failure is not None:  # the vendor's answer, already scrubbed: one line
            log.warning("batch job %s: a vendor call failed (%s); will try again", job.job_id, failure, extra=extra)
        elif failures == 1:  # anything else: with its traceback once a streak, as the supervisor logs
            log.error("batch job %s: round failed; will try again", job.job_id, exc_info=exc, extra=extra)
        else:
            log.warning("batch job %s: round failed again: %s", job.job_id, type(exc).__name__, extra=extra)
        now = self.clock()
        await self.jobs.update(
            job.job_id,
            self.poller_id,
            now,
            now + delay,
            error={"reason": "POLL_FAILED", "message": scrub(str(exc))[:300]},
            poll_failures=failures,
        )

    async def _vendor(self, job: JobRecord, operation: Callable[[], Awaitable[T]]) -> T:
        """One vendor call for `job`, under its provider's breaker, rate limit and timeout."""
        return await self.executor.call(Provider(job.provider), operation)

    def _next_poll(self) -> float:
        return self.clock() + self.settings.batch_poll_interval_seconds

    async def advance(self, job: JobRecord, deadline: float = math.inf) -> None:
        """One step of a job. The job's requests are read (and their prompts rendered) only
        to submit parts or to record outcomes, so a poll costs the same for any job size. Parts
        not reached by `deadline` wait for the next round."""
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
        for part in parts:
            if part.state.is_terminal:
                continue
            if self.clock() >= deadline:
                break
            if not part.submitted:
                submit_calls = [] if job.cancel_at is not None else (await requests())[1]
                await self._submit(job, part, adapter, submit_calls)
                continue
            await self._poll(job, await self._cancel_once(job, part, adapter), adapter)
        parts = await self.jobs.parts(job.job_id)
        state = aggregate_state([p.state for p in parts], job.cancel_at is not None)
        if not state.is_terminal:
            await self._progress(job, parts, state)
            return
        claims, calls = await requests()
        items: dict[str, ItemResult] = {}
        for part in parts:
            if part.submitted:
                items |= await self._fetch(job, part, adapter, calls[part.first_index : part.end_index])
        await self._finish(job, claims, calls, items, parts)

    async def _fetch(
        self, job: JobRecord, part: VendorPart, adapter: BatchAdapter, calls: list[JudgeCall]
    ) -> dict[str, ItemResult]:
        record = part.vendor_record(job)
        return await self._vendor(job, lambda: adapter.fetch(record, calls))

    async def _split(self, job: JobRecord, adapter: BatchAdapter, calls: list[JudgeCall]) -> list[VendorPart]:
        provider = Provider(job.provider)
        limits = vendor_limits.limits_for(
            provider,
            self.settings.vendor_job_max_items,
            self.settings.vendor_job_max_bytes,
            self.executor.runtimes[provider].batch_queue_limit,
        )
        tokens = [estimate_prompt_tokens(len(call.prompt.system) + len(call.prompt.user)) for call in calls]
        ranges = vendor_limits.split([adapter.request_bytes(call) for call in calls], limits, tokens)
        part_tokens = [sum(tokens[start:end]) for start, end in ranges]
        parts = await self.jobs.add_parts(job.job_id, self.poller_id, ranges, part_tokens)
        if len(parts) > 1:
            self.metrics.batch_splits.labels(job.provider).inc()
            log.info("batch job split", extra={"job_id": job.job_id, "parts": len(parts)})
        return parts

    async def _queue_has_room(self, job: JobRecord, part: VendorPart) -> bool:
        """Does the vendor's batch queue (its limit as configured) take this part now?"""
        provider = Provider(job.provider)
        limit = self.executor.runtimes[provider].batch_queue_limit
        if limit <= 0:
            return True
        queue = vendor_limits.BATCH_QUEUES[provider]
        requests, tokens = await self.jobs.enqueued(job.provider, job.model if queue.per_model else None)
        if queue.unit is vendor_limits.QueueUnit.REQUESTS:
            queued, size = requests, part.item_count
        else:
            queued, size = tokens, part.estimated_tokens
        if vendor_limits.queue_has_room(queued, size, limit):
            return True
        log.debug(
            "batch job %s part %s waits for room in the vendor's batch queue",
            job.job_id,
            part.part,
            extra={"job_id": job.job_id, "queued": queued, "size": size, "limit": limit},
        )
        return False

    async def _submit(self, job: JobRecord, part: VendorPart, adapter: BatchAdapter, calls: list[JudgeCall]) -> None:
        """Submit one part, when the vendor's queue has room. A retryable refusal is raised (the
        round failed, and is retried); a permanent one fails the part."""
        now = self.clock()
        if job.cancel_at is not None:  # never reached the vendor: nothing to cancel there
            counts = RequestCounts(total=part.item_count, cancelled=part.item_count)
            await self.jobs.update_part(job.job_id, part.part, state=JobState.CANCELLED, counts=counts, ended_at=now)
            return
        if not await self._queue_has_room(job, part):
            return
        record, part_calls = part.vendor_record(job), calls[part.first_index : part.end_index]
        try:
            provider_job_id = await self._vendor(job, lambda: adapter.submit(record, part_calls))
        except ProviderFailure as failure:
            if failure.retryable:
                raise
            counts = RequestCounts(total=part.item_count, errored=part.item_count)
            await self.jobs.update_part(
                job.job_id,
                part.part,
                state=JobState.FAILED,
                counts=counts,
                ended_at=now,
                error={"reason": failure.code, "message": failure.message},
            )
            return
        self.metrics.vendor_jobs.labels(job.provider).inc()
        await self.jobs.update_part(
            job.job_id, part.part, provider_job_id=provider_job_id, submitted_at=now, state=JobState.VALIDATING
        )

    async def _cancel_once(self, job: JobRecord, part: VendorPart, adapter: BatchAdapter) -> VendorPart:
        """A cancel reaches each vendor job once: `cancel_sent_at` is written after the vendor
        took it, and a vendor that refuses it for good (the job ended meanwhile) is not asked again."""
        if job.cancel_at is None or part.cancel_sent_at is not None:
            return part
        now = self.clock()
        record = part.vendor_record(job)
        try:
            await self._vendor(job, lambda: adapter.cancel(record))
        except ProviderFailure as failure:
            if failure.retryable:
                return part
            log.warning("batch job %s part %s: the vendor refused the cancel (%s)", job.job_id, part.part, failure.code)
        self.metrics.vendor_cancels.labels(job.provider).inc()
        await self.jobs.update_part(job.job_id, part.part, cancel_sent_at=now)
        return replace(part, cancel_sent_at=now)

    async def _poll(self, job: JobRecord, part: VendorPart, adapter: BatchAdapter) -> None:
        record = part.vendor_record(job)
        poll = await self._vendor(job, lambda: adapter.poll(record))
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

    async def _progress(self, job: JobRecord, parts: list[VendorPart], state: JobState) -> None:
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
        if job.poll_failures:  # this round succeeded: the streak of failed ones ends, and its error goes
            fields |= {"poll_failures": 0, "error": None}
        await self.jobs.update(job.job_id, self.poller_id, now, self._next_poll(), **fields)

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
