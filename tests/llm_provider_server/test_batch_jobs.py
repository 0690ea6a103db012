"""The BatchJobService: lifecycle, paging, cancel, expiry, partial errors, late output, restart."""

from __future__ import annotations

import grpc
import pytest
from huleedu.llm.v1 import batch_job_pb2, comparison_pb2
from huleedu.llm.v1 import batch_job_service_pb2 as jobs_pb

from tests.helpers import wait_until
from tests.llm_provider_server.harness import comparison, lps

S = batch_job_pb2.BatchJob
R = comparison_pb2.ComparisonResult


async def create(h, request_id: str, count: int, prefix: str = "j"):
    response = await h.jobs.CreateBatchJob(
        jobs_pb.CreateBatchJobRequest(
            request_id=request_id, requests=[comparison(f"{prefix}{i}", consumer="jobs") for i in range(count)]
        ),
        timeout=10,
    )
    return response.batch_job


async def watch_states(h, name: str) -> list[batch_job_pb2.BatchJob]:
    seen = []
    async for message in h.jobs.WatchBatchJob(jobs_pb.WatchBatchJobRequest(name=name), timeout=30):
        seen.append(message.batch_job)
    return seen


async def test_lifecycle_results_and_idempotency(database_url):
    async with lps(database_url, mock_mode="latent_bt", mock_batch_processing_seconds=0.5) as h:
        job = await create(h, "job-1", 6)
        assert job.state == S.STATE_VALIDATING and job.request_counts.total == 6
        assert len(job.comparisons) == 6
        again = await create(h, "job-1", 6)
        assert again.name == job.name, "the same request_id returns the same job"
        states = [j.state for j in await watch_states(h, job.name)]
        assert states[-1] == S.STATE_COMPLETED
        assert S.STATE_IN_PROGRESS in states
        assert states == sorted(
            states, key=[S.STATE_VALIDATING, S.STATE_IN_PROGRESS, S.STATE_FINALIZING, S.STATE_COMPLETED].index
        )
        done = (await h.jobs.GetBatchJob(jobs_pb.GetBatchJobRequest(name=job.name))).batch_job
        assert done.request_counts.succeeded == 6 and done.end_time.seconds > 0 and done.provider_job_id
        page = await h.jobs.ListBatchJobResults(jobs_pb.ListBatchJobResultsRequest(name=job.name, page_size=4))
        rest = await h.jobs.ListBatchJobResults(
            jobs_pb.ListBatchJobResultsRequest(name=job.name, page_size=4, page_token=page.next_page_token)
        )
        assert len(page.results) == 4 and len(rest.results) == 2 and not rest.next_page_token
        assert {r.outcome for r in [*page.results, *rest.results]} == {R.OUTCOME_SUCCEEDED}
        assert all(r.batch_job == job.name for r in page.results)
        delivered = await h.collect(6, consumer="jobs")
        assert len(delivered) == 6
        labels = {"provider": "mock", "model": "mock-judge-v1"}
        assert h.sample("llm_provider_batch_api_jobs_total", {**labels, "status": "scheduled"}) == 1
        assert h.sample("llm_provider_batch_api_jobs_total", {**labels, "status": "completed"}) == 1
        assert (
            h.sample(
                "llm_provider_comparison_callbacks_total", {"queue_processing_mode": "batch_api", "result": "success"}
            )
            == 6
        )


async def test_cancel_keeps_finished_results_and_cancels_the_rest(database_url):
    async with lps(database_url, mock_batch_processing_seconds=2.0, mock_batch_finalizing_seconds=0.1) as h:
        job = await create(h, "job-c", 10)
        assert await wait_until(lambda: _counts(h, job.name, lambda c: c.succeeded >= 1))
        cancelled = (await h.jobs.CancelBatchJob(jobs_pb.CancelBatchJobRequest(name=job.name))).batch_job
        assert cancelled.state == S.STATE_CANCELLING
        final = (await watch_states(h, job.name))[-1]
        assert final.state == S.STATE_CANCELLED
        counts = final.request_counts
        assert counts.succeeded >= 1 and counts.cancelled >= 1 and counts.succeeded + counts.cancelled == 10
        outcomes = [r.outcome for r in await h.collect(10, consumer="jobs")]
        assert outcomes.count(R.OUTCOME_SUCCEEDED) == counts.succeeded
        assert outcomes.count(R.OUTCOME_CANCELLED) == counts.cancelled
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await h.jobs.CancelBatchJob(jobs_pb.CancelBatchJobRequest(name=job.name))
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def _counts(h, name, predicate) -> bool:
    job = (await h.jobs.GetBatchJob(jobs_pb.GetBatchJobRequest(name=name))).batch_job
    return job.state == S.STATE_IN_PROGRESS and predicate(job.request_counts)


