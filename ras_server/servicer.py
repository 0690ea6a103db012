"""RAS servicer: thin, convert -> service -> convert. The caller's name (from its bearer
token) decides what it may see: services everything, owners only their own batches."""

from __future__ import annotations

from huleedu.results.v1 import result_aggregator_service_pb2 as pb
from huleedu.results.v1 import result_aggregator_service_pb2_grpc

from ras_server.converters import CLIENT_FROM_PROTO
from ras_server.domain.status import states_for
from ras_server.service import Access, ResultService
from ras_server.settings import RasSettings
from service_core.errors import FieldViolation, InvalidArgument
from service_core.logs import caller_var
from service_core.paging import keyset_after, keyset_token, page_size


class ResultAggregatorServicer(result_aggregator_service_pb2_grpc.ResultAggregatorServiceServicer):
    def __init__(self, settings: RasSettings, service: ResultService):
        self.settings = settings
        self.service = service

    def _access(self) -> Access:
        return Access(caller_var.get(), self.settings.service_caller_names())

    async def RegisterBatch(self, request: pb.RegisterBatchRequest, context) -> pb.RegisterBatchResponse:
        self._access().require_service()
        batch, duplicate = await self.service.register(request)
        return pb.RegisterBatchResponse(batch=batch, duplicate=duplicate)

    async def RecordPhaseOutcome(self, request: pb.RecordPhaseOutcomeRequest, context) -> pb.RecordPhaseOutcomeResponse:
        self._access().require_service()
        return pb.RecordPhaseOutcomeResponse(duplicate=await self.service.record_phase(request))

    async def RecordAssessmentResult(
        self, request: pb.RecordAssessmentResultRequest, context
    ) -> pb.RecordAssessmentResultResponse:
        self._access().require_service()
        return pb.RecordAssessmentResultResponse(duplicate=await self.service.record_assessment(request))

    async def GetBatchStatus(self, request: pb.GetBatchStatusRequest, context) -> pb.GetBatchStatusResponse:
        return pb.GetBatchStatusResponse(batch=await self.service.status(request.batch_id, self._access()))

    async def ListBatches(self, request: pb.ListBatchesRequest, context) -> pb.ListBatchesResponse:
        limit = page_size(request.page_size)
        states = []
        for value in request.statuses:
            if value not in CLIENT_FROM_PROTO:
                raise InvalidArgument(FieldViolation("statuses", f"unknown value {value}"))
            states += [s.value for s in states_for(CLIENT_FROM_PROTO[value])]
        after = keyset_after(request.page_token)
        batches, total, more = await self.service.list(request, self._access(), states, limit, after)
        token = ""
        if more:
            last = batches[-1]
            token = keyset_token(last.create_time.ToNanoseconds() / 1e9, last.batch_id)
        return pb.ListBatchesResponse(batches=batches, next_page_token=token, total_size=total)

    async def WatchBatchStatus(self, request: pb.WatchBatchStatusRequest, context):
        async for batch in self.service.watch(request.batch_id, self._access()):
            yield pb.WatchBatchStatusResponse(batch=batch)
