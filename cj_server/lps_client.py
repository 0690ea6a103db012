"""The CJ server's client of the LLM provider server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import grpc
from huleedu.llm.v1 import batch_job_service_pb2, batch_job_service_pb2_grpc, comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

from cj_server.settings import CjSettings


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
        await self.stub.SubmitComparisons(
            pb.SubmitComparisonsRequest(requests=list(requests)), timeout=self.timeout, metadata=self.metadata
        )

    async def create_batch_job(self, request_id: str, requests: Sequence[comparison_pb2.ComparisonRequest]) -> str:
        response = await self.jobs.CreateBatchJob(
            batch_job_service_pb2.CreateBatchJobRequest(request_id=request_id, requests=list(requests)),
            timeout=self.timeout,
            metadata=self.metadata,
        )
        return response.batch_job.name

    async def get(self, request_id: str) -> comparison_pb2.Comparison | None:
        try:
            response = await self.stub.GetComparison(
                pb.GetComparisonRequest(name=f"comparisons/{request_id}"), timeout=self.timeout, metadata=self.metadata
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return response.comparison

    async def cancel(self, request_id: str) -> None:
        try:
            await self.stub.CancelComparison(
                pb.CancelComparisonRequest(name=f"comparisons/{request_id}"),
                timeout=self.timeout,
                metadata=self.metadata,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                raise

    async def supports_batch_api(self, provider: int, model: str) -> bool:
        response = await self.stub.ListModels(
            pb.ListModelsRequest(provider=provider, include_deprecated=True),
            timeout=self.timeout,
            metadata=self.metadata,
        )
        chosen = [m for m in response.models if (m.model_id == model if model else m.is_default)]
        return bool(chosen) and all(m.supports_batch_api for m in chosen)

    def results(self) -> AsyncIterator[pb.StreamComparisonResultsResponse]:
        return self.stub.StreamComparisonResults(
            pb.StreamComparisonResultsRequest(consumer=self.settings.lps_consumer), metadata=self.metadata
        )

    async def ack(self, request_ids: Sequence[str]) -> None:
        await self.stub.AckComparisonResults(
            pb.AckComparisonResultsRequest(consumer=self.settings.lps_consumer, request_ids=list(request_ids)),
            timeout=self.timeout,
            metadata=self.metadata,
        )

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
