"""batch_api under the same resilience rules as the other modes, against the fake vendors: the
circuit breaker admits every vendor call of the batch poller (submit, poll, cancel, fetch) and is
fed by their failures, the requests-per-minute bucket paces them, the per-provider timeout bounds
them, and the vendors' batch queue limits hold submits back. A failed round of a job is retried
with the shared retry policy's backoff, its streak stored on the job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from huleedu.llm.v1 import batch_job_pb2, comparison_pb2
from huleedu.llm.v1 import batch_job_service_pb2 as jobs_pb

from llm_provider_server.app import LpsApp
from llm_provider_server.batch_poller import POLL_LEASE_SECONDS
from llm_provider_server.converters import spec_from_proto
from llm_provider_server.domain.batch_job import JobRecord, JobState
from llm_provider_server.domain.model import Provider
from llm_provider_server.store import jobs_table
from tests.helpers import wait_until
from tests.llm_provider_server.fake_vendors import FakeVendors, Scripted, assert_paced
from tests.llm_provider_server.harness import comparison, fast_settings, lps

S = batch_job_pb2.BatchJob
R = comparison_pb2.ComparisonResult
OPENAI = comparison_pb2.PROVIDER_OPENAI
ANTHROPIC = comparison_pb2.PROVIDER_ANTHROPIC
ANTHROPIC_BATCHES = "/v1/messages/batches"


def real(vendor: FakeVendors, **overrides) -> dict:
    return vendor.lps_settings(**{"provider_timeout_seconds": 5.0, "batch_poll_interval_seconds": 0.05, **overrides})


def requests(name: str, count: int, provider: int) -> list[comparison_pb2.ComparisonRequest]:
    overrides = comparison_pb2.LlmOverrides(provider=provider)
    return [comparison(f"{name}-{i}", consumer="jobs", overrides=overrides) for i in range(count)]


async def create(h, name: str, count: int, provider: int) -> S:
    response = await h.jobs.CreateBatchJob(
        jobs_pb.CreateBatchJobRequest(request_id=name, requests=requests(name, count, provider)), timeout=10
    )
    return response.batch_job


async def run_job(h, name: str, count: int, provider: int) -> tuple[S, list[R]]:
    created = await create(h, name, count, provider)
    final = None
    async for update in h.jobs.WatchBatchJob(jobs_pb.WatchBatchJobRequest(name=created.name), timeout=60):
        final = update.batch_job
    return final, await h.collect(count, consumer="jobs", timeout=30)


def calls_to(vendor: FakeVendors, path: str, before: int) -> int:
    """Calls to exactly `path` among the vendor's first `before` calls."""
    return sum(1 for _, _, called in vendor.calls[:before] if called == path)


def anthropic_retrieves(vendor: FakeVendors) -> list[float]:
    """When each Anthropic batch retrieve (a poll, or the first step of a fetch) reached the vendor."""
    return [
        t
        for t, method, path in vendor.calls
        if method == "GET" and path.startswith(f"{ANTHROPIC_BATCHES}/") and not path.endswith("/results")
    ]


async def test_an_open_breaker_holds_batch_submits(tmp_path, vendor):
    """Uploads of a batch answer 503: after `breaker_failure_threshold` of them the breaker opens, and
    no further call reaches the vendor while it is open; the job waits, nothing fails."""
    vendor.next_at("POST /v1/files", *(Scripted(status=503) for _ in range(50)))
    settings = real(vendor, breaker_failure_threshold=2, breaker_recovery_seconds=60)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        job = await create(h, "held", 3, OPENAI)

        async def opened() -> bool:
            return h.sample("llm_provider_circuit_breaker_state", {"provider": "openai"}) == 1

        assert await wait_until(opened)
        await asyncio.sleep(1.0)  # some twenty poll intervals while the breaker is open
        uploads = vendor.count("/v1/files")
        held = (await h.jobs.GetBatchJob(jobs_pb.GetBatchJobRequest(name=job.name))).batch_job
        failures = h.sample(
            "llm_provider_batch_api_poll_failures_total", {"provider": "openai", "reason": "PROVIDER_UNAVAILABLE"}
        )
    assert uploads == 2, f"{uploads} uploads to a failing vendor"
    assert failures == 2, "each failed submit is a failed round"
    assert held.state == S.STATE_VALIDATING and not vendor.batches, "the job waits; nothing was created"


