"""create_once under concurrent repeats, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from service_core.db import create_engine
from service_core.errors import AlreadyExists
from service_core.idempotency import create_once

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=False, unique=True),
    sa.Column("content", sa.String(64), nullable=False),
)


async def _setup(database_url: str):
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return engine


def _create(engine, request_id: str, content: str):
    async def find():
        async with engine.connect() as connection:
            row = (await connection.execute(sa.select(things).where(things.c.request_id == request_id))).first()
            return dict(row._mapping) if row else None

    async def insert():
        await asyncio.sleep(0)  # let the repeats interleave between lookup and insert
        async with engine.begin() as connection:
            await connection.execute(sa.insert(things).values(request_id=request_id, content=content))
        return await find()

    return create_once(
        find,
        insert,
        matches=lambda row: row["content"] == content,
        conflict=lambda row: AlreadyExists(f"request_id names thing {row['id']}"),
    )


async def test_concurrent_repeats_all_get_the_original(database_url):
    engine = await _setup(database_url)
    try:
        answers = await asyncio.gather(*[_create(engine, "r1", "same") for _ in range(12)])
        assert len({row["id"] for row, _ in answers}) == 1
        assert sum(created for _, created in answers) == 1
        async with engine.connect() as connection:
            assert (await connection.execute(sa.select(sa.func.count()).select_from(things))).scalar() == 1
    finally:
        await engine.dispose()


async def test_a_key_reused_with_other_content_is_already_exists(database_url):
    engine = await _setup(database_url)
    try:
        original, _ = await _create(engine, "r1", "first")
        with pytest.raises(AlreadyExists, match=f"thing {original['id']}"):
            await _create(engine, "r1", "second")
    finally:
        await engine.dispose()
