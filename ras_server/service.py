"""RAS use cases, speaking domain records: idempotent ingest, status views, listings, feeds.

Each event runs in one transaction: claim its event id (a repeat is a duplicate, a reuse
with other content is ALREADY_EXISTS naming the original), lock the batch, merge the
event into the batch's joins and tally (cost proportional to what the event names, never
to the batch), derive the status, and give the batch its owner's next feed position.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from ras_server.domain import records as r
from ras_server.domain.limits import preview
from ras_server.domain.phases import (
    IMPLIED,
    Flags,
    Outcome,
    PhaseStatus,
    contribution,
    essay_view,
    merge,
)
from ras_server.domain.pipeline import RANK
from ras_server.domain.status import BatchFacts, BatchState, derive
from ras_server.metrics import RasMetrics
from ras_server.store import RasStore, Records, dumps
from service_core.errors import AlreadyExists, DomainError, FieldViolation, InvalidArgument, NotFound, PermissionDenied


class Access:
    """Who is calling: open (no auth configured), a service (sees all) or an owner (sees its own)."""

    def __init__(self, caller: str, services: set[str]):
        self.caller = caller
        self.is_owner = bool(caller) and caller not in services

    def may_read(self, owner: str) -> bool:
        return not self.is_owner or owner == self.caller

    def require_service(self) -> None:
        if self.is_owner:
            raise PermissionDenied(
                f"{self.caller!r} may read its own batches but not record events", reason="INGEST_NOT_ALLOWED"
            )

    def owner_to_read(self, requested: str) -> str:
        if not self.is_owner:
            return requested
        if requested and requested != self.caller:
            raise PermissionDenied(f"{self.caller!r} may read only its own batches", reason="OTHER_OWNER")
        return self.caller


def not_found(batch_id: str) -> NotFound:
    return NotFound(
        f"batch {preview(batch_id)} is not registered", reason="BATCH_NOT_FOUND", metadata={"batchId": batch_id}
    )


class Tally:
    """The batch's counters and per-phase times, read from and written back to its row."""

    def __init__(self, raw: str | None):
        data = json.loads(raw) if raw else {}
        self.counts: Counter[str] = Counter(data.get("counts", {}))
        self.starts: dict[str, float] = data.get("starts", {})
        self.ends: dict[str, float] = data.get("ends", {})

    def add(self, before: Counter[str], after: Counter[str]) -> None:
        self.counts.update(after)
        self.counts.subtract(before)

    def times(self, phase: str, outcome: Outcome) -> None:
        self.starts[phase] = min(self.starts.get(phase, outcome.event_time), outcome.event_time)
        if outcome.status.terminal:
            self.ends[phase] = max(self.ends.get(phase, outcome.event_time), outcome.event_time)

    def dump(self) -> str:
        counts = {k: v for k, v in self.counts.items() if v}
        return dumps({"counts": counts, "starts": self.starts, "ends": self.ends})


