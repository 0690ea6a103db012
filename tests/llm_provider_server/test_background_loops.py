"""The LPS's background loops (queue dispatch, queue maintenance, batch poller) run under the one
supervisor of `service_core.background`: a loop that raises is restarted and logged once at ERROR."""

from __future__ import annotations

import logging

from huleedu.llm.v1 import batch_job_pb2, comparison_pb2
from huleedu.llm.v1 import batch_job_service_pb2 as jobs_pb

from service_core.retry import RetryPolicy
from tests.helpers import wait_until
from tests.llm_provider_server.harness import comparison, lps

FAST = RetryPolicy("test", base_seconds=0.01, cap_seconds=0.02)


def fail_once(target: object, name: str, failed: list[str]) -> None:
    """Make `target.name` raise the first time it is called, as a database that went away would."""
    original = getattr(target, name)

    async def once(*args, **kwargs):
        if name not in failed:
            failed.append(name)
            raise ConnectionError(f"database down in {name}")
        return await original(*args, **kwargs)

    setattr(target, name, once)


async def test_a_loop_that_raises_is_restarted_and_logged_once_at_error(database_url, caplog):
    async with lps(database_url) as h:
        worker, poller = h.app.worker, h.app.poller
        worker.supervisor.policy = poller.supervisor.policy = FAST
        failed: list[str] = []
        with caplog.at_level(logging.WARNING, "service_core.background"):
            fail_once(h.app.store, "queued_keys", failed)  # the per_request dispatcher's first read
            fail_once(h.app.store, "expire_due", failed)  # the maintenance loop's first step
            fail_once(h.app.jobs, "claim_due", failed)  # the batch poller's first step

            async def all_failed() -> bool:
                return len(failed) == 3

            assert await wait_until(all_failed)
            await h.submit(comparison("after-restart"))
            [result] = await h.collect(1)
            created = await h.jobs.CreateBatchJob(
                jobs_pb.CreateBatchJobRequest(request_id="job", requests=[comparison("in-a-job", consumer="jobs")]),
                timeout=10,
            )
            final = None
            async for update in h.jobs.WatchBatchJob(
                jobs_pb.WatchBatchJobRequest(name=created.batch_job.name), timeout=30
            ):
                final = update.batch_job
        restarts = {
            name: supervisor.restarts(name)
            for supervisor, name in (
                (worker.supervisor, "lps-dispatch"),
                (worker.supervisor, "lps-maintenance"),
                (poller.supervisor, "lps-batch-poller"),
            )
        }
    assert result.outcome == comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED, "the dispatcher runs again"
    assert final.state == batch_job_pb2.BatchJob.STATE_COMPLETED, "the poller runs again"
    assert restarts == {"lps-dispatch": 1, "lps-maintenance": 1, "lps-batch-poller": 1}
    logged = [r for r in caplog.records if r.name == "service_core.background"]
    assert sorted((r.levelname, r.loop, r.exc_info is not None) for r in logged) == [
        ("ERROR", "lps-batch-poller", True),
        ("ERROR", "lps-dispatch", True),
        ("ERROR", "lps-maintenance", True),
    ], "one ERROR with its traceback per failure, nothing else"
