"""The runner: waves that could not be sent are re-sent with backoff, permanent refusals
fail the assessment with their reason, and a restarted runner re-sends what was never sent."""

from __future__ import annotations

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from huleedu.cj.v1 import assessment_pb2
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as llm_grpc

from cj_server.lps_client import translate
from tests.cj_server.harness import essays, stack
from tests.helpers import wait_until

A = assessment_pb2.Assessment


class RefusingStub:
    """The real LPS stub, except that SubmitComparisons fails as told."""

    def __init__(self, real: llm_grpc.LlmProviderServiceStub, error: grpc.aio.AioRpcError):
        self.real = real
        self.error = error
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    async def SubmitComparisons(self, request, **kwargs):
        self.calls += 1
        raise self.error


def rpc_error(code: grpc.StatusCode, message: str, retry_seconds: int | None = None) -> grpc.aio.AioRpcError:
    trailing = ()
    if retry_seconds is not None:
        status = status_pb2.Status(code=code.value[0], message=message)
        detail = status.details.add()
        detail.Pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=retry_seconds)))
        trailing = grpc.aio.Metadata(*rpc_status.to_status(status).trailing_metadata)
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details=message)


def test_translate_keeps_retry_info_and_tells_permanent_from_transient():
    full = translate(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "queue full", retry_seconds=3))
    assert type(full).__name__ == "NeighbourUnavailable" and full.retry_after == 3.0
    refused = translate(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "x" * 10_000))
    assert type(refused).__name__ == "NeighbourRefused" and len(refused.message) < 400


async def _sent_and_failed(stub: RefusingStub, times: int) -> bool:
    return stub.calls >= times


async def test_a_wave_that_could_not_be_sent_is_resent_when_lps_is_back(database_url):
    """The deadline is long: only the runner's backoff can re-send the wave so soon."""
    async with stack(database_url, database_url, resend_initial_seconds=0.1, resend_max_seconds=0.5) as s:
        real = s.cj.lps.stub
        down = RefusingStub(real, rpc_error(grpc.StatusCode.UNAVAILABLE, "restarting"))
        s.cj.lps.stub = down
        created = await s.create(essays=essays(6), comparison_budget=6)
        assert await wait_until(lambda: _sent_and_failed(down, 3)), "re-sent with backoff while LPS is down"
        s.cj.lps.stub = real
        await s.finish(created.name, timeout=30)
        done = await s.get(created.name)
    assert done.state == A.STATE_SUCCEEDED and done.progress.comparisons_succeeded >= 3
    assert s.cj.registry.get_sample_value("cj_llm_resends_total") >= 3


async def test_a_restarted_server_sends_what_was_never_sent(database_url):
    async with stack(database_url, database_url) as s:
        s.cj.lps.stub = RefusingStub(s.cj.lps.stub, rpc_error(grpc.StatusCode.UNAVAILABLE, "restarting"))
        created = await s.create(essays=essays(6), comparison_budget=6)
        assert await wait_until(lambda: _sent_and_failed(s.cj.lps.stub, 1))
    async with stack(database_url, database_url) as restarted:
        await restarted.finish(created.name, timeout=30)
        done = await restarted.get(created.name)
    assert done.state == A.STATE_SUCCEEDED


async def test_a_permanent_refusal_fails_the_assessment_with_its_reason(database_url):
    async with stack(database_url, database_url) as s:
        refusing = RefusingStub(s.cj.lps.stub, rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "model retired"))
        s.cj.lps.stub = refusing
        created = await s.create(essays=essays(6), comparison_budget=6)
        events = await s.finish(created.name, timeout=30)
    final = events[-1].final_assessment
    assert final.state == A.STATE_FAILED and "model retired" in final.error.message
    assert refusing.calls == 1, "a permanent error is not retried"


async def test_the_in_flight_window_and_the_per_essay_limit_are_never_exceeded(database_url):
    async with stack(database_url, database_url, max_in_flight=4, max_in_flight_per_essay=1) as s:
        created = await s.create(essays=essays(12), comparison_budget=24)
        events = await s.finish(created.name)
        rows = await s.cj.store.comparisons(created.name.split("/")[1])
    pending = [e.progress.comparisons_pending for e in events if e.HasField("progress")]
    assert max(pending) == 4, "the window is used, and never exceeded"
    assert len(rows) == 24
    for essay in range(12):
        # +1 when a comparison of the essay is sent, -1 when its result is applied (first at ties).
        changes = sorted(
            [(r["created_at"], 1) for r in rows if essay in (r["first_idx"], r["second_idx"])]
            + [(r["completed_at"], -1) for r in rows if essay in (r["first_idx"], r["second_idx"])]
        )
        in_flight, most = 0, 0
        for _, change in changes:
            in_flight += change
            most = max(most, in_flight)
        assert most <= 1, f"essay {essay} had {most} comparisons in flight"
