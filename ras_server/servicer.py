"""RAS servicer: thin, proto -> domain record (converters) -> service -> proto. The caller's
name (from its bearer token) decides what it may see: services everything, owners only
their own batches."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from huleedu.results.v1 import result_aggregator_service_pb2 as pb
from huleedu.results.v1 import result_aggregator_service_pb2_grpc

from ras_server import converters as c
from ras_server.service import Access, ResultService
from ras_server.settings import RasSettings
from service_core.errors import DomainError
from service_core.logs import caller_var
from service_core.paging import keyset_token, page_size

T = TypeVar("T")


class ResultAggregatorServicer(result_aggregator_service_pb2_grpc.ResultAggregatorServiceServicer):
    def __init__(self, settings: RasSettings, service: ResultService):
        self.settings = settings
        self.service = service

    def _access(self) -> Access:
        return Access(caller_var.get(), self.settings.service_caller_names())

    def _event(self, kind: str, convert: Callable[[Any], T], request: Any) -> T:
        """An ingest request as a domain event; a refused one is counted as rejected."""
        try:
            self._access().require_service()
            return convert(request)
        except DomainError:
            self.service.rejected(kind)
            raise

    async def RegisterBatch(self, request: pb.RegisterBatchRequest, context) -> pb.RegisterBatchResponse:
        batch, duplicate = await self.service.register(self._event("register", c.register_from_proto, request))
        return pb.RegisterBatchResponse(batch=c.batch_to_proto(batch), duplicate=duplicate)

    async def RecordPhaseOutcome(self, request: pb.RecordPhaseOutcomeRequest, context) -> pb.RecordPhaseOutcomeResponse:
        duplicate = await self.service.record_phase(self._event("phase", c.phase_from_proto, request))
        return pb.RecordPhaseOutcomeResponse(duplicate=duplicate)

    async def RecordAssessmentResult(
        self, request: pb.RecordAssessmentResultRequest, context
    ) -> pb.RecordAssessmentResultResponse:
        duplicate = await self.service.record_assessment(self._event("assessment", c.assessment_from_proto, request))
        return pb.RecordAssessmentResultResponse(duplicate=duplicate)

    async def CancelBatch(self, request: pb.CancelBatchRequest, context) -> pb.CancelBatchResponse:
        batch, duplicate = await self.service.lifecycle(self._event("cancel", c.cancel_from_proto, request))
        return pb.CancelBatchResponse(batch=c.batch_to_proto(batch), duplicate=duplicate)

    async def MarkBatchReady(self, request: pb.MarkBatchReadyRequest, context) -> pb.MarkBatchReadyResponse:
        batch, duplicate = await self.service.lifecycle(self._event("ready", c.ready_from_proto, request))
        return pb.MarkBatchReadyResponse(batch=c.batch_to_proto(batch), duplicate=duplicate)

    async def RecordPipelineCompletion(
        self, request: pb.RecordPipelineCompletionRequest, context
    ) -> pb.RecordPipelineCompletionResponse:
        event = self._event("pipeline_completed", c.pipeline_from_proto, request)
        batch, duplicate = await self.service.lifecycle(event)
        return pb.RecordPipelineCompletionResponse(batch=c.batch_to_proto(batch), duplicate=duplicate)

    async def GetBatchStatus(self, request: pb.GetBatchStatusRequest, context) -> pb.GetBatchStatusResponse:
        batch = await self.service.status(c.batch_id_from_proto(request.batch_id), self._access())
        return pb.GetBatchStatusResponse(batch=c.batch_to_proto(batch))

    async def ListBatches(self, request: pb.ListBatchesRequest, context) -> pb.ListBatchesResponse:
        limit = page_size(request.page_size)
        query, after = c.filter_from_proto(request)
        batches, total, more = await self.service.list(query, self._access(), limit, after)
        token = keyset_token(batches[-1].created_at, batches[-1].batch_id) if more else ""
        return pb.ListBatchesResponse(
            batches=[c.batch_to_proto(b) for b in batches], next_page_token=token, total_size=total
        )

    async def WatchBatchStatus(
        self, request: pb.WatchBatchStatusRequest, context
    ) -> AsyncIterator[pb.WatchBatchStatusResponse]:
        batch_id = c.batch_id_from_proto(request.batch_id)
        async for batch in self.service.watch(batch_id, self._access()):
            yield pb.WatchBatchStatusResponse(batch=c.batch_to_proto(batch))

    async def WatchBatches(self, request: pb.WatchBatchesRequest, context) -> AsyncIterator[pb.WatchBatchesResponse]:
        owner, after = c.feed_from_proto(request)
        async for batch in self.service.feed(owner, after, self._access()):
            yield pb.WatchBatchesResponse(batch=c.batch_to_proto(batch), cursor=str(batch.feed_seq))
