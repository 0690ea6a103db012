"""CJ servicer: thin, convert -> service -> convert."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from huleedu.cj.v1 import cj_assessment_service_pb2 as pb
from huleedu.cj.v1 import cj_assessment_service_pb2_grpc

from cj_server import converters
from cj_server.assessments import Assessments, id_from_name
from cj_server.domain.grading import BUILT_IN_SCALES
from service_core.errors import FieldViolation, InvalidArgument
from service_core.paging import keyset_after, keyset_token, offset_from, offset_token, page_size
from service_core.validation import enum_values


class CjAssessmentServicer(cj_assessment_service_pb2_grpc.CjAssessmentServiceServicer):
    def __init__(self, service: Assessments) -> None:
        self.service = service

    async def CreateAssessment(
        self, request: pb.CreateAssessmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateAssessmentResponse:
        row = await self.service.create(
            converters.create_spec(request),
            converters.overrides_dict(request),
            request.batch_id,
            dict(request.labels),
        )
        return pb.CreateAssessmentResponse(assessment=await self.service.assessment(row["assessment_id"]))

    async def GetAssessment(
        self, request: pb.GetAssessmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAssessmentResponse:
        return pb.GetAssessmentResponse(assessment=await self.service.assessment(id_from_name(request.name)))

    async def ListAssessments(
        self, request: pb.ListAssessmentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAssessmentsResponse:
        size = page_size(request.page_size)
        states = enum_values(converters.STATE_FROM_PROTO, request.states, "states")
        after = keyset_after(request.page_token)
        page = await self.service.list_assessments(limit=size + 1, after=after, states=states)
        last = page[size - 1][0] if len(page) > size else None
        token = keyset_token(last["created_at"], last["assessment_id"]) if last else ""
        return pb.ListAssessmentsResponse(assessments=[message for _, message in page[:size]], next_page_token=token)

    async def CancelAssessment(
        self, request: pb.CancelAssessmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelAssessmentResponse:
        return pb.CancelAssessmentResponse(assessment=await self.service.cancel(id_from_name(request.name)))

    async def GetAssessmentResult(
        self, request: pb.GetAssessmentResultRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAssessmentResultResponse:
        return pb.GetAssessmentResultResponse(result=await self.service.result(id_from_name(request.name)))

    async def StreamComparisonResults(
        self, request: pb.StreamComparisonResultsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamComparisonResultsResponse]:
        if request.after_sequence < 0:
            raise InvalidArgument(FieldViolation("after_sequence", "must not be negative"))
        async for event in self.service.events(id_from_name(request.name), request.after_sequence):
            yield event

    async def CreateAnchor(
        self, request: pb.CreateAnchorRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateAnchorResponse:
        anchor = request.anchor
        row = await self.service.create_anchor(
            request.request_id,
            {
                "grade_scale_id": anchor.grade_scale_id,
                "grade": anchor.grade,
                "text": anchor.text,
                "assignment_id": anchor.assignment_id,
                "display_name": anchor.display_name,
            },
        )
        return pb.CreateAnchorResponse(anchor=converters.anchor_proto(row))

    async def ListAnchors(
        self, request: pb.ListAnchorsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAnchorsResponse:
        size, offset = page_size(request.page_size), offset_from(request.page_token)
        rows = await self.service.store.list_anchors(
            limit=size + 1, offset=offset, grade_scale_id=request.grade_scale_id, assignment_id=request.assignment_id
        )
        return pb.ListAnchorsResponse(
            anchors=[converters.anchor_proto(r) for r in rows[:size]],
            next_page_token=offset_token(offset + size) if len(rows) > size else "",
        )

    async def ListGradeScales(
        self, request: pb.ListGradeScalesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListGradeScalesResponse:
        return pb.ListGradeScalesResponse(grade_scales=[converters.scale_to_proto(s) for s in BUILT_IN_SCALES.values()])
