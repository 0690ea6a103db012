"""The shared interceptor chain: error mapping, metrics, auth and request ids."""

from __future__ import annotations

import asyncio
import logging

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

from service_core import errors
from service_core.server import Service
from tests.helpers import eventually, rich_details, running
from tests.service_core.fake_service import MisbehavingServicer, build_fake_server

SERVICE = "huleedu.llm.v1.LlmProviderService"


def handled(server, method: str, code: str, kind: str = "unary") -> float:
    value = server.registry.get_sample_value(
        "grpc_server_handled_total",
        {"grpc_type": kind, "grpc_service": SERVICE, "grpc_method": method, "grpc_code": code},
    )
    return value or 0.0


@pytest.fixture
async def fake():
    server, servicer = build_fake_server()
    async with running(server), grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield server, servicer, pb_grpc.LlmProviderServiceStub(channel)


async def test_domain_error_becomes_rich_status(fake):
    server, _, stub = fake
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetComparison(pb.GetComparisonRequest(name="comparisons/x"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    info = rich_details(caught.value)["ErrorInfo"]
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "COMPARISON_NOT_FOUND",
        "test.huleedu.dev",
        {"name": "comparisons/x"},
    )
    assert await eventually(lambda: handled(server, "GetComparison", "NotFound") == 1)


async def test_invalid_argument_carries_field_violations(fake):
    _, _, stub = fake
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CancelComparison(pb.CancelComparisonRequest(name="bad"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = rich_details(caught.value)
    violation = details["BadRequest"].field_violations[0]
    assert violation.field == "name" and "comparisons/" in violation.description
    assert details["ErrorInfo"].reason == "INVALID_ARGUMENT"


async def test_resource_exhausted_carries_retry_info(fake):
    _, _, stub = fake
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListModels(pb.ListModelsRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    delay = rich_details(caught.value)["RetryInfo"].retry_delay
    assert (delay.seconds, delay.nanos) == (2, 500_000_000)


async def test_crash_is_internal_without_leaking_details(fake, caplog):
    server, _, stub = fake
    with caplog.at_level(logging.ERROR), pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SubmitComparisons(pb.SubmitComparisonsRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "hunter2" not in caught.value.details()
    assert rich_details(caught.value)["ErrorInfo"].reason == "INTERNAL"
    assert any("hunter2" in (r.exc_text or str(r.exc_info)) for r in caplog.records if r.exc_info)
    assert await eventually(lambda: handled(server, "SubmitComparisons", "Internal") == 1)


@pytest.mark.parametrize("name", ["comparisons/database-down", "comparisons/database-locked"])
async def test_a_database_that_cannot_serve_is_unavailable_with_retry_info(fake, caplog, name):
    """Connection refused (a real driver) and "database is locked" are the caller's to retry,
    not a bug: UNAVAILABLE with RetryInfo, a WARNING without traceback, never INTERNAL."""
    server, _, stub = fake
    with caplog.at_level(logging.WARNING, "service_core"), pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetComparison(pb.GetComparisonRequest(name=name), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    details = rich_details(caught.value)
    assert details["ErrorInfo"].reason == "DATABASE_UNAVAILABLE"
    assert details["RetryInfo"].retry_delay.seconds == 1
    assert [r.levelno for r in caplog.records if "database is unavailable" in r.getMessage()] == [logging.WARNING]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await eventually(lambda: handled(server, "GetComparison", "Unavailable") == 1)


async def test_stream_error_after_messages(fake):
    server, _, stub = fake
    received = []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for message in stub.StreamComparisonResults(pb.StreamComparisonResultsRequest(consumer="c"), timeout=5):
            received.append(message.result.sequence)
    assert received == [1, 2]
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rich_details(caught.value)["ErrorInfo"].reason == "CONSUMER_RESET"
    labels = {"grpc_type": "server_stream", "grpc_service": SERVICE, "grpc_method": "StreamComparisonResults"}
    assert await eventually(lambda: server.registry.get_sample_value("grpc_server_msg_sent_total", labels) == 2)
    assert server.registry.get_sample_value("grpc_server_msg_received_total", labels) == 1
    assert await eventually(
        lambda: handled(server, "StreamComparisonResults", "FailedPrecondition", "server_stream") == 1
    )


async def test_metrics_count_ok_and_deadline_exceeded(fake):
    server, _, stub = fake
    for _ in range(3):
        await stub.GetMockMode(pb.GetMockModeRequest(), timeout=5)
    assert await eventually(lambda: handled(server, "GetMockMode", "OK") == 3)
    labels = {"grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": "GetMockMode"}
    assert server.registry.get_sample_value("grpc_server_started_total", labels) == 3
    assert server.registry.get_sample_value("grpc_server_handling_seconds_count", labels) == 3

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.AckComparisonResults(pb.AckComparisonResultsRequest(consumer="c"), timeout=0.3)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert await eventually(lambda: handled(server, "AckComparisonResults", "DeadlineExceeded") == 1)
    assert handled(server, "AckComparisonResults", "OK") == 0


async def test_a_crash_is_counted_internal_and_logged_as_error(fake, caplog):
    server, _, stub = fake
    with caplog.at_level(logging.DEBUG, "service_core.rpc"), pytest.raises(grpc.aio.AioRpcError):
        await stub.SubmitComparisons(pb.SubmitComparisonsRequest(), timeout=5)
    assert await eventually(lambda: handled(server, "SubmitComparisons", "Internal") == 1)
    finished = [r for r in caplog.records if r.getMessage() == "rpc finished"]
    assert [(r.levelname, r.grpc_code) for r in finished] == [("ERROR", "INTERNAL")]


async def test_a_client_cancelling_a_stream_is_canceled_not_an_error(fake, caplog):
    server, servicer, stub = fake
    servicer.stream_forever = True
    with caplog.at_level(logging.DEBUG):
        call = stub.StreamComparisonResults(pb.StreamComparisonResultsRequest(consumer="c"), timeout=10)
        received = 0
        async for _ in call:
            received += 1
            if received == 3:
                break
        call.cancel()
        await asyncio.wait_for(servicer.stream_closed.wait(), 5)  # the servicer's cleanup ran
        assert await eventually(lambda: handled(server, "StreamComparisonResults", "Canceled", "server_stream") == 1)
    assert handled(server, "StreamComparisonResults", "Unknown", "server_stream") == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finished = [r for r in caplog.records if r.getMessage() == "rpc finished"]
    assert [r.grpc_code for r in finished] == ["CANCELLED"]


async def test_bytes_that_are_not_the_request_message_are_invalid_argument(fake):
    server, _, _ = fake
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        raw = channel.unary_unary(f"/{SERVICE}/GetMockMode")  # no serializers: bytes on the wire
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await raw(b"\xff\xff\xff\xff", timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = rich_details(caught.value)
    assert details["ErrorInfo"].reason == "MALFORMED_REQUEST"
    assert [v.field for v in details["BadRequest"].field_violations] == ["request"]
    assert await eventually(lambda: handled(server, "GetMockMode", "InvalidArgument") == 1)


async def test_unparseable_bytes_from_an_anonymous_caller_are_unauthenticated_first():
    server, _ = build_fake_server(auth_tokens="cj:token-one")
    async with running(server), grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        raw = channel.unary_unary(f"/{SERVICE}/GetMockMode")
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await raw(b"\xff\xff\xff\xff", timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as known:
            await raw(b"\xff\xff\xff\xff", metadata=(("authorization", "Bearer token-one"),), timeout=5)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert known.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_successful_calls_log_at_debug_and_errors_at_info(fake, caplog):
    _, _, stub = fake
    with caplog.at_level(logging.DEBUG, "service_core.rpc"):
        await stub.GetMockMode(pb.GetMockModeRequest(), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.GetComparison(pb.GetComparisonRequest(name="comparisons/x"), timeout=5)
    finished = [(r.grpc_method, r.levelname) for r in caplog.records if r.getMessage() == "rpc finished"]
    assert finished == [("GetMockMode", "DEBUG"), ("GetComparison", "INFO")]


async def test_slow_successful_calls_are_logged_at_info_health_checks_are_not(caplog):
    server, _ = build_fake_server(log_slow_call_seconds=0)  # every call is "slow": no timing in the test
    with caplog.at_level(logging.DEBUG, "service_core.rpc"):
        async with running(server), grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb_grpc.LlmProviderServiceStub(channel)
            await stub.GetMockMode(pb.GetMockModeRequest(), timeout=5)
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    finished = [(r.grpc_method, r.levelname) for r in caplog.records if r.getMessage() == "rpc finished"]
    assert finished == [("GetMockMode", "INFO"), ("Check", "DEBUG")]  # health stays out of INFO


class _EchoingServicer(MisbehavingServicer):
    async def GetComparison(self, request, context):
        raise errors.NotFound(f"{request.name} does not exist", metadata={"name": request.name})

    async def CancelComparison(self, request, context):
        raise errors.InvalidArgument(
            [errors.FieldViolation(f"requests[{i}].name", f"bad value {request.name}") for i in range(200)]
        )


@pytest.mark.parametrize("text", ["a" * 70_000, "\u00e5\u20ac\U0001f600" * 20_000])
async def test_errors_that_echo_huge_input_still_fit_the_default_clients_metadata_limit(text):
    server = build_fake_server()[0]
    server.request_check = None  # the servicer's own errors are under test, not the request checks
    servicer = _EchoingServicer()
    server.services = [Service(SERVICE, lambda s: pb_grpc.add_LlmProviderServiceServicer_to_server(servicer, s))]
    async with running(server), grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.LlmProviderServiceStub(channel)  # default client options: 8 KiB of metadata
        with pytest.raises(grpc.aio.AioRpcError) as not_found:
            await stub.GetComparison(pb.GetComparisonRequest(name=text), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await stub.CancelComparison(pb.CancelComparisonRequest(name=text), timeout=5)
    assert not_found.value.code() == grpc.StatusCode.NOT_FOUND
    assert len(not_found.value.details()) < 1000
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = rich_details(invalid.value)["BadRequest"].field_violations
    assert 1 < len(violations) < 200 and "more violations" in violations[-1].description


async def test_request_id_is_echoed_in_trailing_metadata(fake):
    _, _, stub = fake
    call = stub.GetMockMode(pb.GetMockModeRequest(), metadata=(("x-request-id", "req-123"),), timeout=5)
    await call
    assert ("x-request-id", "req-123") in tuple(await call.trailing_metadata())
    fresh = stub.GetMockMode(pb.GetMockModeRequest(), timeout=5)
    await fresh
    generated = dict(await fresh.trailing_metadata())["x-request-id"]
    assert len(generated) == 32
    other = stub.GetMockMode(pb.GetMockModeRequest(), timeout=5)
    await other
    assert dict(await other.trailing_metadata())["x-request-id"] != generated
    long_id = stub.GetMockMode(pb.GetMockModeRequest(), metadata=(("x-request-id", "r" * 5000),), timeout=5)
    await long_id
    assert dict(await long_id.trailing_metadata())["x-request-id"] == "r" * 128
    failed = stub.GetComparison(pb.GetComparisonRequest(name="x"), metadata=(("x-request-id", "req-9"),), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await failed
    assert ("x-request-id", "req-9") in tuple(caught.value.trailing_metadata())


async def test_a_request_check_refuses_before_the_servicer_runs_and_health_is_exempt():
    seen: list[str] = []

    def check(request) -> None:
        seen.append(type(request).__name__)
        if isinstance(request, pb.GetComparisonRequest) and "\x00" in request.name:
            raise errors.InvalidArgument(errors.FieldViolation("name", "must not hold NUL"))

    server, _ = build_fake_server()
    server.request_check = check
    async with running(server), grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pb_grpc.LlmProviderServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetComparison(pb.GetComparisonRequest(name="a\x00b"), timeout=5)
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # not the servicer's NOT_FOUND
    assert seen == ["GetComparisonRequest"]


class TestAuth:
    @pytest.fixture
    async def secured(self):
        server, _ = build_fake_server(auth_tokens="cj:token-one,dashboard:token-two")
        async with running(server), grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            yield server, channel

    @pytest.mark.parametrize("metadata", [(), (("authorization", "Bearer wrong"),), (("authorization", "token-one"),)])
    async def test_rejects_missing_or_bad_token(self, secured, metadata):
        server, channel = secured
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.LlmProviderServiceStub(channel).GetMockMode(
                pb.GetMockModeRequest(), metadata=metadata, timeout=5
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert rich_details(caught.value)["ErrorInfo"].reason == "INVALID_TOKEN"
        assert await eventually(lambda: handled(server, "GetMockMode", "Unauthenticated") == 1)

    @pytest.mark.parametrize("token", ["token-one", "token-two"])
    async def test_accepts_each_configured_token(self, secured, token):
        _, channel = secured
        response = await pb_grpc.LlmProviderServiceStub(channel).GetMockMode(
            pb.GetMockModeRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=5
        )
        assert response.mock_mode == "ok"

    async def test_health_is_exempt(self, secured):
        _, channel = secured
        response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING

    async def test_reflection_is_exempt(self, secured):
        from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

        _, channel = secured
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def requests():
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        names = []
        async for response in stub.ServerReflectionInfo(requests(), timeout=5):
            names = [s.name for s in response.list_services_response.service]
        assert SERVICE in names


async def test_open_server_says_so(caplog):
    server, _ = build_fake_server()
    with caplog.at_level(logging.WARNING):
        async with running(server):
            pass
    assert any("OPEN" in record.getMessage() for record in caplog.records)


def test_accepted_tokens_are_remembered_and_wrong_ones_never_are():
    from prometheus_client import CollectorRegistry

    from service_core.interceptors import MAX_ACCEPTED_HEADERS, CallStack
    from service_core.metrics import GrpcServerMetrics

    stack = CallStack(domain="d", metrics=GrpcServerMetrics(CollectorRegistry()), tokens={"secret-1": "cj"})
    assert stack._caller("Bearer secret-1") == "cj"
    assert stack._caller("Bearer secret-1") == "cj"  # from what it remembered
    for wrong in ("Bearer secret-2", "Bearer secret-1x", "Basic secret-1", "Bearer ", "", "secret-1"):
        assert stack._caller(wrong) is None
    assert stack._accepted == {"Bearer secret-1": "cj"}
    for spelling in range(MAX_ACCEPTED_HEADERS * 2):  # distinct spellings of one good token
        assert stack._caller("bearer" + " " * (spelling + 1) + "secret-1") == "cj"
    assert len(stack._accepted) == MAX_ACCEPTED_HEADERS
