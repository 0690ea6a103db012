"""Shared fixtures: databases on SQLite and PostgreSQL.

PostgreSQL tests run against HULEEDU_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test). Each test gets a fresh database
that is dropped afterwards. When the server cannot be reached the tests are
skipped with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("HULEEDU_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


_postgres_problem: str | None = None
_postgres_checked = False


def postgres_unavailable() -> str | None:
    global _postgres_checked, _postgres_problem
    if not _postgres_checked:
        _postgres_checked = True
        try:
            asyncio.run(_admin("SELECT 1"))
        except Exception as exc:
            _postgres_problem = f"PostgreSQL at {POSTGRES_URL} unreachable: {exc!r}"
    return _postgres_problem


def require_postgres() -> None:
    problem = postgres_unavailable()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(problem)


def create_postgres_database(name: str) -> str:
    """Create an empty PostgreSQL database; its asyncpg URL."""
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (asyncpg URL)."""
    require_postgres()
    name = f"huleedu_test_{uuid.uuid4().hex[:12]}"
    url = create_postgres_database(name)
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """Parametrises a storage test over SQLite (a file in tmp_path) and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")
