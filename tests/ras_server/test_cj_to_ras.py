"""CJ reports to a real RAS through its outbox: the CJ phase starts, then results land."""

from __future__ import annotations

import grpc
import pytest
from huleedu.results.v1 import batch_pb2
from huleedu.results.v1 import result_aggregator_service_pb2 as pb
from huleedu.results.v1 import result_aggregator_service_pb2_grpc as pb_grpc

from ras_server.app import RasApp
from ras_server.settings import RasSettings
from tests.cj_server.harness import essays, stack
from tests.helpers import wait_until


async def test_cj_outbox_drives_the_batch_to_complete(database_url):
    ras = RasApp(RasSettings(port=0, metrics_port=-1, database_url=database_url))
    server = ras.grpc_server()
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb_grpc.ResultAggregatorServiceStub(channel)
            await stub.RegisterBatch(
                pb.RegisterBatchRequest(
                    event_id="reg-1",
                    batch_id="class-9b",
                    owner="teacher-1",
                    requested_phases=["cj_assessment"],
                    essays=[pb.RegisteredEssay(essay_id=e.essay_id) for e in essays(6)],
                )
            )
            async with stack(database_url, database_url, ras_target=f"127.0.0.1:{server.port}") as s:
                created = await s.create(essays=essays(6), comparison_budget=15, batch_id="class-9b")
                await s.finish(created.name)

                async def completed() -> bool:
                    status = (await stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id="class-9b"))).batch
                    return status.client_status == batch_pb2.CLIENT_STATUS_COMPLETED_SUCCESSFULLY

                assert await wait_until(completed, timeout=30)
                reported = (await s.result(created.name)).reliability.estimate
            status = (await stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id="class-9b"))).batch
    finally:
        await server.stop(0)
    # RAS shows the figure CJ reports first (the honest estimate; with six essays it may be low).
    assert status.cj_assessment == created.name and 0 <= status.cj_reliability <= 1
    assert status.cj_reliability == pytest.approx(reported)
    assert sorted(e.assessment.student_rank for e in status.essays) == list(range(1, 7))
    phase = status.phases[0]
    assert phase.phase == "cj_assessment" and phase.start_time.seconds > 0 and phase.end_time.seconds > 0