async def test_expiry_keeps_partial_results(database_url):
    async with lps(database_url, mock_batch_processing_seconds=2.0, mock_batch_window_seconds=1.0) as h:
        job = await create(h, "job-e", 8)
        final = (await watch_states(h, job.name))[-1]
        assert final.state == S.STATE_EXPIRED
        assert final.request_counts.succeeded >= 1 and final.request_counts.expired >= 1
        outcomes = {r.outcome for r in await h.collect(8, consumer="jobs")}
        assert outcomes == {R.OUTCOME_SUCCEEDED, R.OUTCOME_EXPIRED}


async def test_errored_items_fail_alone(database_url):
    async with lps(database_url, mock_error_rate=0.5) as h:
        job = await create(h, "job-x", 12)
        final = (await watch_states(h, job.name))[-1]
        assert final.state == S.STATE_COMPLETED
        assert final.request_counts.errored >= 1 and final.request_counts.succeeded >= 1
        results = await h.collect(12, consumer="jobs")
        failed = [r for r in results if r.outcome == R.OUTCOME_FAILED]
        assert len(failed) == final.request_counts.errored and all(r.error.code for r in failed)


async def test_completed_before_output_is_readable_stays_finalizing(database_url):
    async with lps(database_url, mock_batch_output_delay_seconds=0.6) as h:
        job = await create(h, "job-late", 3)
        states = [j.state for j in await watch_states(h, job.name)]
        assert states[-1] == S.STATE_COMPLETED
        assert S.STATE_FINALIZING in states


async def test_restarted_server_resumes_polling(database_url):
    async with lps(database_url, mock_batch_processing_seconds=1.0) as h:
        job = await create(h, "job-r", 4)
        assert await wait_until(lambda: _state(h, job.name, S.STATE_IN_PROGRESS))
    async with lps(database_url) as restarted:
        final = (await watch_states(restarted, job.name))[-1]
        assert final.state == S.STATE_COMPLETED and final.request_counts.succeeded == 4


async def _state(h, name, state) -> bool:
    return (await h.jobs.GetBatchJob(jobs_pb.GetBatchJobRequest(name=name))).batch_job.state == state


async def test_list_pages_and_filters(database_url):
    async with lps(database_url) as h:
        for i in range(5):
            await create(h, f"list-{i}", 1, prefix=f"l{i}-")
        first = await h.jobs.ListBatchJobs(jobs_pb.ListBatchJobsRequest(page_size=2))
        second = await h.jobs.ListBatchJobs(jobs_pb.ListBatchJobsRequest(page_size=2, page_token=first.next_page_token))
        third = await h.jobs.ListBatchJobs(jobs_pb.ListBatchJobsRequest(page_size=2, page_token=second.next_page_token))
        names = [j.name for page in (first, second, third) for j in page.batch_jobs]
        assert len(names) == 5 == len(set(names)) and not third.next_page_token
        assert await wait_until(lambda: _all_completed(h, 5))
        done = await h.jobs.ListBatchJobs(jobs_pb.ListBatchJobsRequest(states=[S.STATE_COMPLETED]))
        assert len(done.batch_jobs) == 5
        none = await h.jobs.ListBatchJobs(jobs_pb.ListBatchJobsRequest(states=[S.STATE_FAILED]))
        assert not none.batch_jobs
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await h.jobs.ListBatchJobs(jobs_pb.ListBatchJobsRequest(page_token="garbage!"))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def _all_completed(h, count) -> bool:
    done = await h.jobs.ListBatchJobs(jobs_pb.ListBatchJobsRequest(states=[S.STATE_COMPLETED]))
    return len(done.batch_jobs) == count


async def test_bad_job_requests(database_url):
    async with lps(database_url) as h:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await h.jobs.CreateBatchJob(jobs_pb.CreateBatchJobRequest(request_id="", requests=[comparison("z1")]))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await h.jobs.GetBatchJob(jobs_pb.GetBatchJobRequest(name="batchJobs/none"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as malformed:
            await h.jobs.GetBatchJob(jobs_pb.GetBatchJobRequest(name="jobs/1"))
        assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        await h.submit(comparison("taken"))
        with pytest.raises(grpc.aio.AioRpcError) as taken:
            await h.jobs.CreateBatchJob(jobs_pb.CreateBatchJobRequest(request_id="j", requests=[comparison("taken")]))
        assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
