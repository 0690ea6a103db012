"""An in-process LPS with fast settings, and helpers to submit and collect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
from huleedu.llm.v1 import batch_job_service_pb2_grpc, comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

from llm_provider_server.app import LpsApp
from llm_provider_server.domain.model import Provider
from llm_provider_server.providers.base import ProviderAdapter
from llm_provider_server.settings import LpsSettings

FAST = {
    "port": 0,
    "metrics_port": -1,
    "idle_poll_seconds": 0.05,
    "sweep_interval_seconds": 0.1,
    "batch_poll_interval_seconds": 0.1,
    "mock_batch_validating_seconds": 0.05,
    "mock_batch_processing_seconds": 0.2,
    "mock_batch_finalizing_seconds": 0.05,
    "retry_base_seconds": 0.01,
    "retry_cap_seconds": 0.05,
    "shutdown_grace_seconds": 1.0,
}


def fast_settings(database_url: str, **overrides) -> LpsSettings:
    return LpsSettings(**{**FAST, "database_url": database_url, **overrides})


def comparison(
    request_id: str, a: str = "", b: str = "", consumer: str = "cj", **fields
) -> comparison_pb2.ComparisonRequest:
    return comparison_pb2.ComparisonRequest(
        request_id=request_id,
        essay_a_text=a or f"Essay text for {request_id}, first.",
        essay_b_text=b or f"Essay text for {request_id}, second.",
        consumer=consumer,
        **fields,
    )


@dataclass
class Harness:
    app: LpsApp
    channel: grpc.aio.Channel
    port: int = 0

    @property
    def stub(self) -> pb_grpc.LlmProviderServiceStub:
        return pb_grpc.LlmProviderServiceStub(self.channel)

    @property
    def jobs(self) -> batch_job_service_pb2_grpc.BatchJobServiceStub:
        return batch_job_service_pb2_grpc.BatchJobServiceStub(self.channel)

    async def submit(self, *requests: comparison_pb2.ComparisonRequest) -> pb.SubmitComparisonsResponse:
        return await self.stub.SubmitComparisons(pb.SubmitComparisonsRequest(requests=list(requests)), timeout=30)

    async def collect(
        self, count: int, consumer: str = "cj", timeout: float = 60, ack: bool = True, **stream_fields
    ) -> list[comparison_pb2.ComparisonResult]:
        """Stream until `count` results arrived (acknowledging them unless ack=False)."""
        results: list[comparison_pb2.ComparisonResult] = []
        stream = self.stub.StreamComparisonResults(
            pb.StreamComparisonResultsRequest(consumer=consumer, **stream_fields), timeout=timeout
        )
        try:
            async for message in stream:
                results.append(message.result)
                if ack:
                    await self.stub.AckComparisonResults(
                        pb.AckComparisonResultsRequest(consumer=consumer, request_ids=[message.result.request_id]),
                        timeout=10,
                    )
                if len(results) >= count:
                    break
        finally:
            stream.cancel()
        return results

    async def get(self, request_id: str) -> comparison_pb2.Comparison:
        response = await self.stub.GetComparison(pb.GetComparisonRequest(name=f"comparisons/{request_id}"), timeout=10)
        return response.comparison

    def sample(self, name: str, labels: dict[str, str]) -> float:
        return self.app.registry.get_sample_value(name, labels) or 0.0


def provider_calls(*harnesses: Harness) -> float:
    """Provider calls made by these servers, whatever their outcome."""
    total = 0.0
    for harness in harnesses:
        for metric in harness.app.registry.collect():
            if metric.name == "llm_provider_requests":
                total += sum(s.value for s in metric.samples if s.name == "llm_provider_requests_total")
    return total


@asynccontextmanager
async def lps(
    database_url: str, adapters: dict[Provider, ProviderAdapter] | None = None, **overrides
) -> AsyncIterator[Harness]:
    app = LpsApp(fast_settings(database_url, **overrides), adapters=adapters)
    server = app.grpc_server()
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            yield Harness(app, channel, server.port)
    finally:
        await server.stop(grace=1)
