"""provider_batch_api falls back, visibly, when the model has no batch API (or LPS cannot say)."""

from __future__ import annotations

import grpc
import pytest
from huleedu.cj.v1 import assessment_pb2
from huleedu.cj.v1 import cj_assessment_service_pb2 as pb
from prometheus_client import CollectorRegistry

from cj_server import converters
from cj_server.assessments import Assessments
from cj_server.domain.validation import ModelInfo
from cj_server.lps_client import translate
from cj_server.metrics import CjMetrics
from cj_server.settings import BatchingMode, CjSettings


class StubLps:
    def __init__(self, answer):
        self.answer = answer

    async def models(self, provider: int) -> list[ModelInfo]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return [ModelInfo(1, "mock-judge", is_default=True, supports_batch_api=self.answer)]


def Unreachable():
    return translate(grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, None, None, details="down"))


@pytest.mark.parametrize(
    ("answer", "mode", "noted"),
    [
        (True, BatchingMode.PROVIDER_BATCH_API, False),
        (False, BatchingMode.SERIAL_BUNDLE, True),
        (Unreachable(), BatchingMode.SERIAL_BUNDLE, True),
    ],
)
async def test_batch_api_fallback(answer, mode, noted):
    service = Assessments(CjSettings(), store=None, lps=StubLps(answer), metrics=CjMetrics(CollectorRegistry()))
    request = pb.CreateAssessmentRequest(llm_batching_mode=assessment_pb2.BATCHING_MODE_PROVIDER_BATCH_API)
    chosen, note = await service.batching_mode(converters.create_spec(request))
    assert chosen is mode
    assert bool(note) is noted and (not noted or "fell back" in note)
