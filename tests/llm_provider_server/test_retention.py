"""Retention: acknowledged results (and their finished requests) are pruned once they are older
than the retention period; unacknowledged and recent ones stay."""

from __future__ import annotations

from tests.llm_provider_server.test_claims import new, store  # noqa: F401


async def _finish(store, request_id: str, at: float) -> None:  # noqa: F811
    """Submit and end a request (two lapsed claims at max_attempts=2: FAILED, WORKER_LOST)."""
    await store.submit([new(request_id)], now=at)
    for attempt in (1, 2):
        await store.claim_requests("w", now=at + attempt, lease=0.5, limit=50)
        await store.release_stale_claims(now=at + attempt + 0.6)


async def test_acknowledged_results_older_than_retention_are_pruned(store):  # noqa: F811
    for request_id in ("old-acked", "old-unacked", "new-acked"):
        await _finish(store, request_id, at=0.0 if request_id.startswith("old") else 500.0)
    assert await store.ack("cj", ["old-acked"], now=10.0) == 1
    assert await store.ack("cj", ["new-acked"], now=510.0) == 1

    assert await store.prune_acknowledged(cutoff=100.0) == 1
    assert await store.get("old-acked") is None
    kept_unacked, kept_recent = await store.get("old-unacked"), await store.get("new-acked")
    assert kept_unacked is not None and kept_unacked.result is not None
    assert kept_recent is not None and kept_recent.result is not None
    assert await store.prune_acknowledged(cutoff=100.0) == 0
    assert await store.prune_acknowledged(cutoff=1_000.0) == 1
    assert await store.get("new-acked") is None
