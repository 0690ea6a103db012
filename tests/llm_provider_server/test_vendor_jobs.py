"""Batch jobs larger than a vendor takes: split into vendor jobs behind one BatchJob, with
counts and state aggregated; cancels reach every vendor job exactly once."""

from __future__ import annotations

import grpc
import pytest
from huleedu.llm.v1 import batch_job_pb2, comparison_pb2
from huleedu.llm.v1 import batch_job_service_pb2 as jobs_pb
from huleedu.llm.v1 import llm_provider_service_pb2 as pb

from llm_provider_server.domain.model import Provider
from tests.helpers import wait_until
from tests.llm_provider_server.harness import comparison, lps

S = batch_job_pb2.BatchJob


async def create(h, request_id: str, count: int, prefix: str):
    response = await h.jobs.CreateBatchJob(
        jobs_pb.CreateBatchJobRequest(
            request_id=request_id, requests=[comparison(f"{prefix}{i}", consumer="jobs") for i in range(count)]
        ),
        timeout=60,
    )
    return response.batch_job


async def final(h, name: str) -> batch_job_pb2.BatchJob:
    last = None
    async for message in h.jobs.WatchBatchJob(jobs_pb.WatchBatchJobRequest(name=name), timeout=60):
        last = message.batch_job
    return last


async def get(h, name: str) -> batch_job_pb2.BatchJob:
    return (await h.jobs.GetBatchJob(jobs_pb.GetBatchJobRequest(name=name))).batch_job


async def test_a_job_larger_than_the_vendor_takes_is_split_and_aggregated(database_url):
    async with lps(database_url, vendor_job_max_items=4) as h:
        job = await create(h, "split-1", 10, "s")
        done = await final(h, job.name)
        assert done.state == S.STATE_COMPLETED
        assert done.request_counts.total == 10 and done.request_counts.succeeded == 10
        parts = await h.app.jobs.parts(job.name.removeprefix("batchJobs/"))
        assert [(p.first_index, p.item_count) for p in parts] == [(0, 4), (4, 4), (8, 2)]
        assert [v.first_index for v in done.vendor_jobs] == [0, 4, 8]
        assert len({v.provider_job_id for v in done.vendor_jobs}) == 3
        assert done.provider_job_id == done.vendor_jobs[0].provider_job_id
        assert [v.request_counts.succeeded for v in done.vendor_jobs] == [4, 4, 2]
        assert h.sample("llm_provider_batch_api_job_splits_total", {"provider": "mock"}) == 1
        assert h.sample("llm_provider_batch_api_vendor_jobs_total", {"provider": "mock"}) == 3
        results = await h.collect(10, consumer="jobs")
        assert sorted(r.request_id for r in results) == sorted(f"s{i}" for i in range(10))


async def test_create_batch_job_takes_its_contracts_ten_thousand(database_url):
    async with lps(database_url, mock_batch_processing_seconds=0.5, queue_capacity=20_000) as h:
        job = await create(h, "big", 2_000, "b")
        assert job.request_counts.total == 2_000
        done = await final(h, job.name)
        assert done.state == S.STATE_COMPLETED and done.request_counts.succeeded == 2_000
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await h.jobs.CreateBatchJob(
                jobs_pb.CreateBatchJobRequest(
                    request_id="too-big", requests=[comparison(f"t{i}", consumer="jobs") for i in range(10_001)]
                ),
                timeout=60,
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "10000" in caught.value.details()


async def _cancelling(h, name: str) -> bool:
    return (await get(h, name)).state == S.STATE_CANCELLING


async def test_cancel_batch_job_reaches_each_vendor_job_once(database_url):
    settings = {
        "vendor_job_max_items": 3,
        "mock_batch_processing_seconds": 3.0,
        "mock_batch_finalizing_seconds": 0.6,  # several polls (every 0.1 s) while cancelling
    }
    async with lps(database_url, **settings) as h:
        job = await create(h, "cancel-1", 6, "c")
        assert await wait_until(lambda: _submitted(h, job.name, 2))
        cancelled = (await h.jobs.CancelBatchJob(jobs_pb.CancelBatchJobRequest(name=job.name))).batch_job
        assert cancelled.state == S.STATE_CANCELLING
        done = await final(h, job.name)
        assert done.state == S.STATE_CANCELLED
        counts = done.request_counts
        assert counts.cancelled >= 1 and counts.succeeded + counts.cancelled == 6
        mock = h.app.adapters[Provider.MOCK].batch
        vendor_ids = [v.provider_job_id for v in done.vendor_jobs]
        assert all(v.cancel_time.seconds for v in done.vendor_jobs)
        assert sorted(mock.cancels) == sorted(vendor_ids), "one cancel per vendor job, never repeated"
        assert h.sample("llm_provider_batch_api_vendor_cancels_total", {"provider": "mock"}) == 2
        assert h.sample("llm_provider_cancellations_total", {"kind": "batch_job"}) == 1


async def _submitted(h, name: str, parts: int) -> bool:
    stored = await h.app.jobs.parts(name.removeprefix("batchJobs/"))
    return len(stored) == parts and all(p.submitted for p in stored)


async def test_cancelling_every_comparison_cancels_the_vendor_jobs(database_url):
    """What CJ's CancelAssessment does: CancelComparison for each of the job's requests."""
    async with lps(database_url, vendor_job_max_items=2, mock_batch_processing_seconds=3.0) as h:
        job = await create(h, "cancel-2", 4, "k")
        assert await wait_until(lambda: _submitted(h, job.name, 2))
        for i in range(4):
            await h.stub.CancelComparison(pb.CancelComparisonRequest(name=f"comparisons/k{i}"))
        done = await final(h, job.name)
        assert done.state == S.STATE_CANCELLED
        mock = h.app.adapters[Provider.MOCK].batch
        assert sorted(mock.cancels) == sorted(v.provider_job_id for v in done.vendor_jobs)
        outcomes = {r.outcome for r in await h.collect(4, consumer="jobs")}
        assert outcomes == {comparison_pb2.ComparisonResult.OUTCOME_CANCELLED}
