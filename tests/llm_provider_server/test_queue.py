"""LPS over gRPC, on SQLite and PostgreSQL: submission, delivery, modes, failures, restarts."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import duration_pb2
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb

from llm_provider_server.domain.prompt import TEMPLATE_VERSION
from tests.helpers import rich_details, wait_until
from tests.llm_provider_server.harness import comparison, lps

R = comparison_pb2.ComparisonResult
C = comparison_pb2.Comparison


async def test_submit_stream_ack_and_get(database_url):
    async with lps(database_url, mock_mode="latent_bt") as h:
        accepted = await h.submit(*(comparison(f"r{i}", metadata={"pair": str(i)}) for i in range(12)))
        assert [a.request_id for a in accepted.acceptances] == [f"r{i}" for i in range(12)]
        assert not any(a.duplicate for a in accepted.acceptances)
        results = await h.collect(12)
        assert sorted(r.request_id for r in results) == sorted(f"r{i}" for i in range(12))
        for result in results:
            assert result.outcome == R.OUTCOME_SUCCEEDED
            assert result.winner in (comparison_pb2.WINNER_ESSAY_A, comparison_pb2.WINNER_ESSAY_B)
            assert len(result.prompt_sha256) == 64 and result.prompt_template_version == TEMPLATE_VERSION
            assert result.metadata["pair"] == result.request_id[1:]
            assert result.provider == comparison_pb2.PROVIDER_MOCK and result.model == "mock-judge-v1"
            assert result.processing_mode == comparison_pb2.PROCESSING_MODE_PER_REQUEST
            assert 1.0 <= result.confidence <= 5.0 and result.usage.total_tokens > 0
            assert result.sequence > 0 and result.attempts == 1
        stored = await h.get("r3")
        assert stored.state == C.STATE_SUCCEEDED and stored.result.request_id == "r3"
        assert await wait_until(
            lambda: _async(
                h.sample(
                    "llm_provider_comparison_callbacks_total",
                    {"queue_processing_mode": "per_request", "result": "success"},
                )
                == 12
            )
        )


async def _async(value):
    return value


async def test_repeated_request_id_returns_the_original(database_url):
    async with lps(database_url) as h:
        first = (await h.submit(comparison("same"))).acceptances[0]
        again = (await h.submit(comparison("same", a="other text entirely"))).acceptances[0]
        assert (first.duplicate, again.duplicate) == (False, True)
        assert again.accept_time == first.accept_time
        results = await h.collect(1)
        assert [r.request_id for r in results] == ["same"]
        third = (await h.submit(comparison("same"))).acceptances[0]
        assert third.duplicate and third.state == C.STATE_SUCCEEDED
        assert (await h.app.store.queue_depth()) == {"queued": 0, "processing": 0}


async def test_bad_input_is_invalid_argument_with_field_violations(database_url):
    async with lps(database_url, max_essay_chars=200) as h:
        bad = [
            comparison("ok"),
            comparison("r1", a=" "),
            comparison("r2", b="x" * 201),
            comparison(
                "r3", overrides=comparison_pb2.LlmOverrides(provider=comparison_pb2.PROVIDER_MOCK, temperature=3.0)
            ),
            comparison(
                "r4",
                overrides=comparison_pb2.LlmOverrides(provider=comparison_pb2.PROVIDER_OPENAI, model="gpt-unknown"),
            ),
            comparison("r5", overrides=comparison_pb2.LlmOverrides(provider=42)),
        ]
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await h.submit(*bad)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        fields = {v.field for v in rich_details(caught.value)["BadRequest"].field_violations}
        assert fields == {
            "requests[1].essay_a_text",
            "requests[2].essay_b_text",
            "requests[3].overrides.temperature",
            "requests[4].overrides.model",
            "requests[5].overrides.provider",
        }
        with pytest.raises(grpc.aio.AioRpcError) as nothing:
            await h.get("ok")
        assert nothing.value.code() == grpc.StatusCode.NOT_FOUND, "a rejected call accepts nothing"
        with pytest.raises(grpc.aio.AioRpcError) as empty:
            await h.submit()
        assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_full_queue_is_resource_exhausted_and_accepts_nothing(database_url):
    async with lps(database_url, queue_capacity=3, max_in_flight=1, mock_latency_ms=300) as h:
        await h.submit(comparison("a1"), comparison("a2"))
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await h.submit(comparison("b1"), comparison("b2"))
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        details = rich_details(caught.value)
        assert details["ErrorInfo"].reason == "QUEUE_FULL" and details["RetryInfo"].retry_delay.seconds == 5
        for request_id in ("b1", "b2"):
            with pytest.raises(grpc.aio.AioRpcError):
                await h.get(request_id)
        await h.collect(2)
        accepted = await h.submit(comparison("b1"), comparison("b2"))
        assert len(accepted.acceptances) == 2


async def test_expired_request_ends_in_an_expired_result(database_url):
    async with lps(database_url, max_in_flight=1, max_concurrency_per_model=1, mock_latency_ms=600) as h:
        short = duration_pb2.Duration(nanos=200_000_000)
        await h.submit(comparison("slow"))
        assert await wait_until(lambda: _state_is(h, "slow", C.STATE_PROCESSING))
        await h.submit(comparison("late1", ttl=short), comparison("late2", ttl=short))
        results = {r.request_id: r for r in await h.collect(3)}
        assert results["slow"].outcome == R.OUTCOME_SUCCEEDED
        for request_id in ("late1", "late2"):
            assert results[request_id].outcome == R.OUTCOME_EXPIRED
            assert results[request_id].error.code == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
            assert (await h.get(request_id)).state == C.STATE_EXPIRED


async def test_cancel_queued_and_running_requests(database_url):
    async with lps(database_url, max_in_flight=1, max_concurrency_per_model=1, mock_latency_ms=500) as h:
        await h.submit(comparison("running"))
        assert await wait_until(lambda: _state_is(h, "running", C.STATE_PROCESSING))
        await h.submit(comparison("queued"))
        cancelled = await h.stub.CancelComparison(pb.CancelComparisonRequest(name="comparisons/queued"))
        assert cancelled.comparison.state == C.STATE_CANCELLED
        await h.stub.CancelComparison(pb.CancelComparisonRequest(name="comparisons/running"))
        results = {r.request_id: r for r in await h.collect(2)}
        assert results["queued"].outcome == R.OUTCOME_CANCELLED
        assert results["running"].outcome == R.OUTCOME_CANCELLED, "cancelled while it ran: ends cancelled"
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await h.stub.CancelComparison(pb.CancelComparisonRequest(name="comparisons/queued"))
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await h.stub.CancelComparison(pb.CancelComparisonRequest(name="comparisons/nope"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def _state_is(h, request_id, state) -> bool:
    return (await h.get(request_id)).state == state


async def test_priority_is_served_first(database_url):
    async with lps(database_url, max_in_flight=1, max_concurrency_per_model=1, mock_latency_ms=100) as h:
        await h.submit(comparison("first"))
        await asyncio.sleep(0.05)
        await h.submit(*(comparison(f"low{i}", priority=1) for i in range(3)), comparison("urgent", priority=9))
        order = [r.request_id for r in sorted(await h.collect(5), key=lambda r: r.sequence)]
        assert order[0] == "first" and order[1] == "urgent"


async def test_retryable_failures_are_retried_then_recorded(database_url):
    async with lps(
        database_url, mock_error_rate=0.5, mock_error_codes="503", max_attempts=6, breaker_failure_threshold=1000
    ) as h:
        await h.submit(*(comparison(f"r{i}") for i in range(30)))
        results = await h.collect(30)
        assert {r.outcome for r in results} <= {R.OUTCOME_SUCCEEDED, R.OUTCOME_FAILED}
        assert any(r.attempts > 1 and r.outcome == R.OUTCOME_SUCCEEDED for r in results)
        for failed in (r for r in results if r.outcome == R.OUTCOME_FAILED):
            assert failed.attempts == 6 and failed.error.code == grpc.StatusCode.UNAVAILABLE.value[0]
        assert h.sample("llm_provider_retries_total", {"provider": "mock", "reason": "PROVIDER_UNAVAILABLE"}) > 0


async def test_exhausted_retries_end_in_a_failed_result(database_url):
    async with lps(database_url, mock_error_rate=1.0, max_attempts=2, breaker_failure_threshold=1000) as h:
        await h.submit(comparison("doomed"))
        [result] = await h.collect(1)
        assert result.outcome == R.OUTCOME_FAILED and result.attempts == 2
        assert rich_status_reason(result) in ("RATE_LIMITED", "PROVIDER_UNAVAILABLE")


def rich_status_reason(result) -> str:
    from google.rpc import error_details_pb2

    info = error_details_pb2.ErrorInfo()
    result.error.details[0].Unpack(info)
    return info.reason


async def test_circuit_breaker_holds_work_while_open_and_recovers(database_url):
    """Sustained 503s open the breaker: requests wait in the queue instead of burning attempts,
    and the breaker lets a trial call through after its recovery time."""
    async with lps(
        database_url,
        mock_error_rate=1.0,
        mock_error_codes="503",
        max_attempts=20,
        breaker_failure_threshold=3,
        breaker_recovery_seconds=0.4,
        max_concurrency_per_model=1,
    ) as h:
        await h.submit(*(comparison(f"r{i}") for i in range(5)))
        assert await wait_until(
            lambda: _async(h.sample("llm_provider_circuit_breaker_state", {"provider": "mock"}) == 1)
        )
        await asyncio.sleep(0.2)
        attempts_while_open = h.sample(
            "llm_provider_requests_total", {"provider": "mock", "model": "mock-judge-v1", "outcome": "failed"}
        )
        await asyncio.sleep(0.1)
        assert (
            h.sample("llm_provider_requests_total", {"provider": "mock", "model": "mock-judge-v1", "outcome": "failed"})
            == attempts_while_open
        )
        depth = await h.app.store.queue_depth()
        assert depth["queued"] + depth["processing"] == 5, "nothing is failed or lost while the breaker is open"
        h.app.executor.runtimes[next(iter(h.app.executor.runtimes))].adapter.config = _healthy()
        results = await h.collect(5)
        assert all(r.outcome == R.OUTCOME_SUCCEEDED for r in results)
        assert h.sample("llm_provider_circuit_breaker_state", {"provider": "mock"}) == 0


def _healthy():
    from llm_provider_server.domain.mock_judge import MockConfig

    return MockConfig()


@pytest.mark.parametrize("mode", ["serial_bundle", "batch_api"])
async def test_bundle_modes_record_every_result(database_url, mode):
    async with lps(database_url, queue_processing_mode=mode, mock_mode="latent_bt", bundle_max_items=8) as h:
        await h.submit(*(comparison(f"r{i}") for i in range(20)))
        results = await h.collect(20)
        assert sorted(r.request_id for r in results) == sorted(f"r{i}" for i in range(20))
        assert all(r.outcome == R.OUTCOME_SUCCEEDED for r in results)
        expected_mode = {
            "serial_bundle": comparison_pb2.PROCESSING_MODE_SERIAL_BUNDLE,
            "batch_api": comparison_pb2.PROCESSING_MODE_BATCH_API,
        }[mode]
        assert {r.processing_mode for r in results} == {expected_mode}
        if mode == "batch_api":
            assert len({r.batch_job for r in results}) == 1 and results[0].batch_job.startswith("batchJobs/")
            labels = {"provider": "mock", "model": "mock-judge-v1"}
            assert h.sample("llm_provider_batch_api_jobs_total", {**labels, "status": "completed"}) == 1
            assert h.sample("llm_provider_batch_api_items_per_job_sum", labels) == 20
            assert h.sample("llm_provider_batch_api_job_duration_seconds_count", labels) == 1
        assert (
            h.sample("llm_provider_comparison_callbacks_total", {"queue_processing_mode": mode, "result": "success"})
            == 20
        )
        assert (
            h.sample("llm_provider_queue_wait_time_seconds_count", {"queue_processing_mode": mode, "result": "success"})
            == 20
        )


async def test_incompatible_requests_never_share_a_bundle(database_url):
    async with lps(database_url, queue_processing_mode="batch_api") as h:
        warm = comparison_pb2.LlmOverrides(provider=comparison_pb2.PROVIDER_MOCK, temperature=0.9)
        await h.submit(
            *(comparison(f"plain{i}") for i in range(3)), *(comparison(f"warm{i}", overrides=warm) for i in range(3))
        )
        results = await h.collect(6)
        jobs = {r.request_id: r.batch_job for r in results}
        assert len({jobs[f"plain{i}"] for i in range(3)}) == 1
        assert len({jobs[f"warm{i}"] for i in range(3)}) == 1
        assert jobs["plain0"] != jobs["warm0"]


async def test_unacked_results_survive_a_restart(database_url):
    async with lps(database_url, mock_mode="cj_generic_batch") as h:
        await h.submit(*(comparison(f"r{i}") for i in range(10)))
        first = await h.collect(4, ack=True)
        seen_unacked = await h.collect(6, ack=False)
        assert len(first) == 4 and len(seen_unacked) == 6
    async with lps(database_url, mock_mode="cj_generic_batch") as restarted:
        redelivered = await restarted.collect(6)
        assert sorted(r.request_id for r in redelivered) == sorted(r.request_id for r in seen_unacked)
        assert not set(r.request_id for r in redelivered) & {r.request_id for r in first}


async def test_requests_of_a_dead_worker_are_run_again(database_url):
    """A server killed mid-call leaves PROCESSING claims; once their lease lapses another
    server runs them, and each still ends in exactly one result."""
    async with lps(database_url, claim_lease_seconds=0.5, mock_latency_ms=5000) as dying:
        await dying.submit(comparison("orphan1"), comparison("orphan2"))
        assert await wait_until(lambda: _state_is(dying, "orphan1", C.STATE_PROCESSING))
        dying.app.worker._running = False  # the worker dies without recording anything
        for task in list(dying.app.worker._tasks):
            task.cancel()
    async with lps(database_url, claim_lease_seconds=30) as survivor:
        results = await survivor.collect(2)
        assert sorted(r.request_id for r in results) == ["orphan1", "orphan2"]
        assert all(r.outcome == R.OUTCOME_SUCCEEDED and r.attempts == 2 for r in results)


async def test_subscribers_sharing_a_consumer_split_the_results_and_lapsed_leases_redeliver(database_url):
    async with lps(database_url, mock_mode="cj_generic_batch") as h:
        await h.submit(*(comparison(f"r{i}") for i in range(10)))
        await wait_until(lambda: _all_done(h, 10))
        lease = duration_pb2.Duration(nanos=300_000_000)
        one = h.stub.StreamComparisonResults(
            pb.StreamComparisonResultsRequest(consumer="cj", lease=lease, max_in_flight=4)
        )
        got_one = [(await one.read()).result.request_id for _ in range(4)]
        two = h.stub.StreamComparisonResults(pb.StreamComparisonResultsRequest(consumer="cj", max_in_flight=6))
        got_two = [(await two.read()).result.request_id for _ in range(6)]
        assert not set(got_one) & set(got_two) and len(set(got_one) | set(got_two)) == 10
        await h.stub.AckComparisonResults(pb.AckComparisonResultsRequest(consumer="cj", request_ids=got_two))
        # subscriber one never acks; after its lease lapses, subscriber two gets those results
        redelivered = [(await two.read()).result for _ in range(4)]
        assert sorted(r.request_id for r in redelivered) == sorted(got_one)
        one.cancel()
        two.cancel()


async def _all_done(h, count) -> bool:
    depth = await h.app.store.queue_depth()
    return sum(depth.values()) == 0


async def test_stream_resumes_after_a_cursor(database_url):
    async with lps(database_url, mock_mode="cj_generic_batch") as h:
        await h.submit(*(comparison(f"r{i}") for i in range(6)))
        seen = sorted(await h.collect(6, ack=False), key=lambda r: r.sequence)
        after = seen[2].sequence
        rest = await h.collect(3, after_sequence=after)
        assert sorted(r.sequence for r in rest) == [r.sequence for r in seen[3:]]


async def test_list_models_has_prices(database_url):
    async with lps(database_url) as h:
        response = await h.stub.ListModels(pb.ListModelsRequest(provider=comparison_pb2.PROVIDER_ANTHROPIC))
        assert {m.provider for m in response.models} == {comparison_pb2.PROVIDER_ANTHROPIC}
        haiku = next(m for m in response.models if m.is_default)
        assert haiku.input_usd_per_million_tokens > 0 and haiku.batch_price_factor == 0.5
        everything = await h.stub.ListModels(pb.ListModelsRequest())
        assert len(everything.models) > len(response.models)
