"""Where the servers are and how to reach them: one settings object, one channel per server."""

from __future__ import annotations

import os
from dataclasses import dataclass

import grpc
from huleedu.cj.v1 import cj_assessment_service_pb2_grpc as cj_grpc
from huleedu.llm.v1 import batch_job_service_pb2_grpc as jobs_grpc
from huleedu.results.v1 import result_aggregator_service_pb2_grpc as ras_grpc


@dataclass(frozen=True)
class ClientSettings:
    cj_target: str = "127.0.0.1:50051"
    lps_target: str = "127.0.0.1:50052"
    ras_target: str = "127.0.0.1:50053"
    token: str = ""
    timeout: float = 30.0

    @classmethod
    def from_env(cls) -> ClientSettings:
        env = os.environ
        return cls(
            cj_target=env.get("HULEEDU_CJ_TARGET", cls.cj_target),
            lps_target=env.get("HULEEDU_LPS_TARGET", cls.lps_target),
            ras_target=env.get("HULEEDU_RAS_TARGET", cls.ras_target),
            token=env.get("HULEEDU_TOKEN", ""),
            timeout=float(env.get("HULEEDU_TIMEOUT", cls.timeout)),
        )


class Clients:
    """Stubs for the three services; channels open lazily (connecting happens on the first call)."""

    def __init__(self, settings: ClientSettings):
        self.settings = settings
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {settings.token}"),) if settings.token else ()
        )
        self._channels: list[grpc.aio.Channel] = []

    def _channel(self, target: str) -> grpc.aio.Channel:
        channel = grpc.aio.insecure_channel(target)
        self._channels.append(channel)
        return channel

    async def __aenter__(self) -> Clients:
        self.cj = cj_grpc.CjAssessmentServiceStub(self._channel(self.settings.cj_target))
        self.ras = ras_grpc.ResultAggregatorServiceStub(self._channel(self.settings.ras_target))
        self.jobs = jobs_grpc.BatchJobServiceStub(self._channel(self.settings.lps_target))
        return self

    async def __aexit__(self, *exc_info) -> None:
        for channel in self._channels:
            await channel.close()

    def call_options(self, timeout: float | None = None) -> dict:
        return {"metadata": self.metadata, "timeout": self.settings.timeout if timeout is None else timeout}
