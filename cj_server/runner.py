"""The runner: which assessments this replica advances, and the decision loop for each.

Replicas share running assessments through leases in the database: every
`lease_seconds / 3` a replica claims free or expired assessments and renews its own
(`FOR UPDATE SKIP LOCKED` on PostgreSQL), so a killed replica's assessments are taken over
within one lease. Every write of a step happens in a transaction that re-checks, under the
assessment's row lock, that this replica still holds the lease and that nobody else added
comparisons since the step's state was read; a stale step is dropped and taken again.

Results are applied by whichever replica receives them (`results.py`); the holder learns of
them from the assessment's counters, polled for all its assessments in one query, and reads
only the comparisons answered since its last step (`result_seq`). It steps the engine only
when the decision can change (the engine's `worth_stepping`), not once per result, and
admits what it proposes within the in-flight window and the per-essay limit.

Comparisons are written before they are sent (`sent = false`) and marked sent after the LLM
provider server took them, so a wave that could not be sent (provider server down, queue
full, this replica killed in between) is re-sent with backoff by whichever replica holds
the lease, honouring the provider server's RetryInfo. A permanent refusal fails the
assessment with the provider server's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

import numpy as np
from huleedu.llm.v1 import comparison_pb2
from sqlalchemy.ext.asyncio import AsyncConnection

from cj_server import converters
from cj_server.domain.batch_job_chunks import batch_job_chunks
from cj_server.domain.bradley_terry import Comparisons
from cj_server.domain.engine import State, Step, config_from_settings, step, window, worth_stepping
from cj_server.domain.errors import NeighbourRefused, NeighbourUnavailable
from cj_server.domain.grading import GradeScale
from cj_server.domain.held_out import HonestReliability
from cj_server.domain.reliability import split_half_reliability
from cj_server.domain.scheduling import admit
from cj_server.domain.stopping import Action
from cj_server.domain.summary import ItemInfo, summarize
from cj_server.domain.validation import ValidItem as Item
from cj_server.lps_client import LpsClient
from cj_server.metrics import CjMetrics
from cj_server.outcomes import record_end
from cj_server.settings import BatchingMode, CjSettings
from cj_server.store import ACTIVE, FAILED, PENDING, SUCCEEDED, CjStore
from service_core.retry import RetryPolicy

log = logging.getLogger("cj_server.runner")
SUBMIT_CHUNK = 500  # requests per SubmitComparisons call


@dataclass
class Tracked:
    """What this replica knows of one assessment it holds: read once, then kept up to date
    from the comparisons answered since (`last_seq`) and the ones it adds itself."""

    items: list[Item]
    spec: dict[str, Any]
    attempts: int
    last_seq: int
    succeeded: list[tuple[int, int, bool]] = field(default_factory=list)
    pending: dict[str, tuple[int, int]] = field(default_factory=dict)
    failed: Counter[tuple[int, int]] = field(default_factory=Counter)
    judged: set[tuple[int, int]] = field(default_factory=set)
    scores: np.ndarray | None = None  # the last step's fit, to warm-start the next
    honest: HonestReliability | None = None  # the last honest reliability estimate
    unsent: bool = False
    send_failures: int = 0
    resend_at: float = 0.0

    def apply(self, r: Any) -> None:
        pair = (r.first_idx, r.second_idx)
        if r.status == PENDING:
            self.pending[r.comparison_id] = pair
            self.unsent = self.unsent or not r.sent
            return
        self.pending.pop(r.comparison_id, None)
        if r.status == SUCCEEDED:
            self.succeeded.append((*pair, bool(r.first_won)))
            self.judged.add(pair)
        elif r.status == FAILED:
            self.failed[pair] += 1
        if r.result_seq is not None:
            self.last_seq = max(self.last_seq, r.result_seq)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def failed_open(self) -> dict[tuple[int, int], int]:
        return {pair: count for pair, count in self.failed.items() if pair not in self.judged}


class Runner:
    def __init__(
        self,
        settings: CjSettings,
        store: CjStore,
        lps: LpsClient,
        metrics: CjMetrics,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.store = store
        self.lps = lps
        self.metrics = metrics
        self.clock = clock
        self.owner = uuid.uuid4().hex
        self.engine_config = replace(config_from_settings(settings), refill_fraction=settings.refill_fraction)
        # The one retry policy of service_core; RetryInfo is honoured up to the same cap.
        self.backoff = RetryPolicy(
            "cj-wave-resend",
            base_seconds=settings.resend_initial_seconds,
            cap_seconds=settings.resend_max_seconds,
            max_server_delay_seconds=settings.resend_max_seconds,
        )
        self.tracked: dict[str, Tracked] = {}
        self.held: set[str] = set()
        self._seen: dict[str, tuple[int, int, int]] = {}
        self._dirty: set[str] = set()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._next_claim = 0.0

    # ---- the loop --------------------------------------------------------------------------------

    def wake(self, assessment_id: str | None = None) -> None:
        """Something changed: a new assessment (claim now) or results of one this replica holds."""
        if assessment_id is None or assessment_id not in self.held:
            self._next_claim = 0.0
        else:
            self._dirty.add(assessment_id)
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """The decision loop, a round per wake-up or `runner_poll_seconds`. Supervised by the
        server (`service_core.background.Supervisor`): a round that fails (the database is down)
        raises, and the supervisor restarts the loop by its one restart-and-logging rule; what
        this replica tracks is kept. On stop the server calls `drain` and `release`."""
        while not stop.is_set():
            await self.round()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.runner_poll_seconds)

    async def round(self) -> None:
        now = self.clock()
        if now >= self._next_claim:
            await self._claim(now)
        if self.held:
            await self._poll()
        for assessment_id in list(self.tracked):
            tracked = self.tracked[assessment_id]
            if tracked.unsent and tracked.resend_at <= now:
                self._dirty.add(assessment_id)
        for assessment_id in list(self._dirty):
            self._schedule(assessment_id)

    async def _claim(self, now: float) -> None:
        lease = self.settings.lease_seconds
        ids = await self.store.claim(self.owner, now, lease, self.settings.max_assessments_per_replica)
        self._next_claim = now + lease / 3
        claimed = set(ids)
        for lost in self.held - claimed:
            self._forget(lost)
        for new in claimed - self.held:
            self._dirty.add(new)
            self.metrics.leases.inc()
        self.held = claimed

    async def _poll(self) -> None:
        """One query for the counters of every held assessment: changed ones are stepped."""
        rows = await self.store.held(self.owner, sorted(self.held))
        present: set[str] = set()
        for row in rows:
            assessment_id = row["assessment_id"]
            present.add(assessment_id)
            if row["state"] not in ACTIVE:
                self._forget(assessment_id)
                self.held.discard(assessment_id)
                continue
            seen = (row["attempts"], row["succeeded_count"], row["failed_count"])
            if self._seen.get(assessment_id) != seen:
                self._dirty.add(assessment_id)
        for gone in self.held - present:  # taken over by another replica
            self._forget(gone)
            self.held.discard(gone)

    def _forget(self, assessment_id: str) -> None:
        self.tracked.pop(assessment_id, None)
        self._seen.pop(assessment_id, None)
        self._dirty.discard(assessment_id)

    def _schedule(self, assessment_id: str) -> None:
        task = self._tasks.get(assessment_id)
        if task is not None and not task.done():
            return  # still dirty: the next round schedules it again
        self._dirty.discard(assessment_id)
        self._tasks[assessment_id] = asyncio.create_task(self._advance_safely(assessment_id))

    async def _advance_safely(self, assessment_id: str) -> None:
        try:
            again = await self.advance(assessment_id)
        except Exception:
            log.exception("advancing assessment %s failed; the next round tries again", assessment_id)
            self.tracked.pop(assessment_id, None)  # read it afresh
            return
        if again:
            self._dirty.add(assessment_id)
            self._wake.set()

    async def drain(self) -> None:
        """Wait for running advances (shutdown, tests)."""
        while pending := [t for t in self._tasks.values() if not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def release(self) -> None:
        """Hand this replica's leases back (graceful stop), so another replica takes its
        assessments over at once rather than after a lease period. A failure only means they
        expire instead."""
        try:
            await self.store.release(self.owner)
        except Exception as error:
            log.warning("handing the leases back failed (%r); they expire after CJ_LEASE_SECONDS", error)

    # ---- one assessment --------------------------------------------------------------------------

    async def advance(self, assessment_id: str) -> bool:
        """Bring the assessment up to date and step it when that can change anything.
        True when it should be looked at again at once (the step went stale)."""
        row = await self.store.get(assessment_id)
        if row is None or row["state"] not in ACTIVE or row["lease_owner"] != self.owner:
            self._forget(assessment_id)
            return False
        tracked = await self._track(assessment_id, row)
        self._seen[assessment_id] = (row["attempts"], row["succeeded_count"], row["failed_count"])
        if tracked.unsent and tracked.resend_at <= self.clock():
            await self._resend(row, tracked)
        single = row["llm_batching_mode"] == BatchingMode.PROVIDER_BATCH_API.value
        if not worth_stepping(len(tracked.pending), tracked.n_items, self.engine_config, single_wave=single):
            return False  # the decision could only be WAIT
        state = self._state(row, tracked)
        started = time.perf_counter()
        result = await asyncio.to_thread(step, state, self.engine_config)
        self.metrics.fit_seconds.observe(time.perf_counter() - started)
        if result.fit is not None:
            tracked.scores = result.fit.scores  # the next step's fit starts from here
        if result.honest.available:
            tracked.honest = result.honest  # reused by the engine until it is stale
        return await self._decide(row, tracked, state, result)

    async def _track(self, assessment_id: str, row: dict[str, Any]) -> Tracked:
        tracked = self.tracked.get(assessment_id)
        if tracked is not None and tracked.attempts == row["attempts"]:
            for r in await self.store.engine_rows(assessment_id, after_seq=tracked.last_seq):
                tracked.apply(r)
            if tracked.last_seq >= row["succeeded_count"] + row["failed_count"]:  # later ones may be in too
                return tracked
        # First sight, or comparisons this replica did not add: read it all once.
        tracked = Tracked(
            items=await self.store.items(assessment_id),
            spec=json.loads(row["spec_json"]),
            attempts=row["attempts"],
            last_seq=0,
        )
        for r in await self.store.engine_rows(assessment_id):
            tracked.apply(r)
        self.tracked[assessment_id] = tracked
        return tracked

    def _state(self, row: dict[str, Any], tracked: Tracked) -> State:
        return State(
            n_items=tracked.n_items,
            budget=row["budget"],
            target_reliability=row["target_reliability"],
            single_wave=row["llm_batching_mode"] == BatchingMode.PROVIDER_BATCH_API.value,
            waves=row["waves"],
            attempts=row["attempts"],
            succeeded=list(tracked.succeeded),
            pending=list(tracked.pending.values()),
            failed=tracked.failed_open(),
            seed=int(row["assessment_id"][:8], 16),
            warm_start=tracked.scores,
            warm_prior=tracked.honest.prior_variance if tracked.honest and tracked.honest.available else None,
            warm_honest=tracked.honest,
        )

    async def _decide(self, row: dict[str, Any], tracked: Tracked, state: State, result: Step) -> bool:
        action = result.decision.action
        now = self.clock()
        new_rows: list[dict[str, Any]] = []
        async with self.store.transaction() as connection:
            locked = await self.store.get(row["assessment_id"], connection, lock=True)
            if not self._still_mine(locked, row, exact=action in (Action.FINALIZE, Action.FAIL)):
                return locked is not None and locked["state"] in ACTIVE and locked["lease_owner"] == self.owner
            wave = self._admitted(locked, tracked, result.wave) if action is Action.SUBMIT else []
            if wave:
                new_rows = await self._start_wave(connection, locked, tracked, wave, result.honest.estimate, now)
            elif action is Action.FINALIZE:
                await self._finalize(connection, locked, tracked, state, result, now)
            elif action is Action.FAIL:
                await record_end(self.store, self.metrics, connection, locked, result.decision.reason, now)
            else:
                reliability = result.honest.estimate
                await self.store.update(connection, row["assessment_id"], reliability=reliability, updated_at=now)
        await self.store.notify()
        if action in (Action.FINALIZE, Action.FAIL):
            self._forget(row["assessment_id"])
        if new_rows:
            await self._send(locked, tracked, new_rows)
        return False

    def _admitted(self, row: dict[str, Any], tracked: Tracked, wave: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The window and the per-essay limit, whatever the engine proposed; provider_batch_api
        keeps its one batch of every pair up to the budget."""
        if row["llm_batching_mode"] == BatchingMode.PROVIDER_BATCH_API.value:
            return wave
        room = window(tracked.n_items, self.engine_config) - len(tracked.pending)
        return admit(wave, tracked.pending.values(), room, self.engine_config.max_in_flight_per_essay)

    def _still_mine(
        self, locked: dict[str, Any] | None, read: dict[str, Any], exact: bool
    ) -> TypeGuard[dict[str, Any]]:
        """The step's state is still the assessment's: same lease, nobody added comparisons, and
        (to end it) no result arrived since. Results arriving during a SUBMIT are harmless: they
        only turn pending comparisons into answered ones."""
        if locked is None or locked["state"] not in ACTIVE or locked["lease_owner"] != self.owner:
            return False
        if locked["attempts"] != read["attempts"]:
            return False
        counters = ("succeeded_count", "failed_count")
        return not exact or all(locked[c] == read[c] for c in counters)

    # ---- waves -----------------------------------------------------------------------------------

    async def _start_wave(
        self,
        connection: AsyncConnection,
        row: dict[str, Any],
        tracked: Tracked,
        wave: list[tuple[int, int]],
        split: float,
        now: float,
    ) -> list[dict[str, Any]]:
        wave_number = row["waves"] + 1
        single = row["llm_batching_mode"] == BatchingMode.PROVIDER_BATCH_API.value
        deadline = now + (self.settings.batch_deadline_seconds if single else self.settings.comparison_deadline_seconds)
        new_rows = [
            {
                "comparison_id": f"{row['assessment_id']}-{wave_number}-{i}",
                "assessment_id": row["assessment_id"],
                "first_idx": first,
                "second_idx": second,
                "wave": wave_number,
                "attempt": tracked.failed[(first, second)] + 1,
                "status": PENDING,
                "first_won": None,
                "confidence": None,
                "justification": None,
                "error_json": None,
                "provider": None,
                "model": None,
                "cost_usd": 0.0,
                "created_at": now,
                "deadline_at": deadline,
                "completed_at": None,
                "result_seq": None,
                "sent": False,
            }
            for i, (first, second) in enumerate(wave)
        ]
        await self.store.insert_comparisons(connection, new_rows)
        attempts = row["attempts"] + len(new_rows)
        values = {"state": "running", "waves": wave_number, "attempts": attempts, "reliability": split}
        await self.store.update(connection, row["assessment_id"], updated_at=now, **values)
        row.update(values)
        await self.store.append_events(connection, row["assessment_id"], [(converters.progress_event(row), False)], now)
        tracked.attempts = attempts
        for c in new_rows:
            tracked.pending[c["comparison_id"]] = (c["first_idx"], c["second_idx"])
        self._seen[row["assessment_id"]] = (attempts, row["succeeded_count"], row["failed_count"])
        return new_rows

    def _requests(
        self, row: dict[str, Any], tracked: Tracked, comparisons: list[dict[str, Any]]
    ) -> list[comparison_pb2.ComparisonRequest]:
        mode = BatchingMode(row["llm_batching_mode"])
        return [
            converters.lps_request(
                tracked.spec,
                row["assessment_id"],
                c["comparison_id"],
                tracked.items[c["first_idx"]].text,
                tracked.items[c["second_idx"]].text,
                mode,
                self.settings.lps_consumer,
            )
            for c in comparisons
        ]

    async def _send(self, row: dict[str, Any], tracked: Tracked, comparisons: list[dict[str, Any]]) -> None:
        mode = BatchingMode(row["llm_batching_mode"])
        requests = self._requests(row, tracked, comparisons)
        self.metrics.llm_requests.labels(mode.value).inc(len(requests))
        self.metrics.batches_started.labels(mode.value).inc()
        try:
            if mode is BatchingMode.PROVIDER_BATCH_API:
                job_id = f"cj-{row['assessment_id']}-wave-{comparisons[0]['wave']}"
                chunks = batch_job_chunks(requests, self.settings.max_message_bytes * 3 // 4)
                for k, chunk in enumerate(chunks):  # each part's id is fixed, so a re-send is a repeat
                    await self.lps.create_batch_job(job_id if len(chunks) == 1 else f"{job_id}-part-{k}", chunk)
            else:
                for start in range(0, len(requests), SUBMIT_CHUNK):
                    await self.lps.submit(requests[start : start + SUBMIT_CHUNK])
        except NeighbourRefused as refused:
            await self.fail(row["assessment_id"], f"the LLM provider server refused the requests: {refused.message}")
            return
        except NeighbourUnavailable as error:
            tracked.unsent = True
            tracked.send_failures += 1
            delay = self.backoff.delay(tracked.send_failures, retry_after_seconds=error.retry_after)
            tracked.resend_at = self.clock() + delay
            self.metrics.resends.inc()
            log.warning(
                "sending to the LLM provider server failed for %s (%s); re-sending in %.1f s",
                row["assessment_id"],
                error.code,
                delay,
            )
            return
        tracked.send_failures = 0
        await self.store.mark_sent([c["comparison_id"] for c in comparisons])

    async def _resend(self, row: dict[str, Any], tracked: Tracked) -> None:
        """Send the comparisons written but never taken by the LLM provider server, wave by wave
        (the provider server deduplicates by request id, so a repeat is harmless)."""
        tracked.unsent = False
        unsent = await self.store.unsent(row["assessment_id"])
        by_wave: dict[int, list[dict[str, Any]]] = {}
        for c in unsent:
            by_wave.setdefault(c["wave"], []).append(c)
        for wave in sorted(by_wave):
            await self._send(row, tracked, by_wave[wave])
            if tracked.unsent:
                return
        if unsent:
            log.info("re-sent %d comparisons of %s", len(unsent), row["assessment_id"])

    async def sweep(self) -> None:
        """Comparisons of held assessments past their deadline: ask the LLM provider server,
        and send again what it never received."""
        now = self.clock()
        for c in await self.store.overdue(now, owner=self.owner):
            tracked = self.tracked.get(c["assessment_id"])
            if tracked is None:
                continue
            try:
                known = await self.lps.known(converters.lps_request_id(c["comparison_id"]))
            except (NeighbourUnavailable, NeighbourRefused) as error:
                log.warning("deadline check of %s failed: %s", c["comparison_id"], error.message)
                continue
            if not known:
                await self.store.mark_unsent(c["comparison_id"])
                tracked.unsent, tracked.resend_at = True, now
                self._dirty.add(c["assessment_id"])
                log.warning("comparison %s never reached the LLM provider server; re-sending", c["comparison_id"])
            await self.store.extend_deadline(c["comparison_id"], now + self.settings.comparison_deadline_seconds)

    async def fail(self, assessment_id: str, reason: str) -> None:
        async with self.store.transaction() as connection:
            row = await self.store.get(assessment_id, connection, lock=True)
            if row and row["state"] in ACTIVE:
                await record_end(self.store, self.metrics, connection, row, reason, self.clock())
        await self.store.notify()
        self._forget(assessment_id)

    # ---- the end ---------------------------------------------------------------------------------

    async def _finalize(
        self, connection: AsyncConnection, row: dict[str, Any], tracked: Tracked, state: State, result: Step, now: float
    ) -> None:
        fit = result.fit
        if fit is None:  # the policy finalizes only with judgements; guard the invariant anyway
            await record_end(self.store, self.metrics, connection, row, "no judgement to summarize", now)
            return
        scale_spec = tracked.spec["grade_scale"]
        scale = GradeScale(
            scale_spec["scale_id"], scale_spec["display_name"], tuple(scale_spec["grades"]), tuple(scale_spec["priors"])
        )
        infos = [ItemInfo(i.essay_id, i.is_anchor, i.anchor_grade) for i in tracked.items]
        split = split_half_reliability(
            Comparisons.from_outcomes(tracked.n_items, state.succeeded),
            np.random.default_rng(state.seed),
            alpha=self.settings.prior_precision,
            splits=8,
        )
        summary = summarize(infos, state.succeeded, fit, split, scale, result.honest)
        provider, model, cost = await self.store.model_and_cost(connection, row["assessment_id"])
        proto = converters.summary_to_proto(
            summary,
            converters.name_of(row["assessment_id"]),
            scale,
            result.decision.stop_reason.value,
            row["succeeded_count"],
            row["attempts"],
            row["target_reliability"],
            now,
            cost,
            int(provider or 0),
            model or "",
        )
        await self.store.cancel_pending(connection, row["assessment_id"], now)
        values = {"state": "succeeded", "reliability": result.honest.estimate, "updated_at": now, "ended_at": now}
        await self.store.update(connection, row["assessment_id"], result_json=converters.to_json(proto), **values)
        final_row = row | values
        events = [(converters.progress_event(final_row), False), (converters.result_event(proto), True)]
        await self.store.append_events(connection, row["assessment_id"], events, now)
        if tracked.spec["batch_id"]:
            await self.store.add_outbox(
                connection,
                row["assessment_id"],
                "assessment_result",
                f"cj-result-{row['assessment_id']}",
                converters.ras_result(row["assessment_id"], tracked.spec["batch_id"], proto, now),
                now,
            )
        self.metrics.assessments.labels("succeeded").inc()
        self.metrics.reliability.observe(result.honest.estimate)
        log.info("assessment finished", extra={"assessment_id": row["assessment_id"], "reason": result.decision.reason})
