"""Engine factory and migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from service_core.db import Database, create_engine, is_sqlite, migrate, normalize_url

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