async def test_poll_failures_open_the_breaker_and_a_trial_poll_closes_it(tmp_path, vendor):
    """Three polls answer 503: the breaker opens, no poll is sent until its recovery period has
    passed, then the trial poll succeeds, closes it, and the job completes."""
    vendor.next_at(f"GET {ANTHROPIC_BATCHES}/", *(Scripted(status=503) for _ in range(3)))
    settings = real(vendor, breaker_failure_threshold=3, breaker_recovery_seconds=1.0)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        final, results = await run_job(h, "flaky", 2, ANTHROPIC)
        state = h.sample("llm_provider_circuit_breaker_state", {"provider": "anthropic"})
    assert final.state == S.STATE_COMPLETED and {r.outcome for r in results} == {R.OUTCOME_SUCCEEDED}
    polls = anthropic_retrieves(vendor)
    assert len(polls) == 3 + vendor.anthropic_polls + 1, "three failed polls, the vendor's three, the fetch's"
    assert polls[3] - polls[2] >= 0.95, "no poll while the breaker was open"
    assert state == 0, "the trial poll closed the breaker"


async def test_requests_per_minute_pace_batch_calls(tmp_path, vendor):
    """240 a minute: a burst of 4 (the bucket), then 4 a second, over every submit, poll and fetch."""
    settings = real(vendor, anthropic_requests_per_minute=240, vendor_job_max_items=1)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        final, _ = await run_job(h, "paced", 3, ANTHROPIC)
    assert final.state == S.STATE_COMPLETED and len(final.vendor_jobs) == 3
    # One HTTP call per vendor call (a fetch's results read aside, which follows its retrieve)
    times = sorted(
        t for t, _, path in vendor.calls if path.startswith(ANTHROPIC_BATCHES) and not path.endswith("/results")
    )
    assert len(times) == 3 * (1 + vendor.anthropic_polls + 1), "each part: a submit, three polls, a fetch"
    assert_paced(times, per_second=4, burst=4)


async def test_a_hung_batch_poll_times_out_and_is_retried(tmp_path, vendor):
    """A poll that hangs past the provider's timeout is a retryable PROVIDER_TIMEOUT: the round is
    tried again and the job completes."""
    vendor.next_at(f"GET {ANTHROPIC_BATCHES}/", Scripted(delay=3.0))
    settings = real(vendor, anthropic_timeout_seconds=0.3)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        final, results = await run_job(h, "hung", 2, ANTHROPIC)
        timeouts = h.sample(
            "llm_provider_batch_api_poll_failures_total", {"provider": "anthropic", "reason": "PROVIDER_TIMEOUT"}
        )
    assert final.state == S.STATE_COMPLETED and {r.outcome for r in results} == {R.OUTCOME_SUCCEEDED}
    assert timeouts == 1
    assert len(anthropic_retrieves(vendor)) >= 2, "the hung poll was sent again"


async def test_the_anthropic_batch_queue_limit_holds_submits_until_room(tmp_path, vendor):
    """A queue of 2 requests: a job of 4 is split into vendor jobs of 2, and the second is submitted
    only once the first has ended."""
    settings = real(vendor, anthropic_batch_queue_requests=2)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        final, results = await run_job(h, "queued", 4, ANTHROPIC)
    assert final.state == S.STATE_COMPLETED and len(results) == 4
    assert [v.request_counts.total for v in final.vendor_jobs] == [2, 2]
    first, _ = list(vendor.batches)
    creates = [i for i, (_, method, path) in enumerate(vendor.calls) if method == "POST" and path == ANTHROPIC_BATCHES]
    assert len(creates) == 2
    ended_first = calls_to(vendor, f"{ANTHROPIC_BATCHES}/{first}", creates[1]) == vendor.anthropic_polls
    assert ended_first, "the second vendor job waited for the first to end"


async def test_the_openai_enqueued_token_limit_runs_vendor_jobs_one_at_a_time(tmp_path, vendor):
    """A limit below one request's prompt: every request is a vendor job of its own (estimated
    tokens stored with it), and each is submitted only when nothing else is enqueued."""
    settings = real(vendor, openai_batch_queue_tokens=1)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        final, results = await run_job(h, "tokens", 3, OPENAI)
        parts = await h.app.jobs.parts(final.name.removeprefix("batchJobs/"))
    assert final.state == S.STATE_COMPLETED and len(results) == 3
    assert [p.item_count for p in parts] == [1, 1, 1] and all(p.estimated_tokens > 0 for p in parts)
    ids = list(vendor.batches)
    creates = [i for i, (_, method, path) in enumerate(vendor.calls) if method == "POST" and path == "/v1/batches"]
    assert len(ids) == len(creates) == 3
    for earlier, create_index in zip(ids, creates[1:], strict=False):
        # the fake's batch ends at its plan's last poll
        polls = calls_to(vendor, f"/v1/batches/{earlier}", create_index)
        assert polls == len(vendor.batch_plan), "a vendor job was submitted while another was enqueued"


