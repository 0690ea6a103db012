"""RAS persistence. Every ingest event is applied in one transaction together with
its event id, so a repeated event changes nothing; each JSON-like value is written
whole (never mutated in place), so nothing is lost on update."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ras_server.domain.status import PhaseRecord, PhaseStatus
from service_core.db import TransactionalStore

metadata = sa.MetaData()
batches = sa.Table(
    "ras_batches",
    metadata,
    sa.Column("batch_id", sa.String(128), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("assignment_id", sa.String(128), nullable=False),
    sa.Column("course_code", sa.String(64), nullable=False),
    sa.Column("requested_phases", sa.Text, nullable=False),
    sa.Column("state", sa.String(40), nullable=False),
    sa.Column("orchestrator_phase", sa.String(64), nullable=False),
    sa.Column("cj_assessment", sa.String(128), nullable=False),
    sa.Column("cj_reliability", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("processing_started_at", sa.Float),
    sa.Column("processing_completed_at", sa.Float),
    sa.Column("version", sa.Integer, nullable=False),
)
essays = sa.Table(
    "ras_essays",
    metadata,
    sa.Column("batch_id", sa.String(128), primary_key=True),
    sa.Column("essay_id", sa.String(128), primary_key=True),
    sa.Column("filename", sa.String(512), nullable=False),
    sa.Column("assessment_json", sa.Text),
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
    sa.Column("error_json", sa.Text),
)
events = sa.Table(
    "ras_events",
    metadata,
    sa.Column("event_id", sa.String(256), primary_key=True),
    sa.Column("batch_id", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
)


class RasStore(TransactionalStore):
    async def claim_event(
        self, connection: AsyncConnection, event_id: str, batch_id: str, kind: str, now: float
    ) -> bool:
        """Record an event id; False when it was seen before (the caller then does nothing)."""
        if (await connection.execute(sa.select(events.c.event_id).where(events.c.event_id == event_id))).first():
            return False
        try:
            async with connection.begin_nested():
                await connection.execute(
                    events.insert(), [{"event_id": event_id, "batch_id": batch_id, "kind": kind, "received_at": now}]
                )
        except IntegrityError:
            return False
        return True

    async def batch(self, batch_id: str, connection: AsyncConnection | None = None, lock: bool = False) -> dict | None:
        return await self.first(sa.select(batches).where(batches.c.batch_id == batch_id), connection, lock)

    async def insert_batch(self, connection: AsyncConnection, row: dict[str, Any], essay_rows: Sequence[dict]) -> None:
        await connection.execute(batches.insert(), [row])
        if essay_rows:
            await connection.execute(essays.insert(), list(essay_rows))

    async def update_batch(self, connection: AsyncConnection, batch_id: str, **values: Any) -> None:
        await connection.execute(
            batches.update().where(batches.c.batch_id == batch_id).values(**values, version=batches.c.version + 1)
        )

    async def essays(self, batch_id: str, connection: AsyncConnection | None = None) -> list[dict]:
        select = sa.select(essays).where(essays.c.batch_id == batch_id).order_by(essays.c.essay_id)
        return [dict(r._mapping) for r in await self.rows(select, connection)]

    async def phase_records(
        self, batch_id: str, connection: AsyncConnection | None = None
    ) -> dict[str, dict[str, tuple[PhaseRecord, str | None]]]:
        select = sa.select(phases).where(phases.c.batch_id == batch_id)
        rows = await self.rows(select, connection)
        records: dict[str, dict[str, tuple[PhaseRecord, str | None]]] = {}
        for r in rows:
            records.setdefault(r.essay_id, {})[r.phase] = (
                PhaseRecord(PhaseStatus(r.status), r.start_time, r.end_time, r.event_time),
                r.error_json,
            )
        return records

    async def put_phase(
        self,
        connection: AsyncConnection,
        batch_id: str,
        essay_id: str,
        phase: str,
        record: PhaseRecord,
        error: dict | None,
        exists: bool,
    ) -> None:
        values = {
            "status": record.status.value,
            "start_time": record.start_time,
            "end_time": record.end_time,
            "event_time": record.event_time,
        }
        if error is not None or not exists:  # an outcome without an error keeps the one already recorded
            values["error_json"] = json.dumps(error) if error else None
        if exists:
            await connection.execute(
                phases.update()
                .where(phases.c.batch_id == batch_id, phases.c.essay_id == essay_id, phases.c.phase == phase)
                .values(**values)
            )
        else:
            await connection.execute(
                phases.insert(), [{"batch_id": batch_id, "essay_id": essay_id, "phase": phase, **values}]
            )

    async def put_assessment(
        self, connection: AsyncConnection, batch_id: str, essay_id: str, assessment: dict[str, Any], now: float
    ) -> None:
        await connection.execute(
            essays.update()
            .where(essays.c.batch_id == batch_id, essays.c.essay_id == essay_id)
            .values(assessment_json=json.dumps(assessment, sort_keys=True), updated_at=now)
        )

    async def list_batches(
        self, *, owner: str, states: Sequence[str], limit: int, after: tuple[float, str] | None
    ) -> tuple[list[dict], int]:
        b = batches.c
        where = []
        if owner:
            where.append(b.owner == owner)
        if states:
            where.append(b.state.in_(list(states)))
        select = sa.select(batches).where(*where).order_by(b.created_at.desc(), b.batch_id.desc())
        if after is not None:
            select = select.where(
                sa.or_(b.created_at < after[0], sa.and_(b.created_at == after[0], b.batch_id < after[1]))
            )
        async with self.engine.connect() as connection:
            rows = [dict(r._mapping) for r in (await connection.execute(select.limit(limit))).all()]
            total = await connection.execute(sa.select(sa.func.count()).select_from(batches).where(*where))
            return rows, total.scalar_one()
