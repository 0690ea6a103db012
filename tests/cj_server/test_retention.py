"""Retention: once an assessment ended longer ago than the retention period, its judgement and
progress events go (its result, final events and comparisons stay), and outbox rows delivered
that long ago go; nothing of a running assessment or an undelivered row is touched."""

from __future__ import annotations

import sqlalchemy as sa
from huleedu.cj.v1 import assessment_pb2
from huleedu.cj.v1 import cj_assessment_service_pb2 as pb

from cj_server.store import comparisons, events, outbox
from tests.cj_server.harness import RecordingRas, essays, stack
from tests.helpers import wait_until

A = assessment_pb2.Assessment


async def _count(store, table, **where) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    async with store.engine.connect() as connection:
        return (await connection.execute(query)).scalar_one()


async def test_events_of_ended_assessments_and_delivered_outbox_rows_are_pruned(database_url):
    ras = RecordingRas()
    async with stack(database_url, database_url, ras=ras) as s:
        created = await s.create(essays=essays(5), comparison_budget=6, batch_id="batch-r")
        streamed = await s.finish(created.name)
        assessment_id = created.name.partition("/")[2]
        store = s.cj.store

        async def delivered() -> bool:
            return await _count(store, outbox) > 0 and len(ras.results) == 1

        assert await wait_until(delivered, timeout=30)
        before = await _count(store, events, assessment_id=assessment_id)
        judged = await _count(store, comparisons, assessment_id=assessment_id)
        assert await store.prune(cutoff=0.0) == (0, 0), "nothing is older than the epoch"

        pruned_events, pruned_outbox = await store.prune(cutoff=s.cj.clock() + 1)
        assert pruned_events == before - await _count(store, events, assessment_id=assessment_id) > 0
        assert pruned_outbox >= 1 and await _count(store, outbox, delivered_at=None) == await _count(store, outbox)
        assert await _count(store, comparisons, assessment_id=assessment_id) == judged
        # The stream of a pruned assessment still ends, with its final events; the result stays.
        rest = [e async for e in s.stub.StreamComparisonResults(pb.StreamComparisonResultsRequest(name=created.name))]
        assert rest and rest[-1].WhichOneof("event") == streamed[-1].WhichOneof("event")
        assert (await s.get(created.name)).state == A.STATE_SUCCEEDED
        assert len((await s.result(created.name)).essay_results) == 5
