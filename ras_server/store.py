"""RAS persistence. Every ingest event is applied in one transaction together with its
event id, so a repeated event changes nothing; JSON values are written whole (never
mutated in place). Reads of many essays go in chunks, so no statement carries more
parameters than a database accepts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ras_server.domain.phases import PhaseRecord, PhaseStatus
from service_core.db import TransactionalStore, newest_first

CHUNK = 1000
metadata = sa.MetaData()
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
batches = sa.Table(
    "ras_batches",
    metadata,
    sa.Column("batch_id", sa.String(128), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("assignment_id", sa.String(128), nullable=False),
    sa.Column("course_code", sa.String(64), nullable=False),
    sa.Column("class_id", sa.String(128), nullable=False, default=""),
    sa.Column("org_id", sa.String(128), nullable=False, default=""),
    sa.Column("requested_phases", sa.Text, nullable=False),
    sa.Column("state", sa.String(40), nullable=False),
    sa.Column("orchestrator_phase", sa.String(64), nullable=False),
    sa.Column("cj_assessment", sa.String(256), nullable=False),
    sa.Column("cj_reliability", sa.Float, nullable=False),
    sa.Column("cj_event_time", sa.Float),
    sa.Column("cj_event_id", sa.String(256), nullable=False, default=""),
    sa.Column("cj_grade_scale_id", sa.String(128), nullable=False, default=""),
    sa.Column("cj_model", sa.String(256), nullable=False, default=""),
    sa.Column("cj_essay_count", sa.Integer, nullable=False, default=0),
    sa.Column("tally_json", sa.Text),
    sa.Column("first_start", sa.Float),
    sa.Column("last_end", sa.Float),
    sa.Column("ready_at", sa.Float),
    sa.Column("cancelled_at", sa.Float),
    sa.Column("cancel_event", sa.String(256), nullable=False, default=""),
    sa.Column("cancel_reason", sa.Text, nullable=False, default=""),
    sa.Column("pipeline_completed_at", sa.Float),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("processing_started_at", sa.Float),
    sa.Column("processing_completed_at", sa.Float),
    sa.Column("feed_seq", Seq, nullable=False, default=0),
    sa.Column("version", sa.Integer, nullable=False),
)
essays = sa.Table(
    "ras_essays",
    metadata,
    sa.Column("batch_id", sa.String(128), primary_key=True),
    sa.Column("essay_id", sa.String(128), primary_key=True),
    sa.Column("filename", sa.String(512), nullable=False),
    sa.Column("assessment_json", sa.Text),
    sa.Column("assessment_time", sa.Float),
    sa.Column("assessment_event", sa.String(256), nullable=False, default=""),
    sa.Column("updated_at", sa.Float, nullable=False),
)
phases = sa.Table(
    "ras_essay_phases",
    metadata,
    sa.Column("batch_id", sa.String(128), primary_key=True),
    sa.Column("essay_id", sa.String(128), primary_key=True),
    sa.Column("phase", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_time", sa.Float),
    sa.Column("end_time", sa.Float),
    sa.Column("event_time", sa.Float, nullable=False),
    sa.Column("event_id", sa.String(256), nullable=False, default=""),
    sa.Column("authority", sa.Integer, nullable=False, default=1),
    sa.Column("error_json", sa.Text),
)
events = sa.Table(
    "ras_events",
    metadata,
    sa.Column("event_id", sa.String(256), primary_key=True),
    sa.Column("batch_id", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False, default=""),
    sa.Column("received_at", sa.Float, nullable=False),
)
owners = sa.Table(
    "ras_owners",
    metadata,
    sa.Column("owner", sa.String(128), primary_key=True),
    sa.Column("feed_seq", Seq, nullable=False, default=0),
)

Records = dict[str, dict[str, PhaseRecord]]


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def _record(row: Any) -> PhaseRecord:
    return PhaseRecord(
        PhaseStatus(row.status),
        row.start_time,
        row.end_time,
        row.event_time,
        row.event_id,
        row.error_json,
        row.authority,
    )


class RasStore(TransactionalStore):
    # ---- events ----------------------------------------------------------------------------

    async def event(self, connection: AsyncConnection, event_id: str) -> dict[str, Any] | None:
        return await self.first(sa.select(events).where(events.c.event_id == event_id), connection)

    async def claim_event(
        self, connection: AsyncConnection, event_id: str, batch_id: str, kind: str, fingerprint: str, now: float
    ) -> dict[str, Any] | None:
        """Record an event id; when it was recorded before, the original row (nothing is written)."""
        found = await self.event(connection, event_id)
        if found is not None:
            return found
        row = {"event_id": event_id, "batch_id": batch_id, "kind": kind, "fingerprint": fingerprint}
        if not await self._insert_once(connection, events.insert(), row | {"received_at": now}):
            return await self.event(connection, event_id)  # a concurrent twin committed first
        return None

    async def _insert_once(self, connection: AsyncConnection, insert: Any, row: dict[str, Any]) -> bool:
        """Insert a row whose key a concurrent transaction may have taken; False when it had.
        On SQLite the process's write lock already serialises writers, and a SAVEPOINT there
        would commit the outer transaction's work early (pysqlite starts no transaction before
        the first write), so the insert runs plainly."""
        if self.sqlite:
            await connection.execute(insert, [row])
            return True
        try:
            async with connection.begin_nested():
                await connection.execute(insert, [row])
        except IntegrityError:
            return False
        return True

    # ---- batches ---------------------------------------------------------------------------

    async def batch(self, batch_id: str, connection: AsyncConnection | None = None, lock: bool = False) -> dict | None:
        return await self.first(sa.select(batches).where(batches.c.batch_id == batch_id), connection, lock)

    async def insert_batch(self, connection: AsyncConnection, row: dict[str, Any], essay_rows: Sequence[dict]) -> bool:
        """False when a concurrent registration of the same batch id committed first."""
        if not await self._insert_once(connection, batches.insert(), row):
            return False
        for start in range(0, len(essay_rows), CHUNK):
            await connection.execute(essays.insert(), list(essay_rows[start : start + CHUNK]))
        return True

    async def update_batch(self, connection: AsyncConnection, batch_id: str, **values: Any) -> None:
        await connection.execute(
            batches.update().where(batches.c.batch_id == batch_id).values(**values, version=batches.c.version + 1)
        )

    async def next_feed_seq(self, connection: AsyncConnection, owner: str) -> int:
        """The owner's next feed position. The owner's row lock orders the feed: a later position
        is only handed out after the earlier one's transaction ended."""
        statement = (
            owners.update()
            .where(owners.c.owner == owner)
            .values(feed_seq=owners.c.feed_seq + 1)
            .returning(owners.c.feed_seq)
        )
        found = (await connection.execute(statement)).first()
        if found is not None:
            return int(found[0])
        if await self._insert_once(connection, owners.insert(), {"owner": owner, "feed_seq": 1}):
            return 1
        return int((await connection.execute(statement)).scalar_one())

    # ---- essays and phase records ----------------------------------------------------------

    async def essays(self, batch_id: str, connection: AsyncConnection | None = None) -> list[dict]:
        select = sa.select(essays).where(essays.c.batch_id == batch_id).order_by(essays.c.essay_id)
        return [dict(r._mapping) for r in await self.rows(select, connection)]

    async def essays_by_id(self, connection: AsyncConnection, batch_id: str, ids: Sequence[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for chunk in _chunks(ids):
            select = sa.select(essays).where(essays.c.batch_id == batch_id, essays.c.essay_id.in_(chunk))
            found.update({r.essay_id: dict(r._mapping) for r in (await connection.execute(select)).all()})
        return found

    async def records(
        self, batch_id: str, essay_ids: Sequence[str] | None = None, connection: AsyncConnection | None = None
    ) -> Records:
        records: Records = {}
        selects = [sa.select(phases).where(phases.c.batch_id == batch_id)]
        if essay_ids is not None:
            selects = [selects[0].where(phases.c.essay_id.in_(chunk)) for chunk in _chunks(essay_ids)]
        for select in selects:
            for row in await self.rows(select, connection):
                records.setdefault(row.essay_id, {})[row.phase] = _record(row)
        return records

    async def put_record(
        self, connection: AsyncConnection, batch_id: str, essay_id: str, phase: str, record: PhaseRecord, exists: bool
    ) -> None:
        values = {
            "status": record.status.value,
            "start_time": record.start_time,
            "end_time": record.end_time,
            "event_time": record.event_time,
            "event_id": record.event_id,
            "authority": record.authority,
            "error_json": record.error,
        }
        if exists:
            where = (phases.c.batch_id == batch_id, phases.c.essay_id == essay_id, phases.c.phase == phase)
            await connection.execute(phases.update().where(*where).values(**values))
        else:
            row = {"batch_id": batch_id, "essay_id": essay_id, "phase": phase, **values}
            await connection.execute(phases.insert(), [row])

    async def put_assessment(
        self, connection: AsyncConnection, batch_id: str, essay_id: str, values: dict[str, Any]
    ) -> None:
        await connection.execute(
            essays.update().where(essays.c.batch_id == batch_id, essays.c.essay_id == essay_id).values(**values)
        )

    # ---- queries ---------------------------------------------------------------------------

    def _where(self, owner: str, states: Sequence[str], class_id: str, org_id: str) -> list[Any]:
        b = batches.c
        where = [column == value for column, value in ((b.owner, owner), (b.class_id, class_id), (b.org_id, org_id))]
        where = [clause for clause, value in zip(where, (owner, class_id, org_id), strict=True) if value]
        if states:
            where.append(b.state.in_(list(states)))
        return where

    async def list_batches(
        self,
        *,
        owner: str,
        states: Sequence[str],
        class_id: str,
        org_id: str,
        limit: int,
        after: tuple[float, str] | None,
    ) -> tuple[list[dict], int]:
        b = batches.c
        where = self._where(owner, states, class_id, org_id)
        select = newest_first(sa.select(batches).where(*where), b.created_at, b.batch_id, after)
        async with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in (await connection.execute(select.limit(limit))).all()]
            total = await connection.execute(sa.select(sa.func.count()).select_from(batches).where(*where))
            return rows, total.scalar_one()

    async def feed(self, owner: str, after: int, limit: int) -> list[dict]:
        """The owner's batches changed after feed position `after`, oldest change first."""
        b = batches.c
        select = sa.select(batches).where(b.owner == owner, b.feed_seq > after).order_by(b.feed_seq).limit(limit)
        return [dict(r._mapping) for r in await self.rows(select)]

    async def counts_by_state(self) -> dict[str, int]:
        select = sa.select(batches.c.state, sa.func.count()).group_by(batches.c.state)
        return {state: int(n) for state, n in await self.rows(select)}


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
