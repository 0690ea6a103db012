"""Claims: renewed while their work runs, never run twice, never past the attempt budget;
the queue's capacity holds under concurrent submits."""

from __future__ import annotations

import asyncio

import pytest
from huleedu.llm.v1 import comparison_pb2

from llm_provider_server.app import MIGRATIONS
from llm_provider_server.domain.model import ComparisonSpec, Outcome, Provider, RequestStatus
from llm_provider_server.store import LpsStore, NewRequest
from service_core.db import Database
from service_core.errors import ResourceExhausted
from tests.llm_provider_server.harness import comparison, lps, provider_calls

R = comparison_pb2.ComparisonResult


@pytest.mark.parametrize("mode", ["per_request", "serial_bundle"])
async def test_work_longer_than_the_lease_runs_once_on_two_servers(database_url, mode):
    """Calls last three leases; the heartbeat keeps both servers' claims, so neither server
    claims the other's (or its own) running requests again."""
    slow = {
        "queue_processing_mode": mode,
        "claim_lease_seconds": 0.8,
        "mock_latency_ms": 2400,
        "max_concurrency_per_model": 4,
        "bundle_max_items": 4,
        "max_attempts": 4,
    }
    async with lps(database_url, **slow) as first, lps(database_url, **slow) as second:
        await first.submit(*(comparison(f"slow{i}") for i in range(12)))
        results = await first.collect(12, timeout=90)
        calls = provider_calls(first, second)
        await asyncio.sleep(0.5)  # several sweeps more: nothing is released and run again
        assert provider_calls(first, second) == calls
    assert sorted(r.request_id for r in results) == sorted(f"slow{i}" for i in range(12))
    assert all(r.outcome == R.OUTCOME_SUCCEEDED and r.attempts == 1 for r in results)
    assert calls == 12, f"{calls} provider calls for 12 requests"


@pytest.fixture
async def store(database_url):
    database = Database(database_url, MIGRATIONS, "lps_alembic_version")
    await database.open()
    yield LpsStore(database.engine, default_ttl_seconds=3600, capacity=10, max_attempts=2)
    await database.close()


def new(request_id: str) -> NewRequest:
    spec = ComparisonSpec(request_id=request_id, essay_a="A text.", essay_b="B text.", consumer="cj")
    return NewRequest(spec, Provider.MOCK, "mock-judge-v1")


async def test_a_claim_that_lapses_at_the_attempt_budget_ends_failed(store):
    """A worker that dies on every attempt: the request is tried max_attempts times, then ends
    FAILED (WORKER_LOST) instead of being claimed a third time."""
    await store.submit([new("doomed")], now=0.0)
    for attempt in (1, 2):
        [claimed] = await store.claim_requests("dies", now=10.0 * attempt, lease=1.0, limit=5)
        assert claimed.attempts == attempt
        assert await store.release_stale_claims(now=10.0 * attempt + 5) == 1
    stored = await store.get("doomed")
    assert stored is not None and stored.status is RequestStatus.FAILED and stored.attempts == 2
    assert stored.result is not None and stored.result.error is not None
    assert (stored.result.outcome, stored.result.error.reason) == (Outcome.FAILED, "WORKER_LOST")
    assert await store.claim_requests("next", now=100.0, lease=1.0, limit=5) == []


async def test_renewed_claims_are_not_released_and_lost_claims_are_reported(store):
    await store.submit([new("kept"), new("lost")], now=0.0)
    claimed = await store.claim_requests("w1", now=1.0, lease=1.0, limit=5)
    assert {c.spec.request_id for c in claimed} == {"kept", "lost"}
    assert await store.renew_claims("w1", ["kept", "lost"], now=1.5, lease=1.0) == set()
    assert await store.release_stale_claims(now=2.2) == 0, "renewed until 2.5"
    assert await store.renew_claims("w1", ["kept"], now=2.4, lease=1.0) == set()
    assert await store.release_stale_claims(now=3.0) == 1, "'lost' lapsed at 2.5"
    assert await store.renew_claims("w1", ["kept", "lost"], now=3.1, lease=1.0) == {"lost"}
    [again] = await store.claim_requests("w2", now=3.2, lease=1.0, limit=5)
    assert again.spec.request_id == "lost" and again.attempts == 2


