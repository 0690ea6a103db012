"""The CJ server's client of the LLM provider server. Transport errors leave this module as
the domain's neighbour errors (transient with the server's RetryInfo, or permanent), so the
use cases and the runner never see grpc."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

import grpc
from huleedu.llm.v1 import batch_job_service_pb2, batch_job_service_pb2_grpc, comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

from cj_server import converters
from cj_server.domain.errors import PERMANENT_CODES, NeighbourRefused, NeighbourUnavailable
from cj_server.domain.validation import ModelInfo
from cj_server.settings import CjSettings
from service_core.retry import Failure

T = TypeVar("T")
DETAILS_PREFIX = 300  # characters of a neighbour's error message kept (they may echo input)


def translate(error: grpc.aio.AioRpcError) -> NeighbourUnavailable | NeighbourRefused:
    code = error.code().name
    message = f"{code}: {(error.details() or '')[:DETAILS_PREFIX]}"
    if code in PERMANENT_CODES:
        return NeighbourRefused(message, code)
    return NeighbourUnavailable(message, code, Failure.from_rpc_error(error).retry_after_seconds)


async def call(operation: Callable[[], Awaitable[T]]) -> T:
    try:
        return await operation()
    except grpc.aio.AioRpcError as error:
        raise translate(error) from error


class LpsClient:
    def __init__(self, settings: CjSettings):
        self.settings = settings
        self._channel: grpc.aio.Channel | None = None
        self._stub: pb_grpc.LlmProviderServiceStub | None = None
        self._jobs: batch_job_service_pb2_grpc.BatchJobServiceStub | None = None
        token = settings.lps_token.get_secret_value()
        self.metadata = (("authorization", f"Bearer {token}"),) if token else ()

    # The channel is made on first use, inside the running event loop: a grpc.aio channel
    # created before asyncio.run() belongs to no loop the server will run.
    @property
    def channel(self) -> grpc.aio.Channel:
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(
                self.settings.lps_target,
                options=[
                    ("grpc.keepalive_time_ms", 30_000),
                    ("grpc.max_receive_message_length", self.settings.max_message_bytes),
                    ("grpc.max_send_message_length", self.settings.max_message_bytes),
                ],
            )
        return self._channel

    @property
    def stub(self) -> pb_grpc.LlmProviderServiceStub:
        if self._stub is None:
            # generated gRPC code carries no annotations
            self._stub = pb_grpc.LlmProviderServiceStub(self.channel)
        return self._stub

    @stub.setter
    def stub(self, value: pb_grpc.LlmProviderServiceStub) -> None:
        self._stub = value

    @property
    def jobs(self) -> batch_job_service_pb2_grpc.BatchJobServiceStub:
        if self._jobs is None:
            self._jobs = batch_job_service_pb2_grpc.BatchJobServiceStub(self.channel)
        return self._jobs

    @property
    def timeout(self) -> float:
        return self.settings.lps_call_timeout_seconds

    async def submit(self, requests: Sequence[comparison_pb2.ComparisonRequest]) -> None:
        await call(
            lambda: self.stub.SubmitComparisons(
                pb.SubmitComparisonsRequest(requests=list(requests)), timeout=self.timeout, metadata=self.metadata
            )
        )

    async def create_batch_job(self, request_id: str, requests: Sequence[comparison_pb2.ComparisonRequest]) -> str:
        response: batch_job_service_pb2.CreateBatchJobResponse = await call(
            lambda: self.jobs.CreateBatchJob(
                batch_job_service_pb2.CreateBatchJobRequest(request_id=request_id, requests=list(requests)),
                timeout=self.timeout,
                metadata=self.metadata,
            )
        )
        return response.batch_job.name

    async def known(self, request_id: str) -> bool:
        """Whether the LLM provider server holds the request."""
        try:
            await call(
                lambda: self.stub.GetComparison(
                    pb.GetComparisonRequest(name=f"comparisons/{request_id}"),
                    timeout=self.timeout,
                    metadata=self.metadata,
                )
            )
        except NeighbourRefused as refused:
            if refused.code == "NOT_FOUND":
                return False
            raise
        return True

    async def cancel(self, request_id: str) -> None:
        try:
            await call(
                lambda: self.stub.CancelComparison(
                    pb.CancelComparisonRequest(name=f"comparisons/{request_id}"),
                    timeout=self.timeout,
                    metadata=self.metadata,
                )
            )
        except NeighbourRefused as refused:
            if refused.code not in ("NOT_FOUND", "FAILED_PRECONDITION"):
                raise

    async def models(self, provider: int) -> list[ModelInfo]:
        response = await call(
            lambda: self.stub.ListModels(
                pb.ListModelsRequest(provider=converters.provider_enum(provider), include_deprecated=True),
                timeout=self.timeout,
                metadata=self.metadata,
            )
        )
        return [
            ModelInfo(
                m.provider, m.model_id, m.is_default, m.supports_batch_api, m.supports_temperature, m.max_output_tokens
            )
            for m in response.models
        ]

    async def results(self, max_in_flight: int) -> AsyncIterator[comparison_pb2.ComparisonResult]:
        stream = self.stub.StreamComparisonResults(
            pb.StreamComparisonResultsRequest(consumer=self.settings.lps_consumer, max_in_flight=max_in_flight),
            metadata=self.metadata,
        )
        try:
            async for message in stream:
                yield message.result
        except grpc.aio.AioRpcError as error:
            raise translate(error) from error
        finally:
            stream.cancel()

    async def ack(self, request_ids: Sequence[str]) -> None:
        for start in range(0, len(request_ids), 1000):
            request = pb.AckComparisonResultsRequest(
                consumer=self.settings.lps_consumer, request_ids=list(request_ids[start : start + 1000])
            )
            await call(partial(self.stub.AckComparisonResults, request, timeout=self.timeout, metadata=self.metadata))

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
