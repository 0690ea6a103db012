"""provider_batch_api at scale: 2,000 essays at CJ's default budget (20 comparisons per essay,
20,000 comparisons) go to the LPS as CreateBatchJob calls within its contract (at most 10,000
requests each), which the LPS splits further to the vendor's limits; the assessment ends."""

from __future__ import annotations

import pytest
from huleedu.cj.v1 import assessment_pb2

from tests.cj_server.harness import essays, stack

A = assessment_pb2.Assessment


@pytest.mark.slow
@pytest.mark.timeout(1800)  # CJ applies 20,000 results one at a time; minutes on a busy machine
async def test_two_thousand_essays_at_the_default_budget(database_url):
    lps = {"queue_capacity": 40_000, "vendor_job_max_items": 8_000, "mock_batch_processing_seconds": 1.0}
    async with stack(database_url, database_url, lps_overrides=lps) as s:
        created = await s.create(
            essays=essays(2_000), llm_batching_mode=assessment_pb2.BATCHING_MODE_PROVIDER_BATCH_API
        )
        await s.finish(created.name, timeout=1700)
        done = await s.get(created.name)
        jobs = await s.lps.jobs.list(limit=10, after=None, states=[], provider=None)
        parts = [await s.lps.jobs.parts(job.job_id) for job in jobs]
    assert done.state == A.STATE_SUCCEEDED, done
    assert done.progress.comparisons_submitted == 20_000
    assert sorted(job.item_count for job in jobs) == [10_000, 10_000]
    assert all(len(p) == 2 for p in parts), "each job split to the (lowered) vendor limit"
    assert sum(job.counts.succeeded for job in jobs) == 20_000
