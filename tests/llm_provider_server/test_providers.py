"""Real provider adapters (official OpenAI and Anthropic SDKs) through the whole LPS,
against fake vendor servers on loopback: verdicts, costs, 429 with Retry-After, 5xx,
timeouts, malformed replies, auth failures, rate and concurrency limits, batch lifecycles."""

from __future__ import annotations

import logging

import pytest
from google.rpc import error_details_pb2
from huleedu.llm.v1 import batch_job_pb2, comparison_pb2
from huleedu.llm.v1 import batch_job_service_pb2 as jobs_pb

from llm_provider_server.providers.errors import retry_after_seconds
from tests.helpers import wait_until
from tests.llm_provider_server.fake_vendors import FakeVendors, Scripted, assert_paced
from tests.llm_provider_server.harness import comparison, lps

R = comparison_pb2.ComparisonResult
OPENAI_KEY = "sk-test-DO-NOT-LOG-1234567890"
ANTHROPIC_KEY = "sk-ant-test-DO-NOT-LOG-0987654321"


def real(vendor: FakeVendors, **overrides) -> dict:
    return vendor.lps_settings(openai_key=OPENAI_KEY, anthropic_key=ANTHROPIC_KEY, **overrides)


def on(provider: int, **fields) -> comparison_pb2.LlmOverrides:
    return comparison_pb2.LlmOverrides(provider=provider, **fields)


def reason(result: R) -> str:
    info = error_details_pb2.ErrorInfo()
    result.error.details[0].Unpack(info)
    return info.reason


@pytest.mark.parametrize(
    ("provider", "model", "path"),
    [
        (comparison_pb2.PROVIDER_OPENAI, "gpt-4.1-mini-2025-04-14", "/v1/chat/completions"),
        (comparison_pb2.PROVIDER_ANTHROPIC, "claude-haiku-4-5-20251001", "/v1/messages"),
    ],
)
async def test_structured_verdict_tokens_and_cost(tmp_path, vendor, provider, model, path):
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        temperature = {"temperature": 0.0} if provider == comparison_pb2.PROVIDER_OPENAI else {}
        await h.submit(
            comparison(
                "essay-id-41",
                a="The first essay.",
                b="The second essay.",
                overrides=on(provider, model=model, max_tokens=300, **temperature),
            )
        )
        [result] = await h.collect(1)
    assert result.outcome == R.OUTCOME_SUCCEEDED and result.winner == comparison_pb2.WINNER_ESSAY_A
    assert result.provider == provider and result.model == model
    assert result.usage.total_tokens > 0 and result.cost_usd > 0
    sent = vendor.bodies[-1]
    if path == "/v1/messages":
        assert sent["tool_choice"] == {"type": "tool", "name": "record_verdict"} and sent["max_tokens"] == 300
        assert "thinking" not in sent
    else:
        assert sent["response_format"]["type"] == "json_schema" and sent["max_completion_tokens"] == 300
        assert sent["temperature"] == 0.0, "an explicit 0.0 temperature is sent, not replaced by a default"
    assert "Essay A" in str(sent) and "essay-id-41" not in str(sent), "essay ids never reach the judge"


async def test_reasoning_hints_are_forwarded_to_gpt5(tmp_path, vendor):
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        await h.submit(
            comparison(
                "r1",
                overrides=on(
                    comparison_pb2.PROVIDER_OPENAI,
                    model="gpt-5.1",
                    reasoning_effort=comparison_pb2.REASONING_EFFORT_LOW,
                    output_verbosity=comparison_pb2.OUTPUT_VERBOSITY_LOW,
                ),
            )
        )
        await h.collect(1)
    assert (vendor.bodies[-1]["reasoning_effort"], vendor.bodies[-1]["verbosity"]) == ("low", "low")


async def test_429_with_retry_after_is_honoured(tmp_path, vendor):
    vendor.next(Scripted(status=429, headers={"retry-after-ms": "400"}))
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        await h.submit(comparison("r1"))
        [result] = await h.collect(1)
    assert result.outcome == R.OUTCOME_SUCCEEDED and result.attempts == 2
    first, second = (t for t, _, path in vendor.calls if path == "/v1/chat/completions")
    assert second - first >= 0.4


@pytest.mark.parametrize(
    "scripted",
    [
        Scripted(status=500),
        Scripted(status=503),
        Scripted(status=529),
        Scripted(delay=1.5),  # past the 1 s client timeout
        Scripted(verdict="this is not json"),
        Scripted(verdict={"winner": "neither", "justification": "x", "confidence": 3}),
        Scripted(body=b"<html>bad gateway</html>", status=200),
    ],
)
async def test_transient_failures_are_retried(tmp_path, vendor, scripted):
    vendor.next(scripted)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        await h.submit(comparison("r1"))
        [result] = await h.collect(1)
    assert result.outcome == R.OUTCOME_SUCCEEDED and result.attempts == 2


async def test_unparseable_verdict_is_an_error_never_a_default_winner(tmp_path, vendor):
    vendor.next(*(Scripted(verdict={"winner": "Essay C", "justification": "?", "confidence": 3}) for _ in range(2)))
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor, max_attempts=2)) as h:
        await h.submit(comparison("r1"))
        [result] = await h.collect(1)
    assert result.outcome == R.OUTCOME_FAILED and result.winner == comparison_pb2.WINNER_UNSPECIFIED
    assert reason(result) == "UNPARSEABLE_VERDICT"