async def test_capacity_holds_under_concurrent_submits(store):
    """Twenty submits at once into a queue of ten: exactly ten are accepted (on PostgreSQL
    each submit counts in its own transaction, concurrently)."""

    async def submit(i: int) -> bool:
        try:
            await store.submit([new(f"c{i}")], now=float(i))
        except ResourceExhausted:
            return False
        return True

    accepted = await asyncio.gather(*(submit(i) for i in range(20)))
    assert sum(accepted) == 10
    depth = await store.queue_depth()
    assert depth["queued"] + depth["processing"] == 10


@pytest.mark.parametrize("mode", ["per_request", "serial_bundle"])
async def test_a_burst_with_staggered_latencies_is_all_recorded_and_frees_every_slot(database_url, mode):
    """Calls finish at different times while outcomes are being written: every outcome reaches the
    writer (none is appended to a batch already taken), so slots and claims are all given back."""
    async with lps(
        database_url, queue_processing_mode=mode, mock_latency_ms=5, mock_latency_jitter_ms=40, bundle_max_items=16
    ) as h:
        await h.submit(*(comparison(f"b{i}") for i in range(300)))
        results = await h.collect(300, timeout=120)
        assert len({r.request_id for r in results}) == 300
        assert all(r.outcome == R.OUTCOME_SUCCEEDED and r.attempts == 1 for r in results)
        assert h.app.worker.in_flight_total == 0 and not h.app.worker.held
        assert provider_calls(h) == 300


async def test_models_with_work_lists_each_queued_provider_and_model_once(store):
    store.capacity = 100
    models = [(Provider.ANTHROPIC, "claude-b"), (Provider.MOCK, "m1"), (Provider.MOCK, "m2"), (Provider.OPENAI, "gpt")]
    for index, (provider, model) in enumerate([*models, *models, (Provider.MOCK, "m1")]):
        spec = ComparisonSpec(request_id=f"k{index}", essay_a="A text.", essay_b="B text.", consumer="cj")
        await store.submit([NewRequest(spec, provider, model)], now=0.0)
    assert await store.queued_keys() == models
    # running requests are not queued work: claim every m2 request
    assert len(await store.claim_requests("w", now=1.0, lease=60, limit=10, provider=Provider.MOCK, model="m2")) == 2
    assert await store.queued_keys() == [models[0], models[1], models[3]]


async def test_requests_stored_before_the_essay_columns_are_read_and_run_as_before(store):
    """Migration 0005 moved the essays out of spec_json; rows written before it (essays inside
    the JSON, the columns NULL) are read, claimed and expired as they were."""
    import json

    from llm_provider_server.store import requests_table, spec_to_json

    spec = ComparisonSpec(request_id="old", essay_a="Åsa's essay.", essay_b="Other essay.", consumer="cj")
    row = store._row(NewRequest(spec, Provider.MOCK, "mock-judge-v1"), now=0.0)
    old_json = json.loads(row["spec_json"])
    old_json.update(essay_a=spec.essay_a, essay_b=spec.essay_b)
    row.update(spec_json=json.dumps(old_json, sort_keys=True), essay_a=None, essay_b=None)
    async with store.transaction() as connection:
        await connection.execute(requests_table.insert(), [row])
    await store.submit([new("fresh")], now=0.0)
    assert "essay" not in spec_to_json(spec)  # new rows keep the essays in their columns only

    assert (await store.get("old")).spec == spec
    claimed = {c.spec.request_id: c.spec for c in await store.claim_requests("w", now=1.0, lease=60, limit=5)}
    assert claimed["old"] == spec and claimed["fresh"] == new("fresh").spec