def _min(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def facts(batch: dict[str, Any], tally: Tally) -> BatchFacts:
    return BatchFacts(
        essay_count=int(tally.counts.get("essay_count", 0)),
        phases=tuple(json.loads(batch["requested_phases"])),
        tally=tally.counts,
        first_start=batch["first_start"],
        last_end=batch["last_end"],
        ready_at=batch["ready_at"],
        cancelled_at=batch["cancelled_at"],
        pipeline_completed_at=batch["pipeline_completed_at"],
        reported_started=bool(batch["orchestrator_phase"]),
    )


def flags_of(batch: dict[str, Any]) -> Flags:
    return Flags(batch["cancelled_at"] is not None, batch["pipeline_completed_at"] is not None)


class ResultService:
    def __init__(
        self,
        store: RasStore,
        metrics: RasMetrics,
        clock: Callable[[], float] = time.time,
        watch_poll: float = 0.5,
    ):
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.watch_poll = watch_poll

    # ---- ingest ------------------------------------------------------------------------------

    def rejected(self, kind: str) -> None:
        self.metrics.events.labels(kind, "rejected").inc()

    async def register(self, event: r.RegisterBatch) -> tuple[r.BatchView, bool]:
        duplicate = await self._ingest(event, self._insert_batch)
        return await self.status(event.batch_id), duplicate

    async def record_phase(self, event: r.PhaseReport) -> bool:
        return await self._ingest(event, self._apply_phase)

    async def record_assessment(self, event: r.AssessmentReport) -> bool:
        return await self._ingest(event, self._apply_assessment)

    async def lifecycle(self, event: r.CancelBatch | r.MarkReady | r.PipelineCompleted) -> tuple[r.BatchView, bool]:
        duplicate = await self._ingest(event, self._apply_lifecycle)
        return await self.status(event.batch_id), duplicate

    async def _ingest(self, event: r.Event, apply: Callable[..., Awaitable[dict[str, Any] | None]]) -> bool:
        try:
            duplicate = await self._transaction(event, apply)
        except DomainError:
            self.rejected(event.kind)
            raise
        self.metrics.events.labels(event.kind, "duplicate" if duplicate else "applied").inc()
        if not duplicate:
            await self.store.notify()
        return duplicate

    async def _transaction(self, event: r.Event, apply: Callable[..., Awaitable[dict[str, Any] | None]]) -> bool:
        now = self.clock()
        fingerprint = event.fingerprint()
        async with self.store.transaction() as connection:
            prior = await self.store.claim_event(
                connection, event.event_id, event.batch_id, event.kind, fingerprint, now
            )
            if prior is not None:
                if prior["fingerprint"] != fingerprint:
                    raise AlreadyExists(
                        f"event {preview(event.event_id)} was recorded before with other content",
                        reason="EVENT_ID_REUSED",
                        metadata={"eventId": event.event_id, "batchId": prior["batch_id"], "kind": prior["kind"]},
                    )
                return True
            event_time = event.event_time if event.event_time is not None else now
            if isinstance(event, r.RegisterBatch):
                await self._insert_batch(connection, event, event_time, now)
                return False
            batch = await self.store.batch(event.batch_id, connection, lock=True)
            if batch is None:
                raise not_found(event.batch_id)
            tally = await self._tally(connection, batch)
            values = await apply(connection, batch, tally, event, event_time) or {}
            await self._settle(connection, batch | values, tally, now)
        return False

    async def _insert_batch(self, connection: AsyncConnection, event: r.RegisterBatch, event_time: float, now: float):
        exists = AlreadyExists(
            f"batch {preview(event.batch_id)} is already registered",
            reason="BATCH_EXISTS",
            metadata={"batchId": event.batch_id},
        )
        if await self.store.batch(event.batch_id, connection):
            raise exists
        tally = Tally(None)
        tally.counts["essay_count"] = len(event.essays)
        tally.counts["essays.in_progress"] = len(event.essays)
        for phase in event.phases:
            tally.counts[f"{phase}.pending"] = len(event.essays)
        row = {
            "batch_id": event.batch_id,
            "owner": event.owner,
            "assignment_id": event.assignment_id,
            "course_code": event.course_code,
            "class_id": event.class_id,
            "org_id": event.org_id,
            "requested_phases": json.dumps(list(event.phases)),
            "state": BatchState.AWAITING_CONTENT_VALIDATION.value,
            "orchestrator_phase": "",
            "cj_assessment": "",
            "cj_reliability": 0.0,
            "tally_json": tally.dump(),
            "created_at": event_time,
            "updated_at": now,
            "feed_seq": await self.store.next_feed_seq(connection, event.owner),
            "version": 0,
        }
        essay_rows = [
            {"batch_id": event.batch_id, "essay_id": e.essay_id, "filename": e.filename, "updated_at": now}
            for e in event.essays
        ]
        if not await self.store.insert_batch(connection, row, essay_rows):
            raise exists

    async def _tally(self, connection: AsyncConnection | None, batch: dict[str, Any]) -> Tally:
        tally = Tally(batch["tally_json"])
        if batch["tally_json"] is None:  # a row from before the tally: count it once from its records
            phases = json.loads(batch["requested_phases"])
            essays = await self.store.essays(batch["batch_id"], connection)
            records = await self.store.records(batch["batch_id"], connection=connection)
            tally.counts["essay_count"] = len(essays)
            for essay in essays:
                tally.add(Counter(), contribution(essay_view(phases, records.get(essay["essay_id"], {}))))
        return tally

    async def _merge(
        self,
        connection: AsyncConnection,
        batch: dict[str, Any],
        tally: Tally,
        records: Records,
        outcomes: list[tuple[str, str, Outcome]],
    ) -> None:
        """Merge (essay, phase, outcome) triples, keeping the tally equal to the sum of the views."""
        phases = json.loads(batch["requested_phases"])
        for essay_id, phase, outcome in outcomes:
            mine = records.setdefault(essay_id, {})
            before = contribution(essay_view(phases, mine))
            tally.times(phase, outcome)  # a join over every outcome, whether it wins or not
            current = mine.get(phase)
            merged = merge(current, outcome)
            if merged == current:
                continue
            mine[phase] = merged
            tally.add(before, contribution(essay_view(phases, mine)))
            await self.store.put_record(connection, batch["batch_id"], essay_id, phase, merged, current is not None)

    async def _apply_phase(
        self, connection: AsyncConnection, batch: dict[str, Any], tally: Tally, event: r.PhaseReport, at: float
    ) -> dict[str, Any]:
        phases = json.loads(batch["requested_phases"])
        if event.phase not in phases:
            why = f"{preview(event.phase)} was not requested for this batch ({', '.join(phases)})"
            raise InvalidArgument(FieldViolation("phase", why))
        values: dict[str, Any] = {"first_start": _min(batch["first_start"], at)}
        if event.essay_id:
            if not await self.store.essays_by_id(connection, event.batch_id, [event.essay_id]):
                raise InvalidArgument(
                    FieldViolation("essay_id", f"{preview(event.essay_id)} is not in batch {preview(event.batch_id)}")
                )
            outcome = Outcome(event.status, at, event.event_id, event.error)
            records = await self.store.records(event.batch_id, [event.essay_id], connection)
            await self._merge(connection, batch, tally, records, [(event.essay_id, event.phase, outcome)])
        elif event.status is PhaseStatus.CANCELLED:  # the whole phase: every essay's open record
            outcome = Outcome(PhaseStatus.CANCELLED, at, event.event_id, event.error, IMPLIED)
            essays = await self.store.essays(event.batch_id, connection)
            records = await self.store.records(event.batch_id, connection=connection)
            triples = [(e["essay_id"], event.phase, outcome) for e in essays]
            await self._merge(connection, batch, tally, records, triples)
        else:  # the orchestrator says the phase started: processing, even before any essay report
            reported = [p for p in (batch["orchestrator_phase"], event.phase) if p]
            values["orchestrator_phase"] = min(reported, key=RANK.__getitem__)
        if event.status.terminal:
            values["last_end"] = _max(batch["last_end"], at)
        return values

    async def _apply_assessment(
        self, connection: AsyncConnection, batch: dict[str, Any], tally: Tally, event: r.AssessmentReport, at: float
    ) -> dict[str, Any]:
        ids = [essay_id for essay_id, _ in event.essays]
        known = await self.store.essays_by_id(connection, event.batch_id, ids)
        unknown = [
            FieldViolation(f"essays[{i}].essay_id", f"{preview(e)} is not in batch {preview(event.batch_id)}")
            for i, e in enumerate(ids)
            if e not in known
        ]
        if unknown:
            raise InvalidArgument(unknown[:20])
        key = (at, event.event_id)
        for essay_id, assessment in event.essays:
            row = known[essay_id]
            if row["assessment_time"] is None or (row["assessment_time"], row["assessment_event"]) < key:
                written = {"assessment_json": dumps(r.plain(assessment)), "assessment_time": at}
                written |= {"assessment_event": event.event_id, "updated_at": self.clock()}
                await self.store.put_assessment(connection, event.batch_id, essay_id, written)
        values: dict[str, Any] = {}
        if "cj_assessment" in json.loads(batch["requested_phases"]) and ids:
            outcome = Outcome(PhaseStatus.COMPLETED, at, event.event_id)
            records = await self.store.records(event.batch_id, ids, connection)
            await self._merge(connection, batch, tally, records, [(e, "cj_assessment", outcome) for e in ids])
            values = {"first_start": _min(batch["first_start"], at), "last_end": _max(batch["last_end"], at)}
        if batch["cj_event_time"] is None or (batch["cj_event_time"], batch["cj_event_id"]) < key:
            values |= {
                "cj_assessment": event.assessment,
                "cj_reliability": event.reliability,
                "cj_grade_scale_id": event.grade_scale_id,
                "cj_model": event.model,
                "cj_essay_count": len(ids),
                "cj_event_time": at,
                "cj_event_id": event.event_id,
            }
        return values

    async def _apply_lifecycle(
        self, connection: AsyncConnection, batch: dict[str, Any], tally: Tally, event: r.Event, at: float
    ) -> dict[str, Any]:
        if isinstance(event, r.MarkReady):
            return {"ready_at": _min(batch["ready_at"], at)}
        if isinstance(event, r.PipelineCompleted):
            return {"pipeline_completed_at": _max(batch["pipeline_completed_at"], at)}
        if not isinstance(event, r.CancelBatch):
            raise TypeError(f"not a lifecycle event: {event.kind}")
        current = (batch["cancelled_at"], batch["cancel_event"])
        if batch["cancelled_at"] is not None and current <= (at, event.event_id):
            return {}
        return {"cancelled_at": at, "cancel_event": event.event_id, "cancel_reason": event.reason}

    async def _settle(self, connection: AsyncConnection, batch: dict[str, Any], tally: Tally, now: float) -> None:
        """Write the merged joins, the tally and what follows from them (state, times, feed position)."""
        derived = derive(facts(batch, tally))
        before = BatchState(batch["state"])
        values = {
            key: batch[key]
            for key in (
                "first_start",
                "last_end",
                "ready_at",
                "cancelled_at",
                "cancel_event",
                "cancel_reason",
                "pipeline_completed_at",
                "orchestrator_phase",
                "cj_assessment",
                "cj_reliability",
                "cj_grade_scale_id",
                "cj_model",
                "cj_essay_count",
                "cj_event_time",
                "cj_event_id",
            )
        }
        values |= {
            "tally_json": tally.dump(),
            "state": derived.state.value,
            "processing_started_at": batch["first_start"],
            "processing_completed_at": derived.completed_at,
            "updated_at": now,
            "feed_seq": await self.store.next_feed_seq(connection, batch["owner"]),
        }
        await self.store.update_batch(connection, batch["batch_id"], **values)
        if derived.state.terminal and not before.terminal and derived.completed_at is not None:
            self.metrics.completion_seconds.observe(max(0.0, derived.completed_at - batch["created_at"]))

    # ---- queries -----------------------------------------------------------------------------

    async def status(self, batch_id: str, access: Access | None = None, include_essays: bool = True) -> r.BatchView:
        batch = await self.store.batch(batch_id)
        if batch is None or (access is not None and not access.may_read(batch["owner"])):
            raise not_found(batch_id)
        return await self.view(batch, include_essays)

    async def view(self, batch: dict[str, Any], include_essays: bool) -> r.BatchView:
        tally = Tally(batch["tally_json"])
        if batch["tally_json"] is None:
            tally = await self._tally(None, batch)
        derived = derive(facts(batch, tally))
        phases = tuple(json.loads(batch["requested_phases"]))
        essays = None
        if include_essays:
            essays = await self._essays(batch, phases)
        return r.BatchView(
            batch_id=batch["batch_id"],
            owner=batch["owner"],
            assignment_id=batch["assignment_id"],
            course_code=batch["course_code"],
            class_id=batch["class_id"],
            org_id=batch["org_id"],
            phases=phases,
            essay_count=int(tally.counts.get("essay_count", 0)),
            derived=derived,
            created_at=batch["created_at"],
            updated_at=batch["updated_at"],
            first_start=batch["first_start"],
            ready_at=batch["ready_at"],
            cancelled_at=batch["cancelled_at"],
            cancel_reason=batch["cancel_reason"],
            pipeline_completed_at=batch["pipeline_completed_at"],
            phase_times={p: (tally.starts.get(p), tally.ends.get(p)) for p in phases},
            cj=r.CjSummary(
                batch["cj_assessment"],
                batch["cj_reliability"],
                batch["cj_grade_scale_id"],
                batch["cj_model"],
                batch["cj_essay_count"],
                batch["cj_event_time"],
            ),
            essays=essays,
            feed_seq=batch["feed_seq"],
        )

    async def _essays(self, batch: dict[str, Any], phases: tuple[str, ...]) -> tuple[r.EssayStatus, ...]:
        rows = await self.store.essays(batch["batch_id"])
        records = await self.store.records(batch["batch_id"])
        flags = flags_of(batch)
        result = []
        for row in rows:
            assessment = None
            if row["assessment_json"]:
                assessment = r.EssayAssessment(**json.loads(row["assessment_json"]))
            view = essay_view(phases, records.get(row["essay_id"], {}), flags)
            result.append(r.EssayStatus(row["essay_id"], row["filename"], view, assessment, row["updated_at"]))
        return tuple(result)

    async def list(
        self, query: r.BatchFilter, access: Access, limit: int, after: tuple[float, str] | None
    ) -> tuple[list[r.BatchView], int, bool]:
        owner = access.owner_to_read(query.owner)
        rows, total = await self.store.list_batches(
            owner=owner,
            states=[s.value for s in query.states],
            class_id=query.class_id,
            org_id=query.org_id,
            limit=limit + 1,
            after=after,
        )
        views = [await self.view(row, query.include_essays) for row in rows[:limit]]
        return views, total, len(rows) > limit

    async def watch(self, batch_id: str, access: Access) -> AsyncIterator[r.BatchView]:
        last = await self.status(batch_id, access)
        yield last
        with self.metrics.subscribers.labels("batch").track_inprogress():
            while not last.state.terminal:
                await self.store.wait_for_change(self.watch_poll)
                current = await self.status(batch_id, access)
                if current.feed_seq != last.feed_seq:
                    yield current
                    last = current

    async def feed(self, owner: str, after: int, access: Access) -> AsyncIterator[r.BatchView]:
        """Every change to the owner's batches after feed position `after`, forever."""
        owner = access.owner_to_read(owner)
        if not owner:
            raise InvalidArgument(FieldViolation("owner", "required: the owner whose batches to follow"))
        with self.metrics.subscribers.labels("owner").track_inprogress():
            while True:
                rows = await self.store.feed(owner, after, 100)
                for row in rows:
                    after = row["feed_seq"]
                    if access.may_read(row["owner"]) and row["owner"] == owner:
                        yield await self.view(row, include_essays=False)
                if not rows:
                    await self.store.wait_for_change(self.watch_poll)

    async def refresh_metrics(self) -> None:
        self.metrics.set_batches(await self.store.counts_by_state())
