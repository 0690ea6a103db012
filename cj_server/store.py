"""CJ persistence: assessments, items, comparisons, the per-assessment event log, the
outbox to RAS, and stored anchors.

State changes of one assessment happen under its row lock (`FOR UPDATE` on
PostgreSQL; one writer at a time on SQLite), and a finalization writes the result,
its events and its outbox row in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from cj_server.domain.validation import ValidItem as Item
from service_core.db import TransactionalStore, newest_first
from service_core.errors import AlreadyExists
from service_core.idempotency import create_once

metadata = sa.MetaData()
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

assessments = sa.Table(
    "cj_assessments",
    metadata,
    sa.Column("assessment_id", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(128), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("llm_batching_mode", sa.String(32), nullable=False),
    sa.Column("batching_note", sa.Text, nullable=False),
    sa.Column("budget", sa.Integer, nullable=False),
    sa.Column("target_reliability", sa.Float, nullable=False),
    sa.Column("waves", sa.Integer, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("reliability", sa.Float, nullable=False),
    sa.Column("error_json", sa.Text),
    sa.Column("result_json", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),
    # The replica advancing the assessment, until its lease expires (renewed while it runs).
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_expires_at", sa.Float),
    # Results applied so far; their sum numbers each applied result (`result_seq`).
    sa.Column("succeeded_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed_count", sa.Integer, nullable=False, server_default="0"),
)
items = sa.Table(
    "cj_items",
    metadata,
    sa.Column("assessment_id", sa.String(64), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("essay_id", sa.String(128), nullable=False),
    sa.Column("is_anchor", sa.Boolean, nullable=False),
    sa.Column("anchor_grade", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)
comparisons = sa.Table(
    "cj_comparisons",
    metadata,
    sa.Column("comparison_id", sa.String(96), primary_key=True),
    sa.Column("assessment_id", sa.String(64), nullable=False),
    sa.Column("first_idx", sa.Integer, nullable=False),
    sa.Column("second_idx", sa.Integer, nullable=False),
    sa.Column("wave", sa.Integer, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("first_won", sa.Boolean),
    sa.Column("confidence", sa.Float),
    sa.Column("justification", sa.Text),
    sa.Column("error_json", sa.Text),
    sa.Column("provider", sa.String(16)),
    sa.Column("model", sa.String(128)),
    sa.Column("cost_usd", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("deadline_at", sa.Float, nullable=False),
    sa.Column("completed_at", sa.Float),
    sa.Column("result_seq", sa.Integer),
    sa.Column("sent", sa.Boolean, nullable=False, server_default=sa.true()),
)
events = sa.Table(
    "cj_events",
    metadata,
    sa.Column("assessment_id", sa.String(64), primary_key=True),
    sa.Column("sequence", sa.Integer, primary_key=True),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("final", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
outbox = sa.Table(
    "cj_outbox",
    metadata,
    sa.Column("outbox_id", BIG_ID, primary_key=True, autoincrement=True),
    sa.Column("assessment_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("event_id", sa.String(128), nullable=False, unique=True),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("delivered_at", sa.Float),
    sa.Column("last_error", sa.Text),
    sa.Column("dead_at", sa.Float),
)
anchors = sa.Table(
    "cj_anchors",
    metadata,
    sa.Column("anchor_id", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(128), nullable=False, unique=True),
    sa.Column("grade_scale_id", sa.String(64), nullable=False),
    sa.Column("grade", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("assignment_id", sa.String(128), nullable=False),
    sa.Column("display_name", sa.String(256), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

PENDING, SUCCEEDED, FAILED, CANCELLED = "pending", "succeeded", "failed", "cancelled"
ACTIVE = ("pending", "running")
ENGINE_COLUMNS = (
    comparisons.c.comparison_id,
    comparisons.c.first_idx,
    comparisons.c.second_idx,
    comparisons.c.status,
    comparisons.c.first_won,
    comparisons.c.result_seq,
    comparisons.c.sent,
)


@dataclass(frozen=True)
class Applied:
    """A result that changed a pending comparison, with what its judgement event needs."""

    comparison_id: str
    first_idx: int
    second_idx: int
    wave: int
    attempt: int
    status: str


class Conflict(Exception):
    """The row exists already (a concurrent create with the same key)."""


class CjStore(TransactionalStore):
    # ---- assessments ---------------------------------------------------------------------

    async def find_by_request_id(self, request_id: str) -> dict[str, Any] | None:
        return await self.first(sa.select(assessments).where(assessments.c.request_id == request_id))

    async def get(
        self, assessment_id: str, connection: AsyncConnection | None = None, lock: bool = False
    ) -> dict[str, Any] | None:
        return await self.first(
            sa.select(assessments).where(assessments.c.assessment_id == assessment_id), connection, lock
        )

    async def insert(self, connection: AsyncConnection, row: dict[str, Any], item_rows: Sequence[Item]) -> None:
        try:
            await connection.execute(assessments.insert(), [row])
        except sa.exc.IntegrityError as error:
            raise Conflict(row["request_id"]) from error
        await connection.execute(
            items.insert(),
            [
                {
                    "assessment_id": row["assessment_id"],
                    "idx": i.idx,
                    "essay_id": i.essay_id,
                    "is_anchor": i.is_anchor,
                    "anchor_grade": i.anchor_grade,
                    "text": i.text,
                }
                for i in item_rows
            ],
        )

    async def update(self, connection: AsyncConnection, assessment_id: str, **values: Any) -> None:
        await connection.execute(
            assessments.update().where(assessments.c.assessment_id == assessment_id).values(**values)
        )

    async def list_assessments(
        self, *, limit: int, after: tuple[float, str] | None, states: Sequence[str]
    ) -> list[dict[str, Any]]:
        a = assessments.c
        select = newest_first(sa.select(assessments), a.created_at, a.assessment_id, after).limit(limit)
        if states:
            select = select.where(a.state.in_(list(states)))
        async with self.engine.connect() as connection:
            return [dict(row._mapping) for row in (await connection.execute(select)).all()]

    async def listing_counts(self, assessment_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Essays and anchors of a page of assessments, in one grouped query (their progress
        comes from the counters on the assessment rows)."""
        counts: dict[str, dict[str, int]] = {i: {"essays": 0, "anchors": 0} for i in assessment_ids}
        if not assessment_ids:
            return counts
        by_kind = (
            sa.select(items.c.assessment_id, items.c.is_anchor, sa.func.count())
            .where(items.c.assessment_id.in_(list(assessment_ids)))
            .group_by(items.c.assessment_id, items.c.is_anchor)
        )
        for assessment_id, is_anchor, count in await self.rows(by_kind):
            counts[assessment_id]["anchors" if is_anchor else "essays"] = count
        return counts

    async def dead_outbox(self, assessment_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Outbox rows RAS refused permanently, per assessment: how many, and the last error."""
        if not assessment_ids:
            return {}
        o = outbox.c
        select = (
            sa.select(o.assessment_id, sa.func.count(), sa.func.max(o.outbox_id))
            .where(o.assessment_id.in_(list(assessment_ids)), o.dead_at.is_not(None))
            .group_by(o.assessment_id)
        )
        found = {r[0]: (r[1], r[2]) for r in await self.rows(select)}
        if not found:
            return {}
        errors = await self.rows(
            sa.select(o.outbox_id, o.last_error).where(o.outbox_id.in_([last for _, last in found.values()]))
        )
        by_id = {r.outbox_id: r.last_error or "" for r in errors}
        return {a: (count, by_id.get(last, "")) for a, (count, last) in found.items()}

    async def items(self, assessment_id: str, connection: AsyncConnection | None = None) -> list[Item]:
        select = sa.select(items).where(items.c.assessment_id == assessment_id).order_by(items.c.idx)
        rows = await self.rows(select, connection)
        return [Item(r.idx, r.essay_id, r.is_anchor, r.anchor_grade, r.text) for r in rows]

    # ---- comparisons ---------------------------------------------------------------------

    async def comparisons(self, assessment_id: str, connection: AsyncConnection | None = None) -> list[dict[str, Any]]:
        # A fixed order, so the engine (its split-half draw) sees the same state on every database.
        select = (
            sa.select(comparisons)
            .where(comparisons.c.assessment_id == assessment_id)
            .order_by(comparisons.c.wave, comparisons.c.created_at, comparisons.c.comparison_id)
        )
        rows = await self.rows(select, connection)
        return [dict(r._mapping) for r in rows]

    async def insert_comparisons(self, connection: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await connection.execute(comparisons.insert(), list(rows))

    async def apply_result(self, connection: AsyncConnection, comparison_id: str, **values: Any) -> bool:
        """Record the one outcome of a pending comparison; False when it already had one."""
        result = await connection.execute(
            comparisons.update()
            .where(comparisons.c.comparison_id == comparison_id, comparisons.c.status == PENDING)
            .values(**values)
        )
        return result.rowcount == 1

    async def cancel_pending(self, connection: AsyncConnection, assessment_id: str, now: float) -> None:
        await connection.execute(
            comparisons.update()
            .where(comparisons.c.assessment_id == assessment_id, comparisons.c.status == PENDING)
            .values(status=CANCELLED, completed_at=now)
        )

    async def comparison(self, comparison_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(sa.select(comparisons).where(comparisons.c.comparison_id == comparison_id))
            ).first()
        return dict(row._mapping) if row else None

    async def overdue(self, now: float, owner: str, limit: int = 500) -> list[dict[str, Any]]:
        """Pending comparisons past their deadline, of the assessments `owner` holds."""
        select = (
            sa.select(comparisons)
            .join(assessments, assessments.c.assessment_id == comparisons.c.assessment_id)
            .where(
                comparisons.c.status == PENDING,
                comparisons.c.deadline_at < now,
                assessments.c.lease_owner == owner,
            )
            .limit(limit)
        )
        return [dict(r._mapping) for r in await self.rows(select)]

    async def mark_unsent(self, comparison_id: str) -> None:
        async with self.transaction() as connection:
            await connection.execute(
                comparisons.update().where(comparisons.c.comparison_id == comparison_id).values(sent=False)
            )

    async def model_and_cost(self, connection: AsyncConnection, assessment_id: str) -> tuple[str, str, float]:
        """The provider and model that answered most judgements, and the cost of all of them."""
        c = comparisons.c
        by_model = (
            sa.select(c.provider, c.model, sa.func.count().label("n"))
            .where(c.assessment_id == assessment_id, c.status == SUCCEEDED)
            .group_by(c.provider, c.model)
            .order_by(sa.desc("n"), c.provider, c.model)
            .limit(1)
        )
        found = await self.rows(by_model, connection)
        cost = await self.rows(sa.select(sa.func.sum(c.cost_usd)).where(c.assessment_id == assessment_id), connection)
        provider, model = (found[0].provider, found[0].model) if found else ("", "")
        return provider or "", model or "", float(cost[0][0] or 0.0)

    async def extend_deadline(self, comparison_id: str, deadline: float) -> None:
        async with self.transaction() as connection:
            await connection.execute(
                comparisons.update().where(comparisons.c.comparison_id == comparison_id).values(deadline_at=deadline)
            )

    async def engine_rows(self, assessment_id: str, after_seq: int | None = None) -> list[Any]:
        """What the engine needs of the comparisons: all of them, or those whose result was
        applied after `after_seq` (the incremental read of a replica that already has the rest)."""
        select = sa.select(*ENGINE_COLUMNS).where(comparisons.c.assessment_id == assessment_id)
        if after_seq is not None:
            select = select.where(comparisons.c.result_seq > after_seq)
        return await self.rows(select.order_by(comparisons.c.result_seq, comparisons.c.comparison_id))

    async def apply_results(
        self, connection: AsyncConnection, assessment_id: str, values: dict[str, dict[str, Any]]
    ) -> tuple[dict[str, Any] | None, list[Applied]]:
        """Record the outcome of each still-pending comparison of `values` (comparison id ->
        columns) under the assessment's row lock, numbering them after the results before.
        Duplicates (already answered) and unknown ids are left out of the answer."""
        row = await self.get(assessment_id, connection, lock=True)
        if row is None or not values:
            return row, []
        found = await self.rows(
            sa.select(
                comparisons.c.comparison_id,
                comparisons.c.first_idx,
                comparisons.c.second_idx,
                comparisons.c.wave,
                comparisons.c.attempt,
            ).where(
                comparisons.c.assessment_id == assessment_id,
                comparisons.c.comparison_id.in_(list(values)),
                comparisons.c.status == PENDING,
            ),
            connection,
        )
        seq = row["succeeded_count"] + row["failed_count"]
        applied, updates = [], []
        for r in sorted(found, key=lambda r: r.comparison_id):
            seq += 1
            update = values[r.comparison_id] | {"b_id": r.comparison_id, "result_seq": seq}
            updates.append(update)
            applied.append(Applied(r.comparison_id, r.first_idx, r.second_idx, r.wave, r.attempt, update["status"]))
        if updates:
            columns = [k for k in updates[0] if k != "b_id"]
            await connection.execute(
                comparisons.update()
                .where(comparisons.c.comparison_id == sa.bindparam("b_id"))
                .values({k: sa.bindparam(k) for k in columns}),
                updates,
            )
            succeeded = sum(1 for a in applied if a.status == SUCCEEDED)
            row["succeeded_count"] += succeeded
            row["failed_count"] += len(applied) - succeeded
            await self.update(
                connection,
                assessment_id,
                succeeded_count=row["succeeded_count"],
                failed_count=row["failed_count"],
            )
        return row, applied

    async def essay_ids(
        self, assessment_id: str, indices: Sequence[int], connection: AsyncConnection | None = None
    ) -> dict[int, str]:
        select = sa.select(items.c.idx, items.c.essay_id).where(
            items.c.assessment_id == assessment_id, items.c.idx.in_(sorted(set(indices)))
        )
        return {r.idx: r.essay_id for r in await self.rows(select, connection)}

    async def mark_sent(self, comparison_ids: Sequence[str]) -> None:
        async with self.transaction() as connection:
            for start in range(0, len(comparison_ids), 1000):
                chunk = list(comparison_ids[start : start + 1000])
                await connection.execute(
                    comparisons.update().where(comparisons.c.comparison_id.in_(chunk)).values(sent=True)
                )

    async def unsent(self, assessment_id: str) -> list[dict[str, Any]]:
        select = sa.select(comparisons).where(
            comparisons.c.assessment_id == assessment_id,
            comparisons.c.status == PENDING,
            comparisons.c.sent.is_(False),
        )
        return [dict(r._mapping) for r in await self.rows(select.order_by(comparisons.c.comparison_id))]

    async def comparison_rows(self, assessment_id: str, comparison_ids: Sequence[str]) -> list[dict[str, Any]]:
        select = sa.select(comparisons).where(
            comparisons.c.assessment_id == assessment_id, comparisons.c.comparison_id.in_(list(comparison_ids))
        )
        return [dict(r._mapping) for r in await self.rows(select)]

    # ---- leases --------------------------------------------------------------------------

    async def claim(self, owner: str, now: float, lease_seconds: float, limit: int) -> list[str]:
        """Take or renew leases on active assessments: free ones, expired ones and this owner's.
        On PostgreSQL rows another replica is claiming right now are skipped, not waited for."""
        a = assessments.c
        select = (
            sa.select(a.assessment_id)
            .where(
                a.state.in_(ACTIVE),
                sa.or_(a.lease_owner.is_(None), a.lease_owner == owner, a.lease_expires_at < now),
            )
            .order_by(sa.case((a.lease_owner == owner, 0), else_=1), a.created_at)
            .limit(limit)
        )
        if not self.sqlite:
            select = select.with_for_update(skip_locked=True, of=assessments)
        async with self.transaction() as connection:
            ids = list((await connection.execute(select)).scalars())
            if ids:
                await connection.execute(
                    assessments.update()
                    .where(a.assessment_id.in_(ids))
                    .values(lease_owner=owner, lease_expires_at=now + lease_seconds)
                )
        return ids

    async def release(self, owner: str) -> None:
        async with self.transaction() as connection:
            await connection.execute(
                assessments.update()
                .where(assessments.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    async def held(self, owner: str, assessment_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The change counters of this owner's leased assessments (one query per poll)."""
        a = assessments.c
        select = sa.select(a.assessment_id, a.state, a.attempts, a.succeeded_count, a.failed_count).where(
            a.assessment_id.in_(list(assessment_ids)), a.lease_owner == owner
        )
        return [dict(r._mapping) for r in await self.rows(select)]

    # ---- events and outbox ---------------------------------------------------------------

    async def append_events(
        self, connection: AsyncConnection, assessment_id: str, payloads: Sequence[tuple[bytes, bool]], now: float
    ) -> None:
        last = (
            await connection.execute(
                sa.select(sa.func.max(events.c.sequence)).where(events.c.assessment_id == assessment_id)
            )
        ).scalar_one() or 0
        await connection.execute(
            events.insert(),
            [
                {
                    "assessment_id": assessment_id,
                    "sequence": last + i + 1,
                    "payload": payload,
                    "final": final,
                    "created_at": now,
                }
                for i, (payload, final) in enumerate(payloads)
            ],
        )

    async def events_after(self, assessment_id: str, after: int) -> list[tuple[int, bytes, bool]]:
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(events.c.sequence, events.c.payload, events.c.final)
                    .where(events.c.assessment_id == assessment_id, events.c.sequence > after)
                    .order_by(events.c.sequence)
                )
            ).all()
        return [(r.sequence, r.payload, r.final) for r in rows]

    async def add_outbox(
        self, connection: AsyncConnection, assessment_id: str, kind: str, event_id: str, payload: bytes, now: float
    ) -> None:
        await connection.execute(
            outbox.insert(),
            [
                {
                    "assessment_id": assessment_id,
                    "kind": kind,
                    "event_id": event_id,
                    "payload": payload,
                    "created_at": now,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "delivered_at": None,
                    "last_error": None,
                }
            ],
        )

    async def due_outbox(self, now: float, limit: int = 50) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(outbox)
                    .where(outbox.c.delivered_at.is_(None), outbox.c.dead_at.is_(None), outbox.c.next_attempt_at <= now)
                    .order_by(outbox.c.outbox_id)
                    .limit(limit)
                )
            ).all()
        return [dict(r._mapping) for r in rows]

    async def outbox_rows(self, assessment_id: str) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(outbox).where(outbox.c.assessment_id == assessment_id).order_by(outbox.c.outbox_id)
                )
            ).all()
        return [dict(r._mapping) for r in rows]

    async def mark_outbox(
        self,
        outbox_id: int,
        *,
        delivered_at: float | None,
        next_attempt_at: float,
        error: str | None,
        dead_at: float | None = None,
    ) -> None:
        async with self.transaction() as connection:
            await connection.execute(
                outbox.update()
                .where(outbox.c.outbox_id == outbox_id)
                .values(
                    delivered_at=delivered_at,
                    next_attempt_at=next_attempt_at,
                    last_error=error,
                    dead_at=dead_at,
                    attempts=outbox.c.attempts + 1,
                )
            )

    # ---- retention -----------------------------------------------------------------------

    async def prune(self, cutoff: float, limit: int = 10_000) -> tuple[int, int]:
        """Retention: the non-final events of assessments that ended before `cutoff` and outbox
        rows delivered before it, at most `limit` of each per call; (events, outbox rows) deleted."""
        async with self.transaction() as connection:
            ended = (
                sa.select(assessments.c.assessment_id)
                .where(assessments.c.ended_at.is_not(None), assessments.c.ended_at < cutoff)
                .scalar_subquery()
            )
            doomed = (
                sa.select(events.c.assessment_id, events.c.sequence)
                .where(events.c.assessment_id.in_(ended), events.c.final.is_(False))
                .limit(limit)
            )
            keys = (await connection.execute(doomed)).all()
            for assessment_id in {key.assessment_id for key in keys}:
                sequences = [key.sequence for key in keys if key.assessment_id == assessment_id]
                await connection.execute(
                    sa.delete(events).where(events.c.assessment_id == assessment_id, events.c.sequence.in_(sequences))
                )
            delivered = (
                (
                    await connection.execute(
                        sa.select(outbox.c.outbox_id)
                        .where(outbox.c.delivered_at.is_not(None), outbox.c.delivered_at < cutoff)
                        .limit(limit)
                    )
                )
                .scalars()
                .all()
            )
            if delivered:
                await connection.execute(sa.delete(outbox).where(outbox.c.outbox_id.in_(delivered)))
        return len(keys), len(delivered)

    # ---- anchors -------------------------------------------------------------------------

    async def create_anchor(self, row: dict[str, Any]) -> dict[str, Any]:
        """Idempotent by request_id, also under concurrent repeats: every caller gets the original."""

        async def insert() -> dict[str, Any]:
            async with self.transaction() as connection:
                await connection.execute(anchors.insert(), [row])
            return row

        anchor, _created = await create_once(
            lambda: self._anchor_by_request(row["request_id"]),
            insert,
            matches=lambda _existing: True,
            conflict=lambda existing: AlreadyExists(f"request_id names anchor {existing['anchor_id']}"),
        )
        return anchor

    async def _anchor_by_request(self, request_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as connection:
            found = (await connection.execute(sa.select(anchors).where(anchors.c.request_id == request_id))).first()
        return dict(found._mapping) if found else None

    async def anchors_by_id(self, anchor_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(sa.select(anchors).where(anchors.c.anchor_id.in_(list(anchor_ids))))).all()
        return {r.anchor_id: dict(r._mapping) for r in rows}

    async def list_anchors(
        self, *, limit: int, offset: int, grade_scale_id: str, assignment_id: str
    ) -> list[dict[str, Any]]:
        select = sa.select(anchors).order_by(anchors.c.created_at, anchors.c.anchor_id).offset(offset).limit(limit)
        if grade_scale_id:
            select = select.where(anchors.c.grade_scale_id == grade_scale_id)
        if assignment_id:
            select = select.where(anchors.c.assignment_id == assignment_id)
        async with self.engine.connect() as connection:
            return [dict(r._mapping) for r in (await connection.execute(select)).all()]


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
