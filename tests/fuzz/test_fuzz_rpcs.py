"""Every RPC of the three servers, fuzzed with requests generated from its descriptor.

The property: whatever a client sends, the answer is OK or one of the documented rejections
(INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, RESOURCE_EXHAUSTED), never
INTERNAL or UNKNOWN, never a unary call that hangs, and never an error message that echoes an
unbounded part of the input. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import descriptor as d
from google.protobuf import symbol_database
from huleedu.cj.v1 import cj_assessment_service_pb2
from huleedu.llm.v1 import batch_job_service_pb2, llm_provider_service_pb2
from huleedu.results.v1 import result_aggregator_service_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import create_postgres_database, drop_postgres_database, require_postgres
from tests.fuzz.seeds import seed
from tests.fuzz.servers import Servers
from tests.fuzz.strategies import messages, mutations

SERVICES = {
    "cj": [cj_assessment_service_pb2.DESCRIPTOR.services_by_name["CjAssessmentService"]],
    "lps": [
        llm_provider_service_pb2.DESCRIPTOR.services_by_name["LlmProviderService"],
        batch_job_service_pb2.DESCRIPTOR.services_by_name["BatchJobService"],
    ],
    "ras": [result_aggregator_service_pb2.DESCRIPTOR.services_by_name["ResultAggregatorService"]],
}
METHODS = [(key, method) for key, services in SERVICES.items() for service in services for method in service.methods]

ALLOWED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
# A stream may legitimately wait for events longer than the test reads it.
STREAM_ALLOWED = ALLOWED | {grpc.StatusCode.DEADLINE_EXCEEDED}
MAX_DETAILS = 2_048
EXAMPLES = int(os.environ.get("HULEEDU_FUZZ_EXAMPLES", "40"))


def _path(method: d.MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def _class(descriptor: d.Descriptor):
    return symbol_database.Default().GetSymbol(descriptor.full_name)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def servers(request, tmp_path_factory) -> Iterator[Servers]:
    names: list[str] = []
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("fuzz")
        urls = {key: f"sqlite+aiosqlite:///{folder / key}.db" for key in SERVICES}
    else:
        require_postgres()
        urls = {}
        for key in SERVICES:
            name = f"huleedu_fuzz_{key}_{uuid.uuid4().hex[:8]}"
            urls[key] = create_postgres_database(name)
            names.append(name)
    try:
        with Servers(urls) as running:
            yield running
    finally:
        for name in names:
            drop_postgres_database(name)


@pytest.fixture(scope="module")
def channels(servers) -> Iterator[dict[str, grpc.Channel]]:
    opened = {key: grpc.insecure_channel(servers.target(key)) for key in SERVICES}
    yield opened
    for channel in opened.values():
        channel.close()


def _serialize(request) -> bytes:
    return request.SerializeToString()


def call(channel: grpc.Channel, method: d.MethodDescriptor, request) -> tuple[grpc.StatusCode, str]:
    parse = _class(method.output_type).FromString
    try:
        if method.server_streaming:
            stream = channel.unary_stream(_path(method), request_serializer=_serialize, response_deserializer=parse)
            for count, _ in enumerate(stream(request, timeout=1.5)):
                if count >= 2:
                    break
        else:
            unary = channel.unary_unary(_path(method), request_serializer=_serialize, response_deserializer=parse)
            unary(request, timeout=15)
    except grpc.RpcError as error:
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


@pytest.mark.slow
@pytest.mark.parametrize(("key", "method"), METHODS, ids=[f"{key}.{method.name}" for key, method in METHODS])
def test_any_request_gets_a_documented_answer(channels, key, method):
    channel = channels[key]
    allowed = STREAM_ALLOWED if method.server_streaming else ALLOWED
    base = seed(method.full_name, _class(method.input_type))
    requests = messages(method.input_type) if base is None else st.one_of(messages(method.input_type), mutations(base))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(requests)
    def check(request):
        code, details = call(channel, method, request)
        assert code in allowed, f"{method.name} answered {code.name}: {details[:300]!r} for {request!r:.500}"
        assert len(details) <= MAX_DETAILS, f"{method.name} echoed {len(details)} characters of detail"

    check()


@pytest.mark.parametrize(("key", "method"), METHODS, ids=[f"{key}.{method.name}" for key, method in METHODS])
def test_bytes_that_are_not_the_message_are_invalid_argument(channels, key, method):
    raw = channels[key].unary_unary(_path(method), request_serializer=None, response_deserializer=None)
    garbage = b"\xff\xff\xff\xff\x0f" + b"\x00" * 7
    if method.server_streaming:
        stream = channels[key].unary_stream(_path(method), request_serializer=None, response_deserializer=None)
        with pytest.raises(grpc.RpcError) as caught:
            list(stream(garbage, timeout=5))
    else:
        with pytest.raises(grpc.RpcError) as caught:
            raw(garbage, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
