"""LPS persistence: the request queue, the result log and provider batch jobs.

Claims are atomic: `UPDATE ... WHERE request_id IN (SELECT ... FOR UPDATE SKIP
LOCKED) RETURNING` on PostgreSQL, so replicas never run one request twice; on
SQLite (one process) writes are serialised by a lock. Each request gets exactly
one row in `lps_results` (unique request_id); writers that lost their claim
record nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from llm_provider_server.domain.batch_job import JobRecord, JobState, RequestCounts, VendorPart
from llm_provider_server.domain.bundling import bundle_key
from llm_provider_server.domain.model import (
    Acceptance,
    BatchingHint,
    ComparisonSpec,
    Outcome,
    Overrides,
    Provider,
    RequestStatus,
    ResultError,
    ResultRecord,
    StoredRequest,
    TokenUsage,
    Winner,
)
from service_core.db import TransactionalStore, newest_first
from service_core.errors import AlreadyExists, InvariantBroken, ResourceExhausted

metadata = sa.MetaData()
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

requests_table = sa.Table(
    "lps_requests",
    metadata,
    sa.Column("request_id", sa.String(128), primary_key=True),
    sa.Column("consumer", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("provider", sa.String(16), nullable=False),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("bundle_key", sa.String(64), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("expire_at", sa.Float, nullable=False),
    sa.Column("not_before", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("lease_until", sa.Float),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("batch_job_id", sa.String(64)),
    sa.Column("batch_index", sa.Integer),
    sa.Column("last_error", sa.Text),
    # The essays, out of spec_json (migration 0005; NULL for requests written before it).
    sa.Column("essay_a", sa.Text),
    sa.Column("essay_b", sa.Text),
)

results_table = sa.Table(
    "lps_results",
    metadata,
    sa.Column("sequence", BIG_ID, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(128), nullable=False, unique=True),
    sa.Column("consumer", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("result_json", sa.Text, nullable=False),
    sa.Column("completed_at", sa.Float, nullable=False),
    sa.Column("acked_at", sa.Float),
    sa.Column("leased_to", sa.String(64)),
    sa.Column("lease_until", sa.Float),
    sa.Column("deliveries", sa.Integer, nullable=False),
)

jobs_table = sa.Table(
    "lps_batch_jobs",
    metadata,
    sa.Column("job_id", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(128), unique=True),
    sa.Column("provider", sa.String(16), nullable=False),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("provider_job_id", sa.String(128)),
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("counts_json", sa.Text, nullable=False),
    sa.Column("error_json", sa.Text),
    sa.Column("cost_usd", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("submitted_at", sa.Float),
    sa.Column("in_progress_at", sa.Float),
    sa.Column("finalizing_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    sa.Column("expire_at", sa.Float),
    sa.Column("cancel_at", sa.Float),
    sa.Column("cancel_sent_at", sa.Float),
    sa.Column("next_poll_at", sa.Float, nullable=False),
    sa.Column("poller", sa.String(64)),
    sa.Column("poll_lease_until", sa.Float),
    # Polls of this job that failed in a row (reset by one that succeeds): the retry backoff's attempt.
    sa.Column("poll_failures", sa.Integer, nullable=False, server_default="0"),
)

vendor_jobs_table = sa.Table(
    "lps_vendor_jobs",
    metadata,
    sa.Column("job_id", sa.String(64), primary_key=True),
    sa.Column("part", sa.Integer, primary_key=True),
    sa.Column("first_index", sa.Integer, nullable=False),
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("counts_json", sa.Text, nullable=False),
    sa.Column("provider_job_id", sa.String(128)),
    sa.Column("submitted_at", sa.Float),
    sa.Column("cancel_sent_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    sa.Column("error_json", sa.Text),
    # Its requests' prompts, estimated (what OpenAI's enqueued-token limit counts).
    sa.Column("estimated_tokens", sa.Integer, nullable=False, server_default="0"),
)

ACTIVE = (RequestStatus.QUEUED.value, RequestStatus.PROCESSING.value)
# Literal (not bound) status terms: a partial index is used only when the query names its predicate.
QUEUED_LITERAL = sa.text("lps_requests.status = 'queued'")
PROCESSING_LITERAL = sa.text("lps_requests.status = 'processing'")
ACTIVE_LITERAL = sa.text("lps_requests.status IN ('queued', 'processing')")


class NotAnIndexTerm(ColumnElement):
    """`+column` on SQLite: the documented way to keep its planner from choosing an index by this
    term (without statistics it would search the expiry or batch-job index and then sort); the
    claim indexes then serve the ORDER BY. Other databases get the column unchanged."""

    inherit_cache = True
    # The wrapped column is part of the statement's cache key: without it SQLAlchemy cannot key
    # the statement and compiles it again on every execution.
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: sa.Column) -> None:
        self.column = column
        self.type = column.type


@compiles(NotAnIndexTerm)
def _plain(element: NotAnIndexTerm, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(NotAnIndexTerm, "sqlite")
def _unary_plus(element: NotAnIndexTerm, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


def not_an_index_term(column: Any) -> Any:
    return NotAnIndexTerm(column)


# Key of the PostgreSQL advisory lock that serialises capacity checks of concurrent submits.
CAPACITY_LOCK_KEY = 0x4C505351  # "LPSQ"


# ---- serialisation of domain records ---------------------------------------------------------


def _shallow(record: Any) -> dict[str, Any]:
    # dataclasses.asdict deep-copies every value; these records hold only JSON values one level down.
    return dict(record.__dict__)


# One encoder for every record (json.dumps with options builds a new one per call).
_encode = json.JSONEncoder(sort_keys=True).encode


def spec_to_json(spec: ComparisonSpec) -> str:
    """The spec but for its essays, which are stored in columns of their own (see `spec_from_row`)."""
    data = _shallow(spec)
    del data["essay_a"], data["essay_b"]
    data["overrides"] = _shallow(spec.overrides)
    return _encode(data)


def _member(members: dict[str, E], kind: type[E], value: str) -> E:
    """`kind(value)` by a dict lookup (an enum call costs a Python-level lookup chain)."""
    found = members.get(value)
    return found if found is not None else kind(value)


E = TypeVar("E", bound=Enum)
_PROVIDERS = {member.value: member for member in Provider}
_HINTS = {member.value: member for member in BatchingHint}
_OUTCOMES = {member.value: member for member in Outcome}
_WINNERS = {member.value: member for member in Winner}


# The columns a spec is read back from, in the order `spec_from_row` takes them.
def spec_columns() -> tuple[sa.Column, sa.Column, sa.Column]:
    r = requests_table.c
    return r.spec_json, r.essay_a, r.essay_b


def spec_from_row(row: Any) -> ComparisonSpec:
    """A stored spec: spec_json and the essay columns (requests stored before migration 0005
    have their essays inside spec_json and NULL columns)."""
    if row.essay_a is None:
        return spec_from_json(row.spec_json)
    return spec_from_json(row.spec_json, row.essay_a, row.essay_b)


def spec_from_json(raw: str, essay_a: str | None = None, essay_b: str | None = None) -> ComparisonSpec:
    data = json.loads(raw)
    if essay_a is not None:
        data["essay_a"], data["essay_b"] = essay_a, essay_b
    overrides = data.pop("overrides")
    provider = overrides.pop("provider")
    data["batching_hint"] = _member(_HINTS, BatchingHint, data["batching_hint"])
    overrides["provider"] = _member(_PROVIDERS, Provider, provider) if provider else None
    return ComparisonSpec(**data, overrides=Overrides(**overrides))


def result_to_json(result: ResultRecord) -> str:
    data = _shallow(result)
    data.pop("sequence")
    data["usage"] = _shallow(result.usage)
    data["error"] = _shallow(result.error) if result.error is not None else None
    return _encode(data)


def result_from_json(raw: str, sequence: int) -> ResultRecord:
    data = json.loads(raw)
    error, winner = data["error"], data["winner"]
    data["outcome"] = _member(_OUTCOMES, Outcome, data["outcome"])
    data["provider"] = _member(_PROVIDERS, Provider, data["provider"])
    data["winner"] = _member(_WINNERS, Winner, winner) if winner else None
    data["usage"] = TokenUsage(**data["usage"])
    data["error"] = ResultError(**error) if error else None
    return ResultRecord(**data, sequence=sequence)


@dataclass(frozen=True)
class NewRequest:
    """A validated spec with its provider and model resolved."""

    spec: ComparisonSpec
    provider: Provider
    model: str


@dataclass(frozen=True)
class ClaimedRequest:
    spec: ComparisonSpec
    provider: Provider
    model: str
    created_at: float
    attempts: int  # including this attempt
    batch_job_id: str | None = None


@dataclass(frozen=True)
class Retry:
    """A claimed request to put back in the queue until `not_before`; `fallback` is its result
    should it have been cancelled meanwhile."""

    request_id: str
    not_before: float
    error: str
    fallback: ResultRecord
    counted: bool = True  # False: no provider call was made, so the claim gives its attempt back


class LpsStore(TransactionalStore):
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        default_ttl_seconds: float,
        capacity: int,
        queue_full_retry_seconds: float = 5.0,
        max_attempts: int = 4,
    ):
        super().__init__(engine)
        self.default_ttl_seconds = default_ttl_seconds
        self.capacity = capacity
        self.queue_full_retry_seconds = queue_full_retry_seconds
        self.max_attempts = max_attempts

    def _locked(self, select: sa.Select) -> sa.Select:
        return select if self.sqlite else select.with_for_update(skip_locked=True)

    def among(self, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
        """`column IN values`. On PostgreSQL one array parameter (`= ANY`): SQLAlchemy renders an
        expanded IN list again on every execution, a bind and a cast per value (1,000 for a
        submit), and each length is a statement of its own to prepare. SQLite expands the list."""
        if self.sqlite:
            return column.in_(list(values))
        return column == sa.any_(sa.literal(list(values), postgresql.ARRAY(column.type)))

    async def active_count(self, connection: AsyncConnection) -> int:
        """Requests queued or running (what the capacity bounds), counted from the index of active rows."""
        select = sa.select(sa.func.count()).select_from(requests_table).where(ACTIVE_LITERAL)
        return (await connection.execute(select)).scalar_one()

    async def lock_capacity(self, connection: AsyncConnection) -> None:
        """Serialise capacity checks until this transaction ends. On PostgreSQL two submits that
        count the active requests at once would both see room (READ COMMITTED) and together overfill
        the queue; the advisory lock makes the second count wait for the first insert. SQLite's
        transactions already run one at a time."""
        if not self.sqlite:
            await connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CAPACITY_LOCK_KEY})

    # ---- submission ----------------------------------------------------------------------

    async def submit(self, new: Sequence[NewRequest], now: float) -> list[Acceptance]:
        """Persist requests before answering. Known request ids return their original
        acceptance; when the queue cannot take all new requests, none is accepted."""
        ids = [item.spec.request_id for item in new]
        async with self.transaction() as connection:
            await self.lock_capacity(connection)
            existing = {
                row.request_id: row
                for row in (
                    await connection.execute(
                        sa.select(
                            requests_table.c.request_id, requests_table.c.status, requests_table.c.created_at
                        ).where(self.among(requests_table.c.request_id, ids))
                    )
                ).all()
            }
            fresh = [item for item in new if item.spec.request_id not in existing]
            active = await self.active_count(connection)
            if fresh and active + len(fresh) > self.capacity:
                raise ResourceExhausted(
                    f"queue is full ({active} of {self.capacity} requests active); nothing from this call was accepted",
                    retry_after_seconds=self.queue_full_retry_seconds,
                    reason="QUEUE_FULL",
                    metadata={"capacity": str(self.capacity), "active": str(active)},
                )
            if fresh:
                await connection.execute(requests_table.insert(), [self._row(item, now) for item in fresh])
        acceptances = []
        position = active
        for item in new:
            if (row := existing.get(item.spec.request_id)) is not None:
                acceptances.append(Acceptance(row.request_id, RequestStatus(row.status), row.created_at, True))
            else:
                position += 1
                acceptances.append(Acceptance(item.spec.request_id, RequestStatus.QUEUED, now, False, position))
        return acceptances

    def _row(
        self,
        item: NewRequest,
        now: float,
        status: RequestStatus = RequestStatus.QUEUED,
        batch_job_id: str | None = None,
        batch_index: int | None = None,
    ) -> dict[str, Any]:
        spec = item.spec
        ttl = spec.ttl_seconds or self.default_ttl_seconds
        return {
            "request_id": spec.request_id,
            "consumer": spec.consumer,
            "status": status.value,
            "priority": spec.priority,
            "provider": item.provider.value,
            "model": item.model,
            "bundle_key": bundle_key(spec, item.provider, item.model),
            "spec_json": spec_to_json(spec),
            "essay_a": spec.essay_a,
            "essay_b": spec.essay_b,
            "created_at": now,
            "updated_at": now,
            "expire_at": now + ttl,
            "not_before": now,
            "attempts": 0,
            "cancel_requested": False,
            # claimed_by, lease_until and last_error start NULL: left out, so an insert of a
            # thousand rows binds three thousand values fewer
            **({"batch_job_id": batch_job_id, "batch_index": batch_index} if batch_job_id is not None else {}),
        }

    # ---- claiming ------------------------------------------------------------------------

    def _claimable(self, now: float, *columns: Any) -> sa.Select:
        """Due, queued requests in dispatch order. The status and batch-job terms are literals so
        that both databases use the partial indexes of queued rows (migration 0002): the scan walks
        an index in this order, filters on columns stored in the index and stops at its limit, so a
        claim touches the rows it returns, not the queue behind them."""
        r = requests_table.c
        return (
            sa.select(r.request_id, *columns)
            .where(QUEUED_LITERAL, r.not_before <= now, not_an_index_term(r.expire_at) > now)
            .order_by(r.priority.desc(), r.created_at, r.request_id)
        )

    async def _claim(
        self, connection: AsyncConnection, ids_select: sa.Select, worker: str, now: float, lease: float
    ) -> list[ClaimedRequest]:
        r = requests_table.c
        rows = (
            await connection.execute(
                requests_table.update()
                .where(r.request_id.in_(ids_select.scalar_subquery()), r.status == RequestStatus.QUEUED.value)
                .values(
                    status=RequestStatus.PROCESSING.value,
                    claimed_by=worker,
                    lease_until=now + lease,
                    attempts=r.attempts + 1,
                    updated_at=now,
                )
                .returning(*spec_columns(), r.provider, r.model, r.created_at, r.attempts, r.priority)
            )
        ).all()
        rows = sorted(rows, key=lambda row: (-row.priority, row.created_at))
        return [
            ClaimedRequest(
                spec_from_row(row), _member(_PROVIDERS, Provider, row.provider), row.model, row.created_at, row.attempts
            )
            for row in rows
        ]

    async def claim_requests(
        self,
        worker: str,
        now: float,
        lease: float,
        limit: int,
        provider: Provider | None = None,
        model: str | None = None,
    ) -> list[ClaimedRequest]:
        if provider is not None and model is not None:
            select = self._claimable(now).where(
                requests_table.c.provider == provider.value, requests_table.c.model == model
            )
        else:
            select = self._claimable(now)
        select = select.limit(limit)
        async with self.single_statement() as connection:
            return await self._claim(connection, self._locked(select), worker, now, lease)

    async def claim_bundle(self, worker: str, now: float, lease: float, cap: int) -> list[ClaimedRequest]:
        """The head of the queue and up to cap-1 compatible requests, in one statement: the head's
        bundle key is a scalar subquery (locked, skipping rows other claimers hold), evaluated once."""
        r = requests_table.c
        head = self._locked(self._claimable(now).with_only_columns(r.bundle_key).limit(1)).scalar_subquery()
        select = self._claimable(now).where(r.bundle_key == head).limit(cap)
        async with self.single_statement() as connection:
            return await self._claim(connection, self._locked(select), worker, now, lease)

    async def queued_keys(self) -> list[tuple[Provider, str]]:
        """(provider, model) pairs with queued work: a loose index scan of the queued rows by model,
        at most two index seeks per pair (the provider's next model, else the next provider), so
        its cost is the number of pairs, never the depth of the queue. Not one row-value seek
        `(provider, model) > (?, ?)`: SQLite runs that as a seek to the pair's first entry and a
        scan past every queued row of it."""
        r = requests_table.c
        first = sa.select(r.provider, r.model).where(QUEUED_LITERAL).order_by(r.provider, r.model).limit(1)
        keys: list[tuple[Provider, str]] = []
        async with self.engine.connect() as connection:
            row = (await connection.execute(first)).first()
            while row is not None:
                keys.append((Provider(row.provider), row.model))
                same_provider = first.where(r.provider == row.provider, r.model > row.model)
                found = (await connection.execute(same_provider)).first()
                row = found or (await connection.execute(first.where(r.provider > row.provider))).first()
        return keys

    # ---- outcomes ------------------------------------------------------------------------

    async def record_results(
        self, worker: str | None, results: Sequence[ResultRecord], now: float, connection: AsyncConnection | None = None
    ) -> list[ResultRecord]:
        """Record outcomes of claimed requests in one transaction. A request whose claim this
        worker no longer holds is skipped (someone else owns it now). A request cancelled
        while it ran ends CANCELLED."""
        if not results:
            return []
        if connection is None:
            async with self.transaction() as own:
                recorded = await self.record_results(worker, results, now, own)
            if recorded:
                await self.notify()
            return recorded
        # One result per request, even if two attempts of it are in this batch: the first.
        first: dict[str, ResultRecord] = {}
        for result in results:
            first.setdefault(result.request_id, result)
        owned: dict[str, bool] = {}  # request id -> cancel requested, for the requests this worker held
        for outcome in dict.fromkeys(result.outcome for result in first.values()):
            ids = [request_id for request_id, result in first.items() if result.outcome is outcome]
            owned.update(await self._end_requests(connection, worker, ids, outcome, now))
        recorded = [
            cancelled_result(result, now) if owned[request_id] and result.outcome is not Outcome.CANCELLED else result
            for request_id, result in first.items()
            if request_id in owned
        ]
        await self._insert_result_rows(connection, recorded)
        return recorded

    async def _end_requests(
        self, connection: AsyncConnection, worker: str | None, ids: Sequence[str], outcome: Outcome, now: float
    ) -> dict[str, bool]:
        """Move the requests still PROCESSING under this worker's claim to `outcome` (CANCELLED
        where a cancel was asked for meanwhile) in one statement; {request id: cancel requested}
        of those it moved."""
        r = requests_table.c
        status = sa.case((r.cancel_requested, Outcome.CANCELLED.value), else_=outcome.value)
        update = (
            requests_table.update()
            .where(self.among(r.request_id, ids), r.status == RequestStatus.PROCESSING.value)
            .values(status=status, claimed_by=None, lease_until=None, updated_at=now)
            .returning(r.request_id, r.cancel_requested)
        )
        if worker is not None:
            update = update.where(r.claimed_by == worker)
        return {row.request_id: row.cancel_requested for row in (await connection.execute(update)).all()}

    async def _insert_result_rows(self, connection: AsyncConnection, results: Sequence[ResultRecord]) -> None:
        if not results:
            return
        await connection.execute(
            results_table.insert(),
            [
                {
                    "request_id": res.request_id,
                    "consumer": res.consumer,
                    "outcome": res.outcome.value,
                    "result_json": result_to_json(res),
                    "completed_at": res.completed_at,
                    "deliveries": 0,  # acked_at, leased_to and lease_until start NULL
                }
                for res in results
            ],
        )

    async def _insert_results(self, connection: AsyncConnection, results: Sequence[ResultRecord], now: float) -> None:
        """Results of requests this transaction holds already (expired, lapsed or cancelled while
        queued), and their requests' end states."""
        if not results:
            return
        await self._insert_result_rows(connection, results)
        for outcome in {res.outcome for res in results}:
            ids = [res.request_id for res in results if res.outcome is outcome]
            await connection.execute(
                requests_table.update()
                .where(self.among(requests_table.c.request_id, ids))
                .values(status=outcome.value, claimed_by=None, lease_until=None, updated_at=now)
            )

    async def settle(
        self, worker: str, results: Sequence[ResultRecord], retries: Sequence[Retry], now: float
    ) -> list[ResultRecord]:
        """A worker's finished attempts in one transaction: results are recorded, retryable failures go
        back to the queue with their backoff. A retry of a request cancelled meanwhile ends it
        CANCELLED (its fallback result, turned into a cancellation). Requests whose claim the worker
        lost are skipped. Returns the results recorded."""
        if not results and not retries:
            return []
        r = requests_table.c
        async with self.transaction() as connection:
            recorded: list[ResultRecord] = []
            if retries:
                requeued = await connection.execute(
                    requests_table.update()
                    .where(
                        r.request_id == sa.bindparam("rid"),
                        r.claimed_by == worker,
                        PROCESSING_LITERAL,
                        r.cancel_requested.is_(False),
                    )
                    .values(
                        status=RequestStatus.QUEUED.value,
                        claimed_by=None,
                        lease_until=None,
                        not_before=sa.bindparam("not_before"),
                        last_error=sa.bindparam("error"),
                        attempts=r.attempts - sa.bindparam("uncounted", type_=sa.Integer),
                        updated_at=now,
                    ),
                    [
                        {
                            "rid": x.request_id,
                            "not_before": x.not_before,
                            "error": x.error[:500],
                            "uncounted": int(not x.counted),
                        }
                        for x in retries
                    ],
                )
                # Retries that were not put back: cancelled meanwhile (their fallback ends them) or lost.
                if requeued.rowcount != len(retries):
                    results = [*results, *(x.fallback for x in retries)]
            recorded = await self.record_results(worker, results, now, connection)
        if recorded:
            await self.notify()
        return recorded

    async def renew_claims(self, worker: str, request_ids: Sequence[str], now: float, lease: float) -> set[str]:
        """Heartbeat: extend the leases of the claims this worker is still running. Returns the ids
        whose claim it no longer holds (released after a stall, or taken by another worker)."""
        if not request_ids:
            return set()
        r = requests_table.c
        held: set[str] = set()
        async with self.transaction() as connection:
            for start in range(0, len(request_ids), 500):
                chunk = list(request_ids[start : start + 500])
                rows = await connection.execute(
                    requests_table.update()
                    .where(self.among(r.request_id, chunk), r.claimed_by == worker, PROCESSING_LITERAL)
                    .values(lease_until=now + lease)
                    .returning(r.request_id)
                )
                held.update(rows.scalars().all())
        return set(request_ids) - held

    async def expire_due(self, now: float, limit: int = 500) -> list[ResultRecord]:
        """Queued requests past their time to live end EXPIRED."""
        r = requests_table.c
        async with self.transaction() as connection:
            select = self._locked(sa.select(r.request_id).where(QUEUED_LITERAL, r.expire_at <= now).limit(limit))
            rows = (
                await connection.execute(
                    requests_table.update()
                    .where(r.request_id.in_(select.scalar_subquery()), r.status == RequestStatus.QUEUED.value)
                    .values(status=RequestStatus.PROCESSING.value, claimed_by="expiry")
                    .returning(*spec_columns(), r.provider, r.model, r.created_at, r.attempts)
                )
            ).all()
            results = [
                terminal_result(
                    spec_from_row(row),
                    Provider(row.provider),
                    row.model,
                    row.created_at,
                    row.attempts,
                    Outcome.EXPIRED,
                    now,
                )
                for row in rows
            ]
            await self._insert_results(connection, results, now)
        if results:
            await self.notify()
        return results

    async def release_stale_claims(self, now: float, limit: int = 500) -> int:
        """Requests whose worker stopped renewing its claim (it died or stalled) go back to the queue,
        unless that claim was their last allowed attempt: those end FAILED (WORKER_LOST), so that no
        request is ever attempted more than `max_attempts` times."""
        r = requests_table.c
        async with self.transaction() as connection:
            stale = (
                await connection.execute(
                    self._locked(
                        sa.select(r.request_id, r.attempts)
                        .where(PROCESSING_LITERAL, r.lease_until < now, not_an_index_term(r.batch_job_id).is_(None))
                        .limit(limit)
                    )
                )
            ).all()
            spent = [row.request_id for row in stale if row.attempts >= self.max_attempts]
            again = [row.request_id for row in stale if row.attempts < self.max_attempts]
            if again:
                await connection.execute(
                    requests_table.update()
                    .where(r.request_id.in_(again), PROCESSING_LITERAL, r.lease_until < now)
                    .values(status=RequestStatus.QUEUED.value, claimed_by=None, lease_until=None, updated_at=now)
                )
            results = []
            if spent:
                rows = (
                    await connection.execute(
                        sa.select(
                            *spec_columns(), r.provider, r.model, r.created_at, r.attempts, r.cancel_requested
                        ).where(r.request_id.in_(spent))
                    )
                ).all()
                results = [
                    terminal_result(
                        spec_from_row(row),
                        Provider(row.provider),
                        row.model,
                        row.created_at,
                        row.attempts,
                        Outcome.CANCELLED if row.cancel_requested else Outcome.FAILED,
                        now,
                    )
                    for row in rows
                ]
                await self._insert_results(connection, results, now)
        if results:
            await self.notify()
        return len(again) + len(results)

    async def cancel(self, request_id: str, now: float) -> StoredRequest | None:
        """Queued: ends CANCELLED now. Running: ends CANCELLED when its call returns.
        Returns the request as it stands, or None when unknown."""
        r = requests_table.c
        async with self.transaction() as connection:
            row = (await connection.execute(sa.select(requests_table).where(r.request_id == request_id))).first()
            if row is None:
                return None
            if row.status == RequestStatus.QUEUED.value:
                result = terminal_result(
                    spec_from_row(row),
                    Provider(row.provider),
                    row.model,
                    row.created_at,
                    row.attempts,
                    Outcome.CANCELLED,
                    now,
                )
                await self._insert_results(connection, [result], now)
            elif row.status == RequestStatus.PROCESSING.value:
                await connection.execute(
                    requests_table.update()
                    .where(r.request_id == request_id)
                    .values(cancel_requested=True, updated_at=now)
                )
        await self.notify()
        return await self.get(request_id)

    # ---- reading -------------------------------------------------------------------------

    async def get(self, request_id: str) -> StoredRequest | None:
        r, res = requests_table.c, results_table.c
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(requests_table, res.result_json, res.sequence)
                    .select_from(requests_table.outerjoin(results_table, res.request_id == r.request_id))
                    .where(r.request_id == request_id)
                )
            ).first()
        if row is None:
            return None
        return StoredRequest(
            spec=spec_from_row(row),
            status=RequestStatus(row.status),
            provider=Provider(row.provider),
            model=row.model,
            created_at=row.created_at,
            updated_at=row.updated_at,
            expire_at=row.expire_at,
            attempts=row.attempts,
            batch_job_id=row.batch_job_id,
            cancel_requested=row.cancel_requested,
            result=result_from_json(row.result_json, row.sequence) if row.result_json else None,
        )

    async def prune_acknowledged(self, cutoff: float, limit: int = 1000) -> int:
        """Delete up to `limit` results acknowledged before `cutoff`, with their (finished)
        requests; the number deleted. Bounded, so one round never holds the database long."""
        async with self.transaction() as connection:
            ids = (
                (
                    await connection.execute(
                        sa.select(results_table.c.request_id)
                        .where(results_table.c.acked_at.is_not(None), results_table.c.acked_at < cutoff)
                        .limit(limit)
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return 0
            await connection.execute(
                sa.delete(requests_table).where(
                    requests_table.c.request_id.in_(ids), requests_table.c.status.not_in(ACTIVE)
                )
            )
            await connection.execute(sa.delete(results_table).where(results_table.c.request_id.in_(ids)))
        return len(ids)

    async def queue_depth(self) -> dict[str, int]:
        r = requests_table.c
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(sa.select(r.status, sa.func.count()).where(ACTIVE_LITERAL).group_by(r.status))
            ).all()
        depth = dict.fromkeys(ACTIVE, 0)
        depth.update({row[0]: row[1] for row in rows})
        return depth

    # ---- delivery ------------------------------------------------------------------------

    async def lease_results(
        self, consumer: str, subscriber: str, after_sequence: int, now: float, lease: float, window: int
    ) -> list[ResultRecord]:
        """Lease unacknowledged results nobody else holds, oldest first, until this subscriber holds
        `window` of them (counted in the same statement as the lease)."""
        res = results_table.c
        held = self._outstanding_count(consumer, subscriber, now).scalar_subquery()
        limit = sa.func.greatest if not self.sqlite else sa.func.max  # SQLite's two-argument max
        async with self.single_statement() as connection:
            select = self._locked(
                sa.select(res.sequence)
                .where(
                    res.consumer == consumer,
                    res.acked_at.is_(None),
                    res.sequence > after_sequence,
                    sa.or_(res.lease_until.is_(None), res.lease_until < now),
                )
                .order_by(res.sequence)
                .limit(limit(window - held, 0))
            )
            rows = (
                await connection.execute(
                    results_table.update()
                    .where(res.sequence.in_(select.scalar_subquery()))
                    .values(leased_to=subscriber, lease_until=now + lease, deliveries=res.deliveries + 1)
                    .returning(res.sequence, res.result_json)
                )
            ).all()
        return [result_from_json(row.result_json, row.sequence) for row in sorted(rows, key=lambda row: row.sequence)]

    async def outstanding(self, consumer: str, subscriber: str, now: float) -> int:
        """Results leased to this subscriber and not yet acknowledged."""
        async with self.engine.connect() as connection:
            count: int = (await connection.execute(self._outstanding_count(consumer, subscriber, now))).scalar_one()
            return count

    @staticmethod
    def _outstanding_count(consumer: str, subscriber: str, now: float) -> sa.Select[Any]:
        res = results_table.c
        return (
            sa.select(sa.func.count())
            .select_from(results_table)
            .where(
                res.consumer == consumer, res.leased_to == subscriber, res.acked_at.is_(None), res.lease_until >= now
            )
        )

    async def ack(self, consumer: str, request_ids: Sequence[str], now: float) -> int:
        res = results_table.c
        async with self.single_statement() as connection:
            updated = await connection.execute(
                results_table.update()
                .where(res.consumer == consumer, self.among(res.request_id, request_ids), res.acked_at.is_(None))
                .values(acked_at=now, leased_to=None, lease_until=None)
            )
        return updated.rowcount

    async def release_leases(self, consumer: str, subscriber: str) -> None:
        """A subscriber that went away hands its unacknowledged results back at once."""
        res = results_table.c
        async with self.transaction() as connection:
            await connection.execute(
                results_table.update()
                .where(res.consumer == consumer, res.leased_to == subscriber, res.acked_at.is_(None))
                .values(leased_to=None, lease_until=None)
            )
        await self.notify()


def terminal_result(
    spec: ComparisonSpec,
    provider: Provider,
    model: str,
    created_at: float,
    attempts: int,
    outcome: Outcome,
    now: float,
    processing_mode: str = "",
) -> ResultRecord:
    """A result for a request that ends without a verdict (expired or cancelled)."""
    error = {
        Outcome.EXPIRED: ResultError(
            "DEADLINE_EXCEEDED", "REQUEST_EXPIRED", "the request's time to live passed before it was judged"
        ),
        Outcome.CANCELLED: ResultError("CANCELLED", "REQUEST_CANCELLED", "the request was cancelled"),
        Outcome.FAILED: ResultError(
            "UNAVAILABLE",
            "WORKER_LOST",
            "the worker running the request's last allowed attempt stopped before recording an outcome",
        ),
    }[outcome]
    return ResultRecord(
        request_id=spec.request_id,
        consumer=spec.consumer,
        outcome=outcome,
        provider=provider,
        model=model,
        processing_mode=processing_mode,
        prompt_sha256="",
        template_version="",
        created_at=created_at,
        completed_at=now,
        attempts=attempts,
        metadata=dict(spec.metadata),
        correlation_id=spec.correlation_id,
        error=error,
    )


def cancelled_result(result: ResultRecord, now: float) -> ResultRecord:
    return replace(
        result,
        outcome=Outcome.CANCELLED,
        winner=None,
        confidence=0.0,
        justification="",
        error=ResultError("CANCELLED", "REQUEST_CANCELLED", "the request was cancelled while it ran"),
        completed_at=now,
    )


# ---- provider batch jobs ------------------------------------------------------------------------

TERMINAL_JOB_STATES = tuple(s.value for s in JobState if s.is_terminal)


def job_from_row(row: Any) -> JobRecord:
    error = json.loads(row.error_json) if row.error_json else {}
    return JobRecord(
        job_id=row.job_id,
        provider=row.provider,
        model=row.model,
        state=JobState(row.state),
        item_count=row.item_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        counts=RequestCounts(**json.loads(row.counts_json)),
        request_id=row.request_id,
        provider_job_id=row.provider_job_id,
        submitted_at=row.submitted_at,
        in_progress_at=row.in_progress_at,
        finalizing_at=row.finalizing_at,
        ended_at=row.ended_at,
        expire_at=row.expire_at,
        cancel_at=row.cancel_at,
        cost_usd=row.cost_usd,
        error_reason=error.get("reason", ""),
        error_message=error.get("message", ""),
        poll_failures=row.poll_failures,
    )


def part_from_row(row: Any) -> VendorPart:
    error = json.loads(row.error_json) if row.error_json else {}
    return VendorPart(
        job_id=row.job_id,
        part=row.part,
        first_index=row.first_index,
        item_count=row.item_count,
        state=JobState(row.state),
        counts=RequestCounts(**json.loads(row.counts_json)),
        provider_job_id=row.provider_job_id,
        submitted_at=row.submitted_at,
        cancel_sent_at=row.cancel_sent_at,
        ended_at=row.ended_at,
        error_reason=error.get("reason", ""),
        error_message=error.get("message", ""),
        estimated_tokens=row.estimated_tokens,
    )


class BatchJobStore:
    """Jobs live beside the queue: a job's requests stay PROCESSING with `batch_job_id` set
    until the poller records their outcomes."""

    def __init__(self, store: LpsStore):
        self.store = store

    def _job_row(
        self, job_id: str, provider: str, model: str, count: int, now: float, request_id: str | None
    ) -> dict[str, Any]:
        return {
            "job_id": job_id,
            "request_id": request_id,
            "provider": provider,
            "model": model,
            "state": JobState.VALIDATING.value,
            "provider_job_id": None,
            "item_count": count,
            "counts_json": json.dumps(asdict(RequestCounts(total=count, processing=count))),
            "error_json": None,
            "cost_usd": 0.0,
            "created_at": now,
            "updated_at": now,
            "next_poll_at": now,
        }

    async def create_job_from_claims(self, claims: Sequence[ClaimedRequest], worker: str, now: float) -> JobRecord:
        job_id = uuid.uuid4().hex
        r = requests_table.c
        async with self.store.transaction() as connection:
            await connection.execute(
                jobs_table.insert(),
                [self._job_row(job_id, claims[0].provider.value, claims[0].model, len(claims), now, None)],
            )
            await connection.execute(
                requests_table.update()
                .where(r.request_id == sa.bindparam("rid"), r.claimed_by == worker)
                .values(batch_job_id=job_id, batch_index=sa.bindparam("idx"), updated_at=now),
                [{"rid": c.spec.request_id, "idx": i} for i, c in enumerate(claims)],
            )
        job = await self.get(job_id)
        if job is None:
            raise InvariantBroken(f"batch job {job_id} vanished right after its insert")
        return job

    async def create_job(self, request_id: str, new: Sequence[NewRequest], now: float) -> tuple[JobRecord, bool]:
        """CreateBatchJob: the requests and their job in one transaction; (the job, whether it
        already existed). Idempotent by request_id also under concurrent repeats: the capacity
        lock orders them on PostgreSQL and the write lock on SQLite, and the key is looked up
        again under it; a unique violation that still escapes is a repeat that won elsewhere."""
        if (existing := await self.get_by_request_id(request_id)) is not None:
            return existing, True
        try:
            return await self._insert_job(request_id, new, now)
        except IntegrityError as exc:
            if (existing := await self.get_by_request_id(request_id)) is not None:
                return existing, True
            raise AlreadyExists("comparison request ids already used", reason="REQUEST_ID_IN_USE") from exc

    async def _insert_job(self, request_id: str, new: Sequence[NewRequest], now: float) -> tuple[JobRecord, bool]:
        job_id = uuid.uuid4().hex
        ids = [item.spec.request_id for item in new]
        async with self.store.transaction() as connection:
            await self.store.lock_capacity(connection)
            repeat = (
                await connection.execute(sa.select(jobs_table).where(jobs_table.c.request_id == request_id))
            ).first()
            if repeat is not None:
                return job_from_row(repeat), True
            taken = (
                (
                    await connection.execute(
                        sa.select(requests_table.c.request_id).where(requests_table.c.request_id.in_(ids))
                    )
                )
                .scalars()
                .all()
            )
            if taken:
                raise AlreadyExists(
                    f"comparison request ids already used: {', '.join(sorted(taken)[:5])}",
                    reason="REQUEST_ID_IN_USE",
                    metadata={"requestIds": ",".join(sorted(taken)[:20])},
                )
            active = await self.store.active_count(connection)
            if active + len(new) > self.store.capacity:
                raise ResourceExhausted(
                    f"queue is full ({active} of {self.store.capacity} requests active)",
                    retry_after_seconds=self.store.queue_full_retry_seconds,
                    reason="QUEUE_FULL",
                )
            await connection.execute(
                jobs_table.insert(),
                [self._job_row(job_id, new[0].provider.value, new[0].model, len(new), now, request_id)],
            )
            rows = []
            for index, item in enumerate(new):
                row = self.store._row(item, now, RequestStatus.PROCESSING, job_id, index)
                row.update(claimed_by=f"job:{job_id}", attempts=1)
                rows.append(row)
            await connection.execute(requests_table.insert(), rows)
        job = await self.get(job_id)
        if job is None:
            raise RuntimeError(f"batch job {job_id} vanished right after its insert")
        return job, False

    async def get(self, job_id: str) -> JobRecord | None:
        async with self.store.engine.connect() as connection:
            row = (await connection.execute(sa.select(jobs_table).where(jobs_table.c.job_id == job_id))).first()
        return job_from_row(row) if row else None

    async def get_by_request_id(self, request_id: str) -> JobRecord | None:
        async with self.store.engine.connect() as connection:
            row = (await connection.execute(sa.select(jobs_table).where(jobs_table.c.request_id == request_id))).first()
        return job_from_row(row) if row else None

    async def list_jobs(
        self, *, limit: int, after: tuple[float, str] | None, states: Sequence[JobState], provider: str | None
    ) -> list[JobRecord]:
        j = jobs_table.c
        select = newest_first(sa.select(jobs_table), j.created_at, j.job_id, after).limit(limit)
        if states:
            select = select.where(j.state.in_([s.value for s in states]))
        if provider:
            select = select.where(j.provider == provider)
        async with self.store.engine.connect() as connection:
            return [job_from_row(row) for row in (await connection.execute(select)).all()]

    async def claims(self, job_id: str) -> list[ClaimedRequest]:
        r = requests_table.c
        async with self.store.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(*spec_columns(), r.provider, r.model, r.created_at, r.attempts)
                    .where(r.batch_job_id == job_id)
                    .order_by(r.batch_index)
                )
            ).all()
        return [
            ClaimedRequest(spec_from_row(row), Provider(row.provider), row.model, row.created_at, row.attempts, job_id)
            for row in rows
        ]

    async def results(self, job_id: str, *, offset: int, limit: int) -> list[ResultRecord]:
        r, res = requests_table.c, results_table.c
        async with self.store.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(res.result_json, res.sequence)
                    .select_from(results_table.join(requests_table, res.request_id == r.request_id))
                    .where(r.batch_job_id == job_id)
                    .order_by(r.batch_index)
                    .offset(offset)
                    .limit(limit)
                )
            ).all()
        return [result_from_json(row.result_json, row.sequence) for row in rows]

    async def claim_due(self, poller: str, now: float, lease: float, limit: int) -> list[JobRecord]:
        j = jobs_table.c
        async with self.store.transaction() as connection:
            select = self.store._locked(
                sa.select(j.job_id)
                .where(
                    j.state.not_in(TERMINAL_JOB_STATES),
                    j.next_poll_at <= now,
                    sa.or_(j.poll_lease_until.is_(None), j.poll_lease_until < now),
                )
                .order_by(j.next_poll_at)
                .limit(limit)
            )
            rows = (
                await connection.execute(
                    jobs_table.update()
                    .where(j.job_id.in_(select.scalar_subquery()))
                    .values(poller=poller, poll_lease_until=now + lease)
                    .returning(*jobs_table.c)
                )
            ).all()
        return [job_from_row(row) for row in rows]

    async def update(self, job_id: str, poller: str, now: float, next_poll_at: float, **fields: Any) -> None:
        """The poller's progress on a job it holds. A cancel asked for meanwhile wins over the
        running state the poller saw (the job says cancelling, never in_progress, after a cancel)."""
        j = jobs_table.c
        values: dict[str, Any] = {self._column(k): self._value(k, v) for k, v in fields.items()}
        if "state" in fields and not fields["state"].is_terminal:
            values["state"] = sa.case((j.cancel_at.is_not(None), JobState.CANCELLING.value), else_=values["state"])
        async with self.store.transaction() as connection:
            await connection.execute(
                jobs_table.update()
                .where(j.job_id == job_id, j.poller == poller)
                .values(**values, updated_at=now, next_poll_at=next_poll_at, poller=None, poll_lease_until=None)
            )

    async def finish(
        self, job_id: str, poller: str, results: Sequence[ResultRecord], now: float, **fields: Any
    ) -> list[ResultRecord]:
        """Record the job's item outcomes and its end state in one transaction."""
        j = jobs_table.c
        values = {self._column(k): self._value(k, v) for k, v in fields.items()}
        async with self.store.transaction() as connection:
            owned = await connection.execute(
                jobs_table.update()
                .where(j.job_id == job_id, j.poller == poller)
                .values(**values, updated_at=now, poller=None, poll_lease_until=None)
            )
            recorded = await self.store.record_results(None, results, now, connection) if owned.rowcount else []
        if recorded:
            await self.store.notify()
        return recorded

    async def request_cancel(self, job_id: str, now: float) -> JobRecord | None:
        j = jobs_table.c
        async with self.store.transaction() as connection:
            await connection.execute(
                jobs_table.update()
                .where(j.job_id == job_id, j.state.not_in(TERMINAL_JOB_STATES), j.cancel_at.is_(None))
                .values(cancel_at=now, state=JobState.CANCELLING.value, updated_at=now, next_poll_at=now)
            )
        return await self.get(job_id)

    async def cancel_requested_count(self, job_id: str) -> int:
        """How many of the job's requests were cancelled one by one (CancelComparison)."""
        r = requests_table.c
        async with self.store.engine.connect() as connection:
            return (
                await connection.execute(
                    sa.select(sa.func.count())
                    .select_from(requests_table)
                    .where(r.batch_job_id == job_id, r.cancel_requested.is_(True))
                )
            ).scalar_one()

    # ---- vendor jobs (parts) -------------------------------------------------------------

    async def parts(self, job_id: str) -> list[VendorPart]:
        v = vendor_jobs_table.c
        async with self.store.engine.connect() as connection:
            rows = (
                await connection.execute(sa.select(vendor_jobs_table).where(v.job_id == job_id).order_by(v.part))
            ).all()
        return [part_from_row(row) for row in rows]

    async def add_parts(
        self, job_id: str, poller: str, ranges: Sequence[tuple[int, int]], tokens: Sequence[int] = ()
    ) -> list[VendorPart]:
        """The job's split into vendor jobs (with each one's estimated prompt tokens), written once by
        the poller that holds the job."""
        tokens = tokens or [0] * len(ranges)
        j = jobs_table.c
        async with self.store.transaction() as connection:
            held = (await connection.execute(sa.select(j.job_id).where(j.job_id == job_id, j.poller == poller))).first()
            existing = (
                await connection.execute(
                    sa.select(sa.func.count())
                    .select_from(vendor_jobs_table)
                    .where(vendor_jobs_table.c.job_id == job_id)
                )
            ).scalar_one()
            if held and not existing:
                await connection.execute(
                    vendor_jobs_table.insert(),
                    [
                        {
                            "job_id": job_id,
                            "part": index,
                            "first_index": start,
                            "item_count": end - start,
                            "state": JobState.VALIDATING.value,
                            "counts_json": json.dumps(asdict(RequestCounts(total=end - start, processing=end - start))),
                            "estimated_tokens": estimated,
                        }
                        for index, ((start, end), estimated) in enumerate(zip(ranges, tokens, strict=True))
                    ],
                )
        return await self.parts(job_id)

    async def enqueued(self, provider: str, model: str | None = None) -> tuple[int, int]:
        """(requests, estimated prompt tokens) in the vendor jobs of `provider` (and of `model`, when
        given) that were submitted and have not ended: what waits in the vendor's batch queue."""
        v, j = vendor_jobs_table.c, jobs_table.c
        where = [j.provider == provider, v.provider_job_id.is_not(None), v.state.not_in(TERMINAL_JOB_STATES)]
        if model is not None:
            where.append(j.model == model)
        query = (
            sa.select(
                sa.func.coalesce(sa.func.sum(v.item_count), 0), sa.func.coalesce(sa.func.sum(v.estimated_tokens), 0)
            )
            .select_from(vendor_jobs_table.join(jobs_table, v.job_id == j.job_id))
            .where(*where)
        )
        async with self.store.engine.connect() as connection:
            requests, tokens = (await connection.execute(query)).one()
        return int(requests), int(tokens)

    async def update_part(self, job_id: str, part: int, **fields: Any) -> None:
        v = vendor_jobs_table.c
        values = {self._column(k): self._value(k, val) for k, val in fields.items()}
        async with self.store.transaction() as connection:
            await connection.execute(
                vendor_jobs_table.update().where(v.job_id == job_id, v.part == part).values(**values)
            )

    @staticmethod
    def _column(name: str) -> str:
        return {"counts": "counts_json", "error": "error_json"}.get(name, name)

    @staticmethod
    def _value(name: str, value: Any) -> Any:
        if name == "counts":
            return json.dumps(asdict(value))
        if name == "error":
            return json.dumps(value) if value else None
        if name == "state":
            return value.value
        return value
