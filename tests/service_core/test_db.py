"""Engine factory and migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from service_core.db import Database, create_engine, is_sqlite, is_transient_database_error, migrate, normalize_url

MIGRATIONS = Path(__file__).parent / "migrations_fixture"


def test_normalize_url_picks_async_drivers():
    assert normalize_url("postgresql://u@h:5432/d").startswith("postgresql+asyncpg://")
    assert normalize_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert normalize_url("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"


async def test_migrations_apply_in_order_and_are_idempotent(database_url):
    database = Database(database_url, MIGRATIONS, "plumbing_alembic_version")
    try:
        await database.open()
        await database.open()  # a restart: nothing left to do, nothing fails
        async with database.engine.begin() as connection:
            await connection.execute(text("INSERT INTO plumbing_notes (body) VALUES ('hello')"))
            row = (await connection.execute(text("SELECT body, author FROM plumbing_notes"))).one()
            version = (await connection.execute(text("SELECT version_num FROM plumbing_alembic_version"))).scalar_one()
        assert tuple(row) == ("hello", "anonymous")
        assert version == "0002"
    finally:
        await database.close()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'nested' / 'wal.db'}")
    try:
        async with engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        assert (journal, foreign_keys) == ("wal", 1)
        assert is_sqlite(engine)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_concurrent_migrations_on_postgres_do_not_collide(postgres_url):
    """Two replicas starting together: the advisory lock serialises them."""
    engines = [create_engine(postgres_url) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(e, MIGRATIONS, "plumbing_alembic_version") for e in engines))
        async with engines[0].connect() as connection:
            versions = (await connection.execute(text("SELECT version_num FROM plumbing_alembic_version"))).all()
        assert [v[0] for v in versions] == ["0002"]
    finally:
        for engine in engines:
            await engine.dispose()


def test_transient_database_errors_are_told_apart_from_bugs():
    locked = sa_exc.OperationalError("UPDATE t", {}, Exception("database is locked"))
    lost = sa_exc.DBAPIError("SELECT 1", {}, Exception("connection reset"), connection_invalidated=True)
    duplicate = sa_exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
    assert is_transient_database_error(locked) and is_transient_database_error(lost)
    assert is_transient_database_error(ConnectionRefusedError(111, "refused"))
    assert is_transient_database_error(sa_exc.TimeoutError("QueuePool limit reached"))
    assert not is_transient_database_error(duplicate)
    assert not is_transient_database_error(sa_exc.ProgrammingError("SELEC", {}, Exception("syntax")))
    assert not is_transient_database_error(ValueError("bug"))
