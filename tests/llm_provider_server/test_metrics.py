"""Metrics that move: rejections by reason, cancellations, batch-job splits, vendor jobs and
vendor cancels, read by scraping the /metrics endpoint after traffic."""

from __future__ import annotations

import asyncio
import urllib.request

import grpc
import pytest
from huleedu.llm.v1 import batch_job_service_pb2 as jobs_pb
from huleedu.llm.v1 import batch_job_service_pb2_grpc
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc
from prometheus_client.parser import text_string_to_metric_families

from llm_provider_server.app import LpsApp
from tests.helpers import wait_until
from tests.llm_provider_server.harness import comparison, fast_settings


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def refused(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code()


async def test_rejections_cancellations_and_splits_are_scraped(database_url):
    settings = fast_settings(
        database_url,
        metrics_port=0,
        queue_capacity=6,
        vendor_job_max_items=2,
        mock_batch_processing_seconds=3.0,
        mock_latency_ms=2000,  # the single comparison is still running when it is cancelled
    )
    server = LpsApp(settings).grpc_server()
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub, jobs = (
                pb_grpc.LlmProviderServiceStub(channel),
                batch_job_service_pb2_grpc.BatchJobServiceStub(channel),
            )
            bad = comparison("bad", a=" ")
            assert await refused(stub.SubmitComparisons(pb.SubmitComparisonsRequest(requests=[bad]))) == (
                grpc.StatusCode.INVALID_ARGUMENT
            )
            job = (
                await jobs.CreateBatchJob(
                    jobs_pb.CreateBatchJobRequest(request_id="m", requests=[comparison(f"m{i}") for i in range(5)])
                )
            ).batch_job
            taken = jobs_pb.CreateBatchJobRequest(request_id="other", requests=[comparison("m0")])
            assert await refused(jobs.CreateBatchJob(taken)) == grpc.StatusCode.ALREADY_EXISTS
            full = pb.SubmitComparisonsRequest(requests=[comparison(f"f{i}") for i in range(3)])
            assert await refused(stub.SubmitComparisons(full)) == grpc.StatusCode.RESOURCE_EXHAUSTED
            await stub.SubmitComparisons(pb.SubmitComparisonsRequest(requests=[comparison("one")]))
            await stub.CancelComparison(pb.CancelComparisonRequest(name="comparisons/one"))

            async def submitted() -> bool:
                parts = (await jobs.GetBatchJob(jobs_pb.GetBatchJobRequest(name=job.name))).batch_job.vendor_jobs
                return len(parts) == 3 and all(p.provider_job_id for p in parts)

            assert await wait_until(submitted)
            await jobs.CancelBatchJob(jobs_pb.CancelBatchJobRequest(name=job.name))

            async def ended() -> bool:
                current = (await jobs.GetBatchJob(jobs_pb.GetBatchJobRequest(name=job.name))).batch_job
                return current.state == current.STATE_CANCELLED

            assert await wait_until(ended)
        metrics = await asyncio.to_thread(scrape, server.metrics_endpoint.port)
    finally:
        await server.stop(grace=1)

    def value(name: str, **labels: str) -> float:
        return metrics.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("llm_provider_rejected_total", reason="INVALID_ARGUMENT") == 1
    assert value("llm_provider_rejected_total", reason="REQUEST_ID_IN_USE") == 1
    assert value("llm_provider_rejected_total", reason="QUEUE_FULL") == 1
    assert value("llm_provider_cancellations_total", kind="comparison") == 1
    assert value("llm_provider_cancellations_total", kind="batch_job") == 1
    assert value("llm_provider_batch_api_job_splits_total", provider="mock") == 1
    assert value("llm_provider_batch_api_vendor_jobs_total", provider="mock") == 3
    assert value("llm_provider_batch_api_vendor_cancels_total", provider="mock") == 3
    cancelled = value("llm_provider_batch_api_jobs_total", provider="mock", model="mock-judge-v1", status="cancelled")
    assert cancelled == 1