@asynccontextmanager
async def clocked_app(database_url: str, vendor: FakeVendors, **overrides) -> AsyncIterator[tuple[LpsApp, list[float]]]:
    """An LPS on a fake clock whose loops do not run: the test drives the poller round by round."""
    now = [1_000.0]
    app = LpsApp(fast_settings(database_url, **real(vendor, **overrides)), clock=lambda: now[0])
    await app.database.open()
    try:
        yield app, now
    finally:
        for adapter in {id(a): a for a in app.adapters.values()}.values():
            await adapter.close()
        await app.database.close()


async def create_job(app: LpsApp, name: str, count: int) -> JobRecord:
    specs = [spec_from_proto(r, "requests", []) for r in requests(name, count, OPENAI)]
    return await app.service.create_job(name, specs, [])


async def next_poll_at(app: LpsApp, job_id: str) -> float:
    async with app.database.engine.connect() as connection:
        query = sa.select(jobs_table.c.next_poll_at).where(jobs_table.c.job_id == job_id)
        return (await connection.execute(query)).scalar_one()


async def test_failed_rounds_back_off_by_the_retry_policy_and_success_resets_the_streak(database_url, vendor):
    """Driven round by round on a fake clock: each failed poll sets the next poll by the
    `lps-batch-poll` policy for the job's streak (exponential from the poll interval, at least the
    vendor's Retry-After), stored on the job; the first round that succeeds ends the streak."""
    vendor.next_at(
        "GET /v1/batches/",
        Scripted(status=503, headers={"retry-after": "30"}),
        Scripted(status=500),
        Scripted(status=500),
    )
    async with clocked_app(database_url, vendor, batch_poll_interval_seconds=10.0, retry_cap_seconds=600) as (
        app,
        now,
    ):
        job = await create_job(app, "streak", 2)
        assert await app.poller.poll_round() == 1  # submitted
        seen = []
        for _ in range(4):
            now[0] = (await app.jobs.get(job.job_id)).updated_at + 1_000  # past any delay
            polled_at = now[0]
            assert await app.poller.poll_round() == 1
            row = await app.jobs.get(job.job_id)
            seen.append((row.poll_failures, row.error_reason, await next_poll_at(app, job.job_id) - polled_at))
    policy = app.poller.retry
    (one, reason1, wait1), (two, _, wait2), (three, _, wait3), (reset, reason4, wait4) = seen
    assert (one, two, three, reset) == (1, 2, 3, 0)
    assert reason1 == "POLL_FAILED" and reason4 == ""
    assert wait1 >= 30.0, "the vendor's Retry-After is a floor"
    for attempt, wait in ((2, wait2), (3, wait3)):
        ceiling = policy.ceiling(attempt)
        assert ceiling * (1 - policy.jitter) <= wait <= ceiling, (attempt, wait)
    assert policy.ceiling(3) == 4 * policy.ceiling(1) == 40.0
    assert wait4 == 10.0, "after a success, the plain poll interval"
    assert row.state is JobState.VALIDATING


async def test_a_paced_round_starts_no_vendor_call_once_half_its_lease_has_gone(database_url, vendor):
    """Submits that take 20 s each (as a slow rate limit would make them): the round stops before
    the third, so a job is never worked on past its lease; the next round submits it."""
    async with clocked_app(database_url, vendor, vendor_job_max_items=1) as (app, now):
        job = await create_job(app, "slow", 3)
        batches = app.adapters[Provider.OPENAI].batch
        submit = batches.submit

        async def slow_submit(record, calls):
            answer = await submit(record, calls)
            now[0] += 20.0
            return answer

        batches.submit = slow_submit
        assert await app.poller.poll_round() == 1
        first = [p.submitted for p in await app.jobs.parts(job.job_id)]
        now[0] += 100.0
        assert await app.poller.poll_round() == 1
        second = [p.submitted for p in await app.jobs.parts(job.job_id)]
    assert POLL_LEASE_SECONDS / 2 < 2 * 20.0 < POLL_LEASE_SECONDS
    assert first == [True, True, False] and second == [True, True, True]
