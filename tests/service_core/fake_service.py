"""A stand-in servicer on the LLM provider contract whose methods misbehave on purpose,
so the shared interceptors can be tested against every kind of outcome."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from huleedu.llm.v1 import comparison_pb2, llm_provider_service_pb2, llm_provider_service_pb2_grpc
from prometheus_client import CollectorRegistry

from llm_provider_server.app import LLM_SERVICE, add_llm_servicer
from service_core import errors
from service_core.db import create_engine
from service_core.server import GrpcServer, Service
from service_core.settings import ServerSettings


class MisbehavingServicer(llm_provider_service_pb2_grpc.LlmProviderServiceServicer):
    def __init__(self) -> None:
        self.slow_seconds = 5.0
        self.slow_started = asyncio.Event()
        self.slow_finished = asyncio.Event()
        self.cleanup_seconds = 0.0  # cleanup a cancelled slow call still awaits (as a DB release would)
        self.cleaned_up = asyncio.Event()
        self.stream_forever = False  # StreamComparisonResults yields until the client goes away
        self.stream_closed = asyncio.Event()

    async def GetMockMode(self, request, context):
        return llm_provider_service_pb2.GetMockModeResponse(mock_mode="ok")

    async def GetComparison(self, request, context):
        if request.name == "comparisons/database-down":  # a real driver failure: no PostgreSQL there
            engine = create_engine("postgresql://postgres@127.0.0.1:1/test")
            try:
                async with engine.connect() as connection:
                    await connection.execute(sa.text("SELECT 1"))
            finally:
                await engine.dispose()
        if request.name == "comparisons/database-locked":
            raise sa.exc.OperationalError("UPDATE lps_requests ...", {}, Exception("database is locked"))
        raise errors.NotFound(
            f"{request.name} does not exist", reason="COMPARISON_NOT_FOUND", metadata={"name": request.name}
        )

    async def CancelComparison(self, request, context):
        raise errors.InvalidArgument([errors.FieldViolation("name", "must look like comparisons/{request_id}")])

    async def SubmitComparisons(self, request, context):
        raise RuntimeError("database password is hunter2")

    async def ListModels(self, request, context):
        raise errors.ResourceExhausted("queue full", retry_after_seconds=2.5, reason="QUEUE_FULL")

    async def AckComparisonResults(self, request, context):
        self.slow_started.set()
        try:
            await asyncio.sleep(self.slow_seconds)
            self.slow_finished.set()
        finally:
            if self.cleanup_seconds:
                await asyncio.sleep(self.cleanup_seconds)
                self.cleaned_up.set()
        return llm_provider_service_pb2.AckComparisonResultsResponse(acknowledged_count=len(request.request_ids))

    async def StreamComparisonResults(self, request, context):
        if self.stream_forever:
            sequence = 0
            try:
                while True:
                    sequence += 1
                    yield llm_provider_service_pb2.StreamComparisonResultsResponse(
                        result=comparison_pb2.ComparisonResult(sequence=sequence)
                    )
                    await asyncio.sleep(0.01)
            finally:
                self.stream_closed.set()
        for sequence in (1, 2):
            yield llm_provider_service_pb2.StreamComparisonResultsResponse(
                result=comparison_pb2.ComparisonResult(sequence=sequence)
            )
        raise errors.FailedPrecondition("consumer was reset", reason="CONSUMER_RESET")


def build_fake_server(**settings_overrides) -> tuple[GrpcServer, MisbehavingServicer]:
    servicer = MisbehavingServicer()
    settings = ServerSettings(port=0, metrics_port=-1, **settings_overrides)
    server = GrpcServer(
        name="fake",
        settings=settings,
        error_domain="test.huleedu.dev",
        registry=CollectorRegistry(),
        services=[Service(LLM_SERVICE, lambda s: add_llm_servicer(servicer, s))],
    )
    return server, servicer
