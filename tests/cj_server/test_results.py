"""The result consumer: batches applied in one transaction, idempotent under duplicates and
redelivery, on SQLite and PostgreSQL."""

from __future__ import annotations

from huleedu.llm.v1 import comparison_pb2

from cj_server import converters
from tests.cj_server.harness import essays, stack
from tests.helpers import wait_until


def result(assessment_id: str, comparison_id: str, winner: int, outcome=None) -> comparison_pb2.ComparisonResult:
    return comparison_pb2.ComparisonResult(
        request_id=f"cj:{comparison_id}",
        outcome=outcome or comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED,
        winner=winner,
        confidence=4.0,
        metadata={"assessment_id": assessment_id, "comparison_id": comparison_id},
    )


async def _pending(s, name: str, count: int) -> bool:
    return (await s.get(name)).progress.comparisons_pending >= count


async def test_a_batch_with_duplicates_and_redelivery_counts_each_result_once(database_url):
    a_wins, b_wins = comparison_pb2.WINNER_ESSAY_A, comparison_pb2.WINNER_ESSAY_B
    async with stack(database_url, database_url, lps_overrides={"mock_latency_ms": 60_000}) as s:
        created = await s.create(essays=essays(8), comparison_budget=4)
        assessment_id = created.name.split("/")[1]
        assert await wait_until(lambda: _pending(s, created.name, 4))
        ids = [f"{assessment_id}-1-{i}" for i in range(4)]
        failed = comparison_pb2.ComparisonResult.OUTCOME_FAILED

        async def apply(*results) -> int:
            return await s.cj.results.apply([converters.arrived(r) for r in results])

        first = [
            result(assessment_id, ids[2], b_wins),
            result(assessment_id, ids[0], a_wins),
            result(assessment_id, ids[0], b_wins),  # a duplicate inside the batch
            result(assessment_id, "no-such-comparison", a_wins),
            result("no-such-assessment", ids[1], a_wins),
            comparison_pb2.ComparisonResult(request_id="not-cj"),
        ]
        assert await apply(*first) == 2
        assert await apply(*first) == 0, "the whole batch redelivered changes nothing"
        assert await apply(result(assessment_id, ids[1], a_wins), result(assessment_id, ids[0], b_wins)) == 1
        assert await apply(result(assessment_id, ids[3], a_wins, failed)) == 1
        progress = (await s.get(created.name)).progress
        assert (progress.comparisons_succeeded, progress.comparisons_failed) == (3, 1)
        rows = await s.cj.store.engine_rows(assessment_id)
        assert sorted(r.result_seq for r in rows if r.result_seq) == [1, 2, 3, 4]
        assert {r.comparison_id: r.first_won for r in rows if r.status == "succeeded"} == {
            ids[0]: True,  # the first outcome of ids[0] stands
            ids[1]: True,
            ids[2]: False,
        }
        batch = await s.cj.store.events_after(assessment_id, 0)
        judgements = [converters.event_from_bytes(p, q) for q, p, _ in batch]
        assert sum(e.HasField("judgement") for e in judgements) == 4
    duplicates = s.cj.registry.get_sample_value("cj_judgements_total", {"outcome": "duplicate"})
    assert duplicates == 7  # 2 + the whole first batch again (4) + ids[0] once more
    assert s.cj.registry.get_sample_value("cj_judgements_total", {"outcome": "orphan"}) == 4
