"""The queue worker: claims requests as the processing mode says and records their outcomes.

per_request    one provider call per request; at most `max_concurrency_per_model`
               calls per (provider, model) and `max_in_flight` in all.
serial_bundle  claims the head of the queue and up to `bundle_max_items` compatible
               requests in one transaction, runs them, records their results in one
               transaction.
batch_api      claims a compatible bundle of up to `batch_job_max_items` and hands it
               to the batch poller as one provider batch job.

Every claim this worker holds is renewed by a heartbeat (every third of
`claim_lease_seconds`) for as long as its work runs, so a slow call is never claimed
and run again by this or another server; only a worker that stopped (died, or stalled
past its lease) loses its claims. Finished attempts go to one writer that records
them in batches: every result and retry that finished while the previous batch was
being written goes into the next transaction (group commit).

A maintenance loop ends expired requests (EXPIRED result), returns requests of a
dead worker to the queue (lease lapsed; FAILED when that was their last allowed
attempt) and publishes the queue depth.

The dispatch and maintenance loops run under the `service_core.background` supervisor (a
loop that raises is restarted after a backoff and logged by its one rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from enum import StrEnum

from llm_provider_server.domain.model import Outcome, Provider, ResultRecord
from llm_provider_server.domain.resilience import BreakerState
from llm_provider_server.executor import Attempt, Executor
from llm_provider_server.metrics import LpsMetrics
from llm_provider_server.settings import LpsSettings, QueueProcessingMode
from llm_provider_server.store import BatchJobStore, ClaimedRequest, LpsStore, Retry
from service_core.background import Supervisor
from service_core.retry import RetryPolicy

log = logging.getLogger("llm_provider_server.queue")


class Claim(StrEnum):
    TAKEN = "taken"  # claimed requests
    EMPTY = "empty"  # had room, found nothing
    FULL = "full"  # no room (or the breaker admits no call)
    WAITING = "waiting"  # a few slots free: waiting a moment for more


# How long the dispatcher and the writer wait for company: a few milliseconds, nothing beside a
# provider call's seconds, but enough for calls that finish together to share one transaction.
CLAIM_LINGER_SECONDS = 0.002
PRUNE_INTERVAL_SECONDS = 60.0

# recording finished attempts again after a database error: short, the claims are held meanwhile
SETTLE_RETRY_POLICY = RetryPolicy("lps-settle", base_seconds=0.2, cap_seconds=2.0)


# The seeds' `result` label values, so dashboards built for them keep working.
RESULT_LABEL = {
    Outcome.SUCCEEDED: "success",
    Outcome.FAILED: "failure",
    Outcome.EXPIRED: "expired",
    Outcome.CANCELLED: "cancelled",
}


def observe_results(metrics: LpsMetrics, results: Sequence[ResultRecord], mode: str) -> None:
    """Count recorded results: one metric child looked up per label set of the batch, not per
    result (each lookup takes the metric's lock)."""
    waits: dict[str, list[float]] = {}
    spent: dict[tuple[str, str], list[float]] = {}  # (provider, model) -> [prompt, completion, cost]
    for result in results:
        waits.setdefault(RESULT_LABEL[result.outcome], []).append(max(result.completed_at - result.created_at, 0))
        if result.outcome is Outcome.SUCCEEDED:
            totals = spent.setdefault((result.provider.value, result.model), [0, 0, 0.0])
            totals[0] += result.usage.prompt_tokens
            totals[1] += result.usage.completion_tokens
            totals[2] += result.cost_usd
    for label, seconds in waits.items():
        metrics.callbacks.labels(mode, label).inc(len(seconds))
        histogram = metrics.queue_wait.labels(mode, label)
        for value in seconds:
            histogram.observe(value)
    for labels, (prompt, completion, cost) in spent.items():
        metrics.tokens.labels(*labels, "prompt").inc(prompt)
        metrics.tokens.labels(*labels, "completion").inc(completion)
        metrics.cost.labels(*labels).inc(cost)


class QueueWorker:
    def __init__(
        self,
        store: LpsStore,
        jobs: BatchJobStore,
        executor: Executor,
        settings: LpsSettings,
        metrics: LpsMetrics,
        clock: Callable[[], float] = time.time,
        worker_id: str | None = None,
        supervisor: Supervisor | None = None,
    ):
        self.store = store
        self.jobs = jobs
        self.executor = executor
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self.mode = settings.queue_processing_mode
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._running = False
        self._next_prune_at = 0.0
        self._tasks: set[asyncio.Task] = set()
        self._in_flight: Counter[tuple[Provider, str]] = Counter()
        self.supervisor = supervisor or Supervisor()
        # Claims this worker holds and renews: claimed, not yet recorded or put back.
        self.held: set[str] = set()
        self._finished: list[Attempt] = []
        self._finished_ready = asyncio.Event()
        self._services: list[asyncio.Task] = []
        self._short_since: dict[tuple[Provider, str], float] = {}
        self._closing = False

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self._running = True
        dispatch = {
            QueueProcessingMode.PER_REQUEST: self._dispatch_per_request,
            QueueProcessingMode.SERIAL_BUNDLE: self._dispatch_bundles,
            QueueProcessingMode.BATCH_API: self._dispatch_batch_jobs,
        }[self.mode]
        self.supervisor.start("lps-dispatch", lambda stop: dispatch())
        self.supervisor.start("lps-maintenance", lambda stop: self._maintain())
        # The heartbeat and the writer outlive the loops: they serve attempts still running at stop.
        self._services = [
            asyncio.create_task(self._heartbeat(), name="lps-heartbeat"),
            asyncio.create_task(self._write_outcomes(), name="lps-outcome-writer"),
        ]

    async def stop(self) -> None:
        """Stop claiming; let running attempts finish (their results are recorded)."""
        self._running = False
        self._wake.set()
        self._stopping.set()
        # Let the loops leave at their next check rather than cancelling them mid-query.
        await self.supervisor.stop(grace_seconds=10)
        if self._tasks:
            # Running calls get the grace period; any still running then is abandoned without a result,
            # and its claim lapses so that a live server runs it again. Nothing is lost.
            _, unfinished = await asyncio.wait(self._tasks, timeout=self.settings.shutdown_grace_seconds)
            for task in unfinished:
                task.cancel()
            if unfinished:
                await asyncio.gather(*unfinished, return_exceptions=True)
        # Record what finished, then stop renewing: claims of abandoned work lapse and are run again.
        self._closing = True
        self._finished_ready.set()
        writer = self._services[1]
        await asyncio.wait([writer], timeout=10)
        for service in self._services:
            service.cancel()
        await asyncio.gather(*self._services, return_exceptions=True)

    def wake(self) -> None:
        self._wake.set()

    async def _idle(self, seconds: float | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds or self.settings.idle_poll_seconds)
        self._wake.clear()

    def _spawn(self, coroutine: Coroutine, key: tuple[Provider, str], count: int) -> None:
        """Run claimed requests. They count as in flight until their outcomes are recorded (see
        `_flush`), so that slots free in batches and the next claim takes a batch too."""
        self._in_flight[key] += count
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)

        def done(finished: asyncio.Task) -> None:
            self._tasks.discard(finished)
            if finished.cancelled() or finished.exception() is not None:
                self._in_flight[key] -= count  # its attempts never reached the writer
                if not finished.cancelled():
                    log.error("attempt task failed", exc_info=finished.exception())
            self._wake.set()

        task.add_done_callback(done)

    @property
    def in_flight_total(self) -> int:
        return sum(self._in_flight.values())

    # ---- per_request ---------------------------------------------------------------------

    async def _dispatch_per_request(self) -> None:
        """Claim per (provider, model) with work, up to its free slots. The models with work are
        read every idle poll, and sooner when every known one has run dry."""
        keys: list[tuple[Provider, str]] = []
        keys_read_at = float("-inf")
        while self._running:
            now = self.clock()
            if now - keys_read_at >= self.settings.idle_poll_seconds:
                keys, keys_read_at = await self.store.queued_keys(), now
            outcomes = {await self._claim_for(key, now) for key in keys}
            if Claim.TAKEN in outcomes:
                continue
            if outcomes == {Claim.EMPTY} and now - keys_read_at >= CLAIM_LINGER_SECONDS:
                keys_read_at = float("-inf")  # the known models ran dry: are there others?
                continue
            await self._idle(CLAIM_LINGER_SECONDS if Claim.WAITING in outcomes else None)

    async def _claim_for(self, key: tuple[Provider, str], now: float) -> Claim:
        """Claim for one model up to its free slots. A model with only a few slots free waits up to
        CLAIM_LINGER_SECONDS for more: slots free in batches as outcomes are written together, and
        one claim then takes them all; without it fast calls settle into one request a transaction."""
        provider, model = key
        free = min(
            self.settings.max_in_flight - self.in_flight_total,
            self.settings.max_concurrency_per_model - self._in_flight[key],
        )
        breaker = self.executor.runtimes[provider].breaker
        if free <= 0 or not breaker.accepting(now):
            self._short_since.pop(key, None)
            return Claim.FULL
        few = free < max(1, self.settings.max_concurrency_per_model // 4) and self._in_flight[key] > 0
        if few and now - self._short_since.setdefault(key, now) < CLAIM_LINGER_SECONDS:
            return Claim.WAITING
        self._short_since.pop(key, None)
        if breaker.state is BreakerState.HALF_OPEN:
            free = 1  # one trial call
        claimed = await self.store.claim_requests(
            self.worker_id, now, self.settings.claim_lease_seconds, free, provider, model
        )
        for request in self._not_running(claimed):
            self._spawn(self._run_attempts([request]), key, 1)
        return Claim.TAKEN if claimed else Claim.EMPTY

    # ---- serial_bundle -------------------------------------------------------------------

    async def _dispatch_bundles(self) -> None:
        while self._running:
            if self.in_flight_total >= self.settings.max_in_flight:
                await self._idle()
                continue
            cap = min(self.settings.bundle_max_items, self.settings.max_in_flight - self.in_flight_total)
            bundle = await self.store.claim_bundle(self.worker_id, self.clock(), self.settings.claim_lease_seconds, cap)
            if not bundle:
                await self._idle()
                continue
            bundle = self._not_running(bundle)
            if bundle:
                self._spawn(self._run_attempts(bundle), (bundle[0].provider, bundle[0].model), len(bundle))

    def _not_running(self, claimed: Sequence[ClaimedRequest]) -> list[ClaimedRequest]:
        """Hold the new claims. A request already running here (its claim lapsed in a stall and this
        worker claimed it again) is not started twice: the running attempt records its outcome."""
        fresh = [request for request in claimed if request.spec.request_id not in self.held]
        if len(fresh) < len(claimed):
            log.warning("%d claimed requests are already running here", len(claimed) - len(fresh))
        self.held.update(request.spec.request_id for request in fresh)
        return fresh

    async def _run_attempts(self, claimed: Sequence[ClaimedRequest]) -> None:
        """Run requests (each isolated from the others' failures) and hand every outcome to the
        writer. `Executor.attempt` turns any exception into a recorded failure or a counted retry."""
        mode = self.mode.value if self.mode is not QueueProcessingMode.BATCH_API else "per_request"
        attempts: list[Attempt | None] = [None] * len(claimed)
        queue = iter(enumerate(claimed))

        async def run() -> None:  # takes the next request until none is left
            for index, request in queue:
                attempts[index] = await self.executor.attempt(request, mode)

        # At most max_concurrency_per_model calls at once, by that many runners (not a task and a
        # semaphore per request: a bundle of 64 fast calls spent more on those than on the calls).
        runners = min(self.settings.max_concurrency_per_model, len(claimed))
        if runners == 1:
            await run()
        else:
            await asyncio.gather(*(run() for _ in range(runners)))
        # Only now read self._finished: the writer swaps in a fresh list while the calls run.
        self._finished.extend(attempt for attempt in attempts if attempt is not None)
        self._finished_ready.set()

    # ---- recording outcomes and renewing claims -------------------------------------------

    async def _write_outcomes(self) -> None:
        while True:
            await self._finished_ready.wait()
            if not self._closing:
                await asyncio.sleep(CLAIM_LINGER_SECONDS)  # let attempts finishing together share the write
            self._finished_ready.clear()
            await self._flush()
            if self._closing and not self._finished:
                return

    async def _flush(self, tries: int = 3) -> None:
        """Record every finished attempt in one transaction. Should the database refuse it `tries`
        times, the claims are let go: their leases lapse and the requests run again, each run an
        attempt counted against `max_attempts`."""
        if not self._finished:
            return
        batch, self._finished = self._finished, []
        results = [a.result for a in batch if a.result is not None]
        retries = [
            Retry(a.claimed.spec.request_id, a.retry_at, str(a.failure), a.fallback, a.counted)
            for a in batch
            if a.retry_at is not None and a.fallback is not None
        ]
        for try_number in range(tries):
            try:
                recorded = await self.store.settle(self.worker_id, results, retries, self.clock())
            except Exception:
                log.exception("recording %d outcomes failed (try %d of %d)", len(batch), try_number + 1, tries)
                await asyncio.sleep(SETTLE_RETRY_POLICY.delay(try_number + 1))
                continue
            observe_results(self.metrics, recorded, self._mode_label(batch))
            break
        self.held.difference_update(a.claimed.spec.request_id for a in batch)
        for attempt in batch:
            self._in_flight[(attempt.claimed.provider, attempt.claimed.model)] -= 1
        self._wake.set()

    def _mode_label(self, batch: Sequence[Attempt]) -> str:
        return batch[0].result.processing_mode if batch and batch[0].result else self.mode.value

    async def _heartbeat(self) -> None:
        lease = self.settings.claim_lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            try:
                lost = await self.store.renew_claims(self.worker_id, sorted(self.held), self.clock(), lease)
            except Exception:
                log.exception("renewing %d claims failed; trying again", len(self.held))
                continue
            if lost:
                # Another worker may be running these now; ours will not be recorded (settle skips them).
                log.warning("lost the claims of %d running requests", len(lost))
                self.held.difference_update(lost)

    # ---- batch_api -----------------------------------------------------------------------

    async def _dispatch_batch_jobs(self) -> None:
        while self._running:
            now = self.clock()
            bundle = await self.store.claim_bundle(
                self.worker_id, now, self.settings.claim_lease_seconds, self.settings.batch_job_max_items
            )
            if not bundle:
                await self._idle()
                continue
            runtime = self.executor.runtimes[bundle[0].provider]
            if not runtime.breaker.accepting(now):
                # The provider is failing: the bundle waits in the queue (no attempt counted).
                self._spawn(self._hold(bundle), (bundle[0].provider, bundle[0].model), len(bundle))
                continue
            if runtime.adapter.batch is None:
                log.warning("provider %s has no batch API; running the bundle per request", bundle[0].provider)
                if bundle := self._not_running(bundle):
                    self._spawn(self._run_attempts(bundle), (bundle[0].provider, bundle[0].model), len(bundle))
                continue
            job = await self.jobs.create_job_from_claims(bundle, self.worker_id, now)
            self.metrics.batch_jobs.labels(job.provider, job.model, "scheduled").inc()
            self.metrics.batch_items.labels(job.provider, job.model).observe(job.item_count)
            log.info("batch job created", extra={"job_id": job.job_id, "items": job.item_count})

    async def _hold(self, bundle: Sequence[ClaimedRequest]) -> None:
        self.held.update(request.spec.request_id for request in bundle)
        self._finished.extend(self.executor.hold(request, "batch_api") for request in bundle)
        self._finished_ready.set()

    # ---- maintenance ---------------------------------------------------------------------

    async def _prune(self, now: float) -> None:
        """Retention: acknowledged results older than LPS_RETENTION_SECONDS go, a bounded round
        at a time, at most once a minute (and at once while a round came back full)."""
        if now < self._next_prune_at:
            return
        pruned = await self.store.prune_acknowledged(now - self.settings.retention_seconds)
        self._next_prune_at = now if pruned >= 1000 else now + PRUNE_INTERVAL_SECONDS
        if pruned:
            log.info("pruned %d acknowledged results past the retention period", pruned)

    async def _maintain(self) -> None:
        while self._running:
            now = self.clock()
            expired = await self.store.expire_due(now)
            observe_results(self.metrics, expired, self.mode.value)
            released = await self.store.release_stale_claims(now)
            if released:
                log.warning("returned %d requests of a worker that stopped answering to the queue", released)
                self._wake.set()
            for state, count in (await self.store.queue_depth()).items():
                self.metrics.queue_depth.labels(state).set(count)
            await self._prune(now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.sweep_interval_seconds)