async def test_auth_failure_is_permanent_and_keys_stay_secret(tmp_path, vendor, caplog):
    vendor.next(Scripted(status=401))
    with caplog.at_level(logging.DEBUG):
        async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
            await h.submit(comparison("r1"))
            [result] = await h.collect(1)
    assert result.outcome == R.OUTCOME_FAILED and result.attempts == 1 and reason(result) == "PROVIDER_AUTH"
    everything = caplog.text + str(result)
    assert OPENAI_KEY not in everything and ANTHROPIC_KEY not in everything


async def test_requests_per_minute_and_concurrency_limits_hold(tmp_path, vendor):
    settings = real(vendor, openai_requests_per_minute=600, max_concurrency_per_model=2)  # 10/s, burst 10
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        await h.submit(*(comparison(f"r{i}") for i in range(25)))
        await h.collect(25)
    times = sorted(t for t, _, path in vendor.calls if path == "/v1/chat/completions")
    assert len(times) == 25
    assert_paced(times, per_second=10, burst=10)
    assert vendor.max_in_flight <= 2


@pytest.mark.parametrize("provider", [comparison_pb2.PROVIDER_OPENAI, comparison_pb2.PROVIDER_ANTHROPIC])
async def test_batch_api_mode_runs_a_vendor_batch(tmp_path, vendor, provider):
    vendor.batch_error_ids = {"item-2"}
    settings = real(vendor, queue_processing_mode="batch_api")
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        await h.submit(*(comparison(f"r{i}", overrides=on(provider)) for i in range(5)))
        results = {r.request_id: r for r in await h.collect(5, timeout=30)}
        jobs = await h.jobs.ListBatchJobs(jobs_pb.ListBatchJobsRequest())
    assert len(vendor.batches) == 1
    assert results["r2"].outcome == R.OUTCOME_FAILED and reason(results["r2"]) == "BATCH_ITEM_FAILED"
    succeeded = [r for r in results.values() if r.outcome == R.OUTCOME_SUCCEEDED]
    assert len(succeeded) == 4
    assert all(r.processing_mode == comparison_pb2.PROCESSING_MODE_BATCH_API for r in succeeded)
    [job] = jobs.batch_jobs
    assert job.state == batch_job_pb2.BatchJob.STATE_COMPLETED and job.provider_job_id
    assert job.request_counts.succeeded == 4 and job.request_counts.errored == 1
    model = succeeded[0].model
    sync_price = succeeded[0].cost_usd
    assert job.cost_usd == pytest.approx(sync_price * 4)
    assert sync_price > 0, f"{model} has a price"


async def test_batch_cost_is_discounted(tmp_path, vendor):
    async with lps(f"sqlite:///{tmp_path / 'sync.db'}", **real(vendor)) as h:
        await h.submit(comparison("sync"))
        [sync] = await h.collect(1)
    async with lps(f"sqlite:///{tmp_path / 'batch.db'}", **real(vendor, queue_processing_mode="batch_api")) as h:
        await h.submit(comparison("batch"))
        [batch] = await h.collect(1, timeout=30)
    assert batch.cost_usd == pytest.approx(sync.cost_usd / 2)


async def test_openai_batch_completed_before_output_is_finalizing_then_cancel_keeps_partials(tmp_path, vendor):
    vendor.batch_plan = ["validating", "in_progress", "in_progress", "in_progress", "in_progress", "in_progress"]
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor, batch_poll_interval_seconds=0.1)) as h:
        created = await h.jobs.CreateBatchJob(
            jobs_pb.CreateBatchJobRequest(
                request_id="j1",
                requests=[
                    comparison(f"c{i}", consumer="jobs", overrides=on(comparison_pb2.PROVIDER_OPENAI)) for i in range(6)
                ],
            )
        )
        name = created.batch_job.name
        assert await wait_until(lambda: _state_is(h, name, batch_job_pb2.BatchJob.STATE_IN_PROGRESS))
        await h.jobs.CancelBatchJob(jobs_pb.CancelBatchJobRequest(name=name))
        final = None
        async for update in h.jobs.WatchBatchJob(jobs_pb.WatchBatchJobRequest(name=name), timeout=20):
            final = update.batch_job
        results = await h.collect(6, consumer="jobs")
    assert final.state == batch_job_pb2.BatchJob.STATE_CANCELLED
    outcomes = sorted(r.outcome for r in results)
    assert outcomes.count(R.OUTCOME_SUCCEEDED) == 3 and outcomes.count(R.OUTCOME_CANCELLED) == 3
    assert any(path.endswith("/cancel") for _, _, path in vendor.calls)


async def _state_is(h, name: str, state: int) -> bool:
    return (await h.jobs.GetBatchJob(jobs_pb.GetBatchJobRequest(name=name))).batch_job.state == state


def test_retry_after_header_forms():
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "Sun, 22 Nov 2026 06:00:10 GMT"}, now=1795327200.0) == 10.0
    assert retry_after_seconds({}) is None
