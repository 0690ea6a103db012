"""provider_batch_api at scale: 2,000 essays at CJ's default budget (20 comparisons per essay,
20,000 comparisons) go to the LPS as CreateBatchJob calls within its contract (at most 10,000
requests each), which the LPS splits further to the vendor's limits; the assessment ends."""

from __future__ import annotations

import pytest
from huleedu.cj.v1 import assessment_pb2
from huleedu.llm.v1 import comparison_pb2

from cj_server.service import BATCH_JOB_MAX_REQUESTS, batch_job_chunks
from tests.cj_server.harness import essays, stack

A = assessment_pb2.Assessment


def test_chunks_respect_the_request_count_and_the_message_size():
    requests = [comparison_pb2.ComparisonRequest(request_id=f"r{i}", essay_a_text="x" * 100) for i in range(25_000)]
    chunks = batch_job_chunks(requests, max_bytes=16 * 1024 * 1024)
    assert [len(c) for c in chunks] == [10_000, 10_000, 5_000]
    small = batch_job_chunks(requests[:100], max_bytes=1_500)
    assert all(sum(r.ByteSize() + 8 for r in c) <= 1_500 for c in small) and sum(map(len, small)) == 100
    assert BATCH_JOB_MAX_REQUESTS == 10_000


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
