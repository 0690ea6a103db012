"""Every server is healthy per service and answers errors with a rich status."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from huleedu.results.v1 import result_aggregator_service_pb2, result_aggregator_service_pb2_grpc

from cj_server.app import CJ_SERVICE
from cj_server.app import build_server as build_cj
from cj_server.settings import CjSettings
from llm_provider_server.app import BATCH_JOB_SERVICE, LLM_SERVICE
from llm_provider_server.app import build_server as build_lps
from llm_provider_server.settings import LpsSettings
from ras_server.app import RAS_SERVICE
from ras_server.app import build_server as build_ras
from ras_server.settings import RasSettings
from tests.helpers import rich_details, running

SERVERS = {
    "cj": (build_cj, CjSettings, [CJ_SERVICE]),
    "lps": (build_lps, LpsSettings, [LLM_SERVICE, BATCH_JOB_SERVICE]),
    "ras": (build_ras, RasSettings, [RAS_SERVICE]),
}


@pytest.mark.parametrize("server_key", SERVERS)
async def test_health_per_service(tmp_path, server_key):
    build, settings_cls, services = SERVERS[server_key]
    settings = settings_cls(port=0, metrics_port=-1, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    async with running(build(settings)) as server, grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ["", *services]:
            response = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING, name
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_ras_unknown_batch_is_not_found_with_a_rich_status(tmp_path):
    ras = build_ras(RasSettings(port=0, metrics_port=-1, database_url=f"sqlite:///{tmp_path / 'ras.db'}"))
    async with running(ras), grpc.aio.insecure_channel(f"127.0.0.1:{ras.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await result_aggregator_service_pb2_grpc.ResultAggregatorServiceStub(channel).GetBatchStatus(
                result_aggregator_service_pb2.GetBatchStatusRequest(batch_id="b1"), timeout=5
            )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    details = rich_details(caught.value)["ErrorInfo"]
    assert (details.reason, details.domain) == ("BATCH_NOT_FOUND", "results.huleedu.dev")
