"""provider_batch_api at scale: 2,000 essays at CJ's default budget (20 comparisons per essay,
20,000 comparisons) go to the LPS as CreateBatchJob calls within its contract (at most 10,000
requests each), which the LPS splits further to the vendor's limits and runs to the end."""

from __future__ import annotations

import pytest
from huleedu.cj.v1 import assessment_pb2

from tests.cj_server.harness import essays, stack
from tests.helpers import wait_until

A = assessment_pb2.Assessment


@pytest.mark.slow
async def test_two_thousand_essays_at_the_default_budget_reach_the_vendor(database_url):
    """The wave of 20,000 comparisons is accepted (two jobs of 10,000), every request is judged by
    the vendor, and CJ applies the 20,000 results and finishes the assessment."""
    lps = {"queue_capacity": 40_000, "vendor_job_max_items": 8_000, "mock_batch_processing_seconds": 1.0}
    async with stack(database_url, database_url, lps_overrides=lps) as s:
        created = await s.create(
            essays=essays(2_000), llm_batching_mode=assessment_pb2.BATCHING_MODE_PROVIDER_BATCH_API
        )

        async def judged() -> bool:
            jobs = await s.lps.jobs.list_jobs(limit=10, after=None, states=[], provider=None)
            return len(jobs) == 2 and all(job.state.is_terminal for job in jobs)

        assert await wait_until(judged, timeout=240)
        jobs = await s.lps.jobs.list_jobs(limit=10, after=None, states=[], provider=None)
        parts = [await s.lps.jobs.parts(job.job_id) for job in jobs]

        async def ended() -> bool:
            return (await s.get(created.name)).state in (A.STATE_SUCCEEDED, A.STATE_FAILED)

        assert await wait_until(ended, timeout=240, interval=0.5)
        done = await s.get(created.name)
        result = await s.result(created.name)
    assert done.state == A.STATE_SUCCEEDED, done
    assert done.progress.comparisons_submitted == 20_000
    assert result.comparisons_succeeded == 20_000 and len(result.essay_results) == 2_000
    assert sorted(job.item_count for job in jobs) == [10_000, 10_000]
    assert sorted(job.request_id.rsplit("-", 1)[1] for job in jobs) == ["0", "1"]
    assert all(len(p) == 2 for p in parts), "each job split to the (lowered) vendor limit"
    assert sum(job.counts.succeeded for job in jobs) == 20_000
