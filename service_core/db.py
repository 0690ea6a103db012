"""Async SQLAlchemy engines and migrations.

SQLite (WAL, foreign keys on) is the embedded default; PostgreSQL is chosen by
URL (`postgresql://...` is accepted and run through asyncpg). Each server keeps
its Alembic migrations in `<server>/migrations/` with its own version table, so
all three can share one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def normalize_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine_or_url: AsyncEngine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, AsyncEngine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def is_transient_database_error(exc: BaseException) -> bool:
    """The database could not serve this call now but may on the next try: it is unreachable
    (connection refused or lost, the pool timed out waiting for a connection), restarting, or
    busy (SQLite "database is locked" past its busy timeout, PostgreSQL "too many clients",
    a deadlock or serialization failure). Such a failure is the caller's to retry
    (UNAVAILABLE), not a bug of the server (INTERNAL). Integrity and programming errors are
    not transient: retrying them gives the same answer."""
    if isinstance(exc, sa.exc.TimeoutError | sa.exc.DisconnectionError | ConnectionError):
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        return exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError)
    return False


# Pages the WAL may hold before a commit copies them back into the database (SQLite's default is
# 1,000, 4 MB). A queue rewrites the same rows and index pages many times over (queued, claimed,
# recorded, delivered, acknowledged): with a larger window each page is copied back once per
# checkpoint rather than once per rewrite, and the LPS's write transactions, which queue on one
# lock, wait less (3-6% more judgements per second in bench/lps_queue.py throughput).
SQLITE_CHECKPOINT_PAGES = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    url = normalize_url(url)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


async def migrate(engine: AsyncEngine, script_location: Path, version_table: str) -> None:
    """Upgrade to the newest revision. On PostgreSQL an advisory lock keeps two
    replicas starting at once from migrating concurrently."""

    def upgrade(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(script_location))
        config.attributes["connection"] = connection
        config.attributes["version_table"] = version_table
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        if not is_sqlite(engine):
            lock_key = zlib.crc32(version_table.encode())
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
        await connection.run_sync(upgrade)


def run_migrations_in_env() -> None:
    """Body of every server's `migrations/env.py`."""
    from alembic import context

    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        version_table=context.config.attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


class Database:
    """A server's engine plus its migrations; `open` at start-up, `close` at shutdown."""

    def __init__(self, url: str, migrations: Path, version_table: str):
        self.engine = create_engine(url)
        self.migrations = migrations
        self.version_table = version_table

    async def open(self) -> None:
        await migrate(self.engine, self.migrations, self.version_table)

    async def close(self) -> None:
        # Connections of queries cancelled mid-flight are closed by tasks SQLAlchemy schedules;
        # let them finish before the pool goes, or they wait forever on a closed driver thread.
        pending = [
            task
            for task in asyncio.all_tasks()
            if not task.done() and "AsyncConnection" in getattr(task.get_coro(), "__qualname__", "")
        ]
        if pending:
            await asyncio.wait(pending, timeout=2)
        await self.engine.dispose()


class TransactionalStore:
    """Base of every server's store: write transactions, and a change signal for streams.

    SQLite allows one writer, so in this process writes queue on a lock (no
    "database is locked" upgrades); PostgreSQL transactions run concurrently and rely
    on row locks. `notify` wakes this process's waiters at once; other processes'
    changes are seen by the waiters' polling."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")  # the same pool
        self._write_lock = asyncio.Lock()
        # A fresh Event per change: waiters hold no lock, so a cancelled or timed-out wait can
        # never leave a lock behind that blocks the next notify (asyncio.Condition can).
        self._changed = asyncio.Event()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        if self.sqlite:
            async with self._write_lock, self.engine.begin() as connection:
                yield connection
        else:
            async with self.engine.begin() as connection:
                yield connection

    @contextlib.asynccontextmanager
    async def single_statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one write statement, which is atomic by itself. On PostgreSQL it runs
        in autocommit, without the BEGIN and COMMIT round trips a transaction costs; on SQLite it
        is an ordinary write transaction (writes there queue on the lock)."""
        if self.sqlite:
            async with self.transaction() as connection:
                yield connection
        else:
            async with self._autocommit.connect() as connection:
                yield connection

    async def rows(self, select: Any, connection: AsyncConnection | None = None) -> list[Any]:
        """Run a read in the caller's transaction when given one, else on a connection of its own."""
        if connection is not None:
            return list((await connection.execute(select)).all())
        async with self.engine.connect() as own:
            return list((await own.execute(select)).all())

    async def first(
        self, select: Any, connection: AsyncConnection | None = None, lock: bool = False
    ) -> dict[str, Any] | None:
        """The first row of a read as a dict, or None. `lock` takes a row lock on PostgreSQL; on
        SQLite the write lock every transaction holds already serialises the writers."""
        if lock and not self.sqlite:
            select = select.with_for_update()
        found = await self.rows(select, connection)
        return dict(found[0]._mapping) if found else None

    async def notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for_change(self, wait_seconds: float) -> None:
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), wait_seconds)


def newest_first(
    select: sa.Select[Any],
    created_at: sa.ColumnElement[Any],
    key: sa.ColumnElement[Any],
    after: tuple[float, str] | None,
) -> sa.Select[Any]:
    """`select` ordered newest first (ties by `key`, descending) and, given the position a keyset
    page token holds (`service_core.paging.keyset_after`), only the rows after it: the one keyset
    paging filter of every List RPC."""
    select = select.order_by(created_at.desc(), key.desc())
    if after is None:
        return select
    return select.where(sa.or_(created_at < after[0], sa.and_(created_at == after[0], key < after[1])))
