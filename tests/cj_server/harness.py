"""In-process LPS (latent_bt judge) + CJ server (+ a recording result aggregator) for CJ tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc
from huleedu.cj.v1 import assessment_pb2
from huleedu.cj.v1 import cj_assessment_service_pb2 as pb
from huleedu.cj.v1 import cj_assessment_service_pb2_grpc as pb_grpc
from huleedu.results.v1 import result_aggregator_service_pb2 as ras_pb
from huleedu.results.v1 import result_aggregator_service_pb2_grpc as ras_grpc

from cj_server.app import CjApp
from cj_server.settings import CjSettings
from llm_provider_server.app import LpsApp
from llm_provider_server.domain.mock_judge import latent_quality
from tests.llm_provider_server.harness import fast_settings

A = assessment_pb2.Assessment


def essays(count: int, prefix: str = "e") -> list[assessment_pb2.Essay]:
    return [
        assessment_pb2.Essay(essay_id=f"{prefix}{i}", text=f"Essay {prefix}{i}: an answer of its own.")
        for i in range(count)
    ]


def truth(text: str) -> float:
    return latent_quality(text, 2.0)


class RecordingRas(ras_grpc.ResultAggregatorServiceServicer):
    """Records what CJ's outbox delivers; fails the first `fail_first` calls with UNAVAILABLE,
    and refuses every assessment result with INVALID_ARGUMENT when `refuse_results`."""

    def __init__(self, fail_first: int = 0, refuse_results: bool = False):
        self.fail_first = fail_first
        self.refuse_results = refuse_results
        self.refused = 0
        self.phase_outcomes: list[ras_pb.RecordPhaseOutcomeRequest] = []
        self.results: list[ras_pb.RecordAssessmentResultRequest] = []

    async def _maybe_fail(self, context) -> None:
        if self.fail_first > 0:
            self.fail_first -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "result aggregator is down")

    async def RecordPhaseOutcome(self, request, context):
        await self._maybe_fail(context)
        self.phase_outcomes.append(request)
        return ras_pb.RecordPhaseOutcomeResponse()

    async def RecordAssessmentResult(self, request, context):
        await self._maybe_fail(context)
        if self.refuse_results:
            self.refused += 1
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no batch " + request.batch_id)
        self.results.append(request)
        return ras_pb.RecordAssessmentResultResponse()


@dataclass
class Stack:
    lps: LpsApp
    cj: CjApp
    channel: grpc.aio.Channel
    ras: RecordingRas | None = None
    servers: list = field(default_factory=list)

    @property
    def stub(self) -> pb_grpc.CjAssessmentServiceStub:
        return pb_grpc.CjAssessmentServiceStub(self.channel)

    async def create(self, **fields) -> A:
        fields.setdefault("request_id", "req-1")
        return (await self.stub.CreateAssessment(pb.CreateAssessmentRequest(**fields), timeout=30)).assessment

    async def finish(self, name: str, timeout: float = 120) -> list[pb.StreamComparisonResultsResponse]:
        """Every event of the assessment's stream, up to its final one."""
        return [
            event
            async for event in self.stub.StreamComparisonResults(
                pb.StreamComparisonResultsRequest(name=name), timeout=timeout
            )
        ]

    async def get(self, name: str) -> A:
        return (await self.stub.GetAssessment(pb.GetAssessmentRequest(name=name), timeout=10)).assessment

    async def result(self, name: str) -> assessment_pb2.AssessmentResult:
        return (await self.stub.GetAssessmentResult(pb.GetAssessmentResultRequest(name=name), timeout=10)).result


def cj_settings(database_url: str, lps_port: int, ras_port: int | None = None, **overrides) -> CjSettings:
    return CjSettings(
        **{
            "port": 0,
            "metrics_port": -1,
            "database_url": database_url,
            "lps_target": f"127.0.0.1:{lps_port}",
            "ras_target": f"127.0.0.1:{ras_port}" if ras_port else "",
            "sweep_interval_seconds": 0.2,
            "outbox_interval_seconds": 0.1,
            "stream_poll_seconds": 0.1,
            **overrides,
        }
    )


@asynccontextmanager
async def stack(
    database_url: str, lps_url: str, *, ras: RecordingRas | None = None, lps_overrides=None, **cj_overrides
) -> AsyncIterator[Stack]:
    lps = LpsApp(fast_settings(lps_url, **{"mock_mode": "latent_bt", **(lps_overrides or {})}))
    lps_server = lps.grpc_server()
    await lps_server.start()
    ras_server = None
    if ras is not None:
        ras_server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        ras_grpc.add_ResultAggregatorServiceServicer_to_server(ras, ras_server)
        ras_port = ras_server.add_insecure_port("127.0.0.1:0")
        await ras_server.start()
    cj = CjApp(cj_settings(database_url, lps_server.port, ras_port if ras else None, **cj_overrides))
    cj_server = cj.grpc_server()
    await cj_server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{cj_server.port}") as channel:
            yield Stack(lps, cj, channel, ras, [cj_server, lps_server, ras_server])
    finally:
        await cj_server.stop(grace=1)
        await lps_server.stop(grace=1)
        if ras_server is not None:
            await ras_server.stop(0)
