"""Graceful shutdown: health goes NOT_SERVING first, in-flight calls finish, new calls are refused."""

from __future__ import annotations

import asyncio
import os
import signal

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

from service_core.retry import Failure, RetryPolicy
from service_core.server import serve
from tests.helpers import eventually, rich_details
from tests.service_core.fake_service import build_fake_server


async def test_in_flight_call_finishes_and_health_reports_not_serving():
    server, servicer = build_fake_server(shutdown_drain_seconds=0.5)
    servicer.slow_seconds = 1.0
    await server.start()
    target = f"127.0.0.1:{server.port}"
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.LlmProviderServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        in_flight = asyncio.ensure_future(
            stub.AckComparisonResults(pb.AckComparisonResultsRequest(consumer="c", request_ids=["a", "b"]), timeout=10)
        )
        await asyncio.wait_for(servicer.slow_started.wait(), 5)

        stopping = asyncio.ensure_future(server.stop(grace=5))
        await asyncio.sleep(0.2)  # inside the drain window: still listening, no longer serving
        status = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        assert status.status == health_pb2.HealthCheckResponse.NOT_SERVING
        service_status = await health.Check(
            health_pb2.HealthCheckRequest(service="huleedu.llm.v1.LlmProviderService"), timeout=2
        )
        assert service_status.status == health_pb2.HealthCheckResponse.NOT_SERVING

        response = await in_flight
        assert response.acknowledged_count == 2
        await stopping
        assert servicer.slow_finished.is_set()

    async with grpc.aio.insecure_channel(target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.LlmProviderServiceStub(channel).GetMockMode(pb.GetMockModeRequest(), timeout=2)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_call_outliving_the_grace_period_is_cancelled():
    server, servicer = build_fake_server()
    servicer.slow_seconds = 30
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call = asyncio.ensure_future(
            pb_grpc.LlmProviderServiceStub(channel).AckComparisonResults(
                pb.AckComparisonResultsRequest(consumer="c"), timeout=20
            )
        )
        await asyncio.wait_for(servicer.slow_started.wait(), 5)
        await asyncio.wait_for(server.stop(grace=0.3), 5)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert not servicer.slow_finished.is_set()


async def test_shutdown_hooks_run_after_cancelled_handlers_have_cleaned_up():
    """Hooks close the database; a cancelled handler's cleanup must not run against a closed one."""
    server, servicer = build_fake_server()
    servicer.slow_seconds, servicer.cleanup_seconds = 30, 0.3
    seen_by_hook: list[bool] = []

    async def close_database() -> None:
        seen_by_hook.append(servicer.cleaned_up.is_set())

    server.on_stop.append(close_database)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call = asyncio.ensure_future(
            pb_grpc.LlmProviderServiceStub(channel).AckComparisonResults(
                pb.AckComparisonResultsRequest(consumer="c"), timeout=20
            )
        )
        await asyncio.wait_for(servicer.slow_started.wait(), 5)
        await asyncio.wait_for(server.stop(grace=0.1), 10)
        with pytest.raises(grpc.aio.AioRpcError):
            await call
    assert seen_by_hook == [True]


async def test_under_load_new_calls_get_unavailable_and_started_calls_finish_none_cancelled():
    """32 clients call as fast as they can while the server stops, retrying as the shared retry
    policy says (honouring RetryInfo): every call ends OK or UNAVAILABLE, never CANCELLED, and
    the slow calls already running when shutdown began finish."""
    server, servicer = build_fake_server()
    servicer.slow_seconds = 0.5
    await server.start()
    codes: list[grpc.StatusCode] = []
    policy = RetryPolicy("test", base_seconds=0.01, cap_seconds=1.0)
    gone = asyncio.Event()

    async def client(stub) -> None:
        attempt = 0
        while not gone.is_set():
            try:
                await stub.GetMockMode(pb.GetMockModeRequest(), timeout=5)
                codes.append(grpc.StatusCode.OK)
                attempt = 0
            except grpc.aio.AioRpcError as error:
                codes.append(error.code())
                attempt += 1
                decision = policy.decide(Failure.from_rpc_error(error), attempt=attempt, now=0.0)
                if not decision.retry:
                    return
                await asyncio.sleep(decision.delay_seconds)

    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.LlmProviderServiceStub(channel)
        slow = [
            asyncio.ensure_future(stub.AckComparisonResults(pb.AckComparisonResultsRequest(consumer="c"), timeout=10))
            for _ in range(8)
        ]
        await asyncio.wait_for(servicer.slow_started.wait(), 5)
        clients = [asyncio.ensure_future(client(stub)) for _ in range(32)]
        assert await eventually(lambda: len(codes) >= 200)  # the load is on
        await server.stop(grace=5)
        await asyncio.sleep(0.5)  # clients find the server gone
        gone.set()
        await asyncio.wait_for(asyncio.gather(*clients), 20)
        slow_results = await asyncio.gather(*slow, return_exceptions=True)
    assert all(not isinstance(r, BaseException) for r in slow_results), slow_results
    assert grpc.StatusCode.CANCELLED not in codes
    assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}


async def test_sigterm_drains_through_serve():
    """`serve` turns SIGTERM into the same drain: a call running at SIGTERM finishes, new calls
    get UNAVAILABLE with reason SHUTTING_DOWN (not CANCELLED) while the call still runs."""
    server, servicer = build_fake_server(shutdown_grace_seconds=5)
    servicer.slow_seconds = 1.0
    serving = asyncio.ensure_future(serve(server))
    assert await eventually(lambda: server._server is not None)  # started
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.LlmProviderServiceStub(channel)
        running_call = asyncio.ensure_future(
            stub.AckComparisonResults(pb.AckComparisonResultsRequest(consumer="c", request_ids=["a"]), timeout=10)
        )
        await asyncio.wait_for(servicer.slow_started.wait(), 5)
        os.kill(os.getpid(), signal.SIGTERM)
        assert await eventually(lambda: server._stack is not None and server._stack.draining)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetMockMode(pb.GetMockModeRequest(), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert rich_details(refused.value)["ErrorInfo"].reason == "SHUTTING_DOWN"
        assert (await running_call).acknowledged_count == 1
        await asyncio.wait_for(serving, 10)
