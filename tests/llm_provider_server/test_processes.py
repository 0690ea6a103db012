"""LPS as real processes: the latent_bt judge agrees with itself across processes, and
two servers on one PostgreSQL database never run the same request twice."""

from __future__ import annotations

import asyncio
import re
import urllib.request

import grpc
import pytest
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

from stack.processes import ServerProcess
from tests.llm_provider_server.harness import comparison


def start_lps(tmp_path, database_url: str, **settings: str) -> ServerProcess:
    env = {"LPS_PORT": "0", "LPS_METRICS_PORT": "0", "LPS_DATABASE_URL": database_url, "LPS_IDLE_POLL_SECONDS": "0.05"}
    env.update({f"LPS_{key.upper()}": value for key, value in settings.items()})
    return ServerProcess("llm_provider_server", env, cwd=tmp_path).start()


async def submit_and_collect(target: str, requests, count: int) -> dict[str, comparison_pb2.ComparisonResult]:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.LlmProviderServiceStub(channel)
        await stub.SubmitComparisons(pb.SubmitComparisonsRequest(requests=requests), timeout=30)
        results: dict[str, comparison_pb2.ComparisonResult] = {}
        async for message in stub.StreamComparisonResults(pb.StreamComparisonResultsRequest(consumer="cj"), timeout=60):
            results[message.result.request_id] = message.result
            await stub.AckComparisonResults(
                pb.AckComparisonResultsRequest(consumer="cj", request_ids=[message.result.request_id]), timeout=10
            )
            if len(results) == count:
                break
        return results


def provider_calls(process: ServerProcess) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{process.metrics_port}/metrics", timeout=5).read().decode()
    return sum(float(m) for m in re.findall(r"^llm_provider_requests_total\{[^}]*\} (\S+)$", body, re.MULTILINE))


async def test_latent_bt_verdicts_identical_across_processes(tmp_path):
    pairs = [
        comparison(f"p{i}", a=f"Student essay number {i}.", b=f"Student essay number {(i * 7) % 40 + 40}.")
        for i in range(40)
    ]
    verdicts = []
    for index in range(2):
        process = await asyncio.to_thread(
            start_lps, tmp_path, f"sqlite:///{tmp_path / f'lps{index}.db'}", mock_mode="latent_bt"
        )
        try:
            results = await submit_and_collect(process.target, pairs, len(pairs))
        finally:
            assert await asyncio.to_thread(process.stop) == 0
        verdicts.append({request_id: r.winner for request_id, r in results.items()})
    assert verdicts[0] == verdicts[1]
    assert set(verdicts[0].values()) == {comparison_pb2.WINNER_ESSAY_A, comparison_pb2.WINNER_ESSAY_B}


@pytest.mark.postgres
async def test_two_servers_on_one_postgres_never_run_a_request_twice(tmp_path, postgres_url):
    settings = {"mock_latency_ms": "20", "max_concurrency_per_model": "4", "claim_lease_seconds": "120"}
    first = await asyncio.to_thread(start_lps, tmp_path, postgres_url, **settings)
    second = await asyncio.to_thread(start_lps, tmp_path, postgres_url, **settings)
    try:
        requests = [comparison(f"shared{i}") for i in range(200)]
        results = await submit_and_collect(first.target, requests, len(requests))
        calls = [provider_calls(first), provider_calls(second)]
    finally:
        codes = [await asyncio.to_thread(p.stop) for p in (first, second)]
    assert len(results) == 200 and all(r.attempts == 1 for r in results.values())
    assert sum(calls) == 200, f"provider calls per server: {calls}"
    assert min(calls) > 0, f"both servers should have taken work: {calls}"
    assert codes == [0, 0]


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["per_request", "serial_bundle"])
async def test_two_servers_with_calls_longer_than_the_lease_call_once_per_request(tmp_path, postgres_url, mode):
    """Each call lasts three claim leases: the heartbeat keeps the claims, so across two server
    processes the provider is called exactly once per request (the seeds' 627 calls for 128)."""
    settings = {
        "queue_processing_mode": mode,
        "mock_latency_ms": "1800",
        "claim_lease_seconds": "0.6",
        "max_concurrency_per_model": "8",
        "bundle_max_items": "8",
        "sweep_interval_seconds": "0.1",
    }
    first = await asyncio.to_thread(start_lps, tmp_path, postgres_url, **settings)
    second = await asyncio.to_thread(start_lps, tmp_path, postgres_url, **settings)
    try:
        requests = [comparison(f"long{i}") for i in range(32)]
        results = await submit_and_collect(first.target, requests, len(requests))
        await asyncio.sleep(1.0)  # more sweeps: nothing is released and run again
        calls = [provider_calls(first), provider_calls(second)]
    finally:
        codes = [await asyncio.to_thread(p.stop) for p in (first, second)]
    assert len(results) == 32 and all(r.attempts == 1 for r in results.values())
    assert sum(calls) == 32, f"provider calls per server: {calls}"
    assert codes == [0, 0]
