"""Mock-profile parity against a running LPS, or against one this command starts.

    python -m llm_provider_server.parity PROFILE [--target HOST:PORT] [--requests N]

With `--target` it asks the server for its mock mode (GetMockMode) and skips (exit 0,
"SKIP") when the server runs another profile or no mock at all; without it, it switches to
the profile by starting an LPS of its own with LPS_MOCK_MODE=PROFILE (and the rest of the
LPS_* environment) on a loopback port and a temporary database. It then submits N
comparisons, collects and acknowledges their results, and compares winner share, token
means, latency mean and p95 with the profile's recorded figures (`domain/parity.py`, at
the latency scale GetMockMode reports). Exit 0 when every check passes, 1 when one fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

from llm_provider_server.domain import parity
from llm_provider_server.domain.mock_judge import estimate_tokens
from llm_provider_server.domain.model import ComparisonSpec
from llm_provider_server.domain.prompt import render

SKIPPED, PASSED, FAILED = "SKIP", "PASS", "FAIL"


def requests(profile: str, count: int, run: str) -> list[comparison_pb2.ComparisonRequest]:
    return [
        comparison_pb2.ComparisonRequest(
            request_id=f"parity-{run}-{i}",
            essay_a_text=f"Essay {i} argues that reading widely matters for every student.",
            essay_b_text=f"Essay {i + count} argues that sport teaches more than any classroom.",
            consumer=f"parity-{run}",
            overrides=comparison_pb2.LlmOverrides(provider=comparison_pb2.PROVIDER_MOCK),
            metadata={"essay_a_id": f"a{i}", "essay_b_id": f"b{i}", "parity_profile": profile},
        )
        for i in range(count)
    ]


def prompt_estimate(request: comparison_pb2.ComparisonRequest) -> int:
    spec = ComparisonSpec(request.request_id, request.essay_a_text, request.essay_b_text, request.consumer)
    return estimate_tokens(render(spec).canonical)


async def collect(
    stub: pb_grpc.LlmProviderServiceStub, consumer: str, count: int, metadata, wait_seconds: float
) -> list[comparison_pb2.ComparisonResult]:
    results: list[comparison_pb2.ComparisonResult] = []
    stream = stub.StreamComparisonResults(
        pb.StreamComparisonResultsRequest(consumer=consumer), metadata=metadata, timeout=wait_seconds
    )
    try:
        async for message in stream:
            results.append(message.result)
            await stub.AckComparisonResults(
                pb.AckComparisonResultsRequest(consumer=consumer, request_ids=[message.result.request_id]),
                metadata=metadata,
                timeout=10,
            )
            if len(results) >= count:
                break
    finally:
        stream.cancel()
    return results


async def run(
    profile: str, target: str, count: int, token: str = "", wait_seconds: float = 300.0
) -> tuple[str, list[parity.Check]]:
    """(verdict, checks) of one parity run against the server at `target`."""
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.LlmProviderServiceStub(channel)
        mode = await stub.GetMockMode(pb.GetMockModeRequest(), metadata=metadata, timeout=10)
        if not mode.use_mock_llm or mode.mock_mode != profile:
            running = mode.mock_mode if mode.use_mock_llm else "no mock"
            print(f"{SKIPPED}: the server at {target} runs {running}, not {profile}")
            return SKIPPED, []
        run_id = uuid.uuid4().hex[:8]
        batch = requests(profile, count, run_id)
        for start in range(0, len(batch), 500):
            await stub.SubmitComparisons(
                pb.SubmitComparisonsRequest(requests=batch[start : start + 500]), metadata=metadata, timeout=30
            )
        results = await collect(stub, f"parity-{run_id}", count, metadata, wait_seconds)
    succeeded = [r for r in results if r.outcome == comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED]
    observed = parity.Observed(
        winners_a=sum(r.winner == comparison_pb2.WINNER_ESSAY_A for r in succeeded),
        count=len(succeeded),
        prompt_tokens=[r.usage.prompt_tokens for r in succeeded],
        completion_tokens=[r.usage.completion_tokens for r in succeeded],
        latencies_ms=[r.latency.ToNanoseconds() / 1e6 for r in succeeded],
    )
    found = [
        parity.Check("results succeeded", len(succeeded), f"{count}", len(succeeded) == count),
        *parity.checks(
            parity.RECORDED[profile], observed, mode.judge.latency_scale, [prompt_estimate(r) for r in batch]
        ),
    ]
    return (PASSED if all(c.passed for c in found) else FAILED), found


@asynccontextmanager
async def own_server(profile: str) -> AsyncIterator[str]:
    """An LPS switched to `profile`: the LPS_* environment, that mock mode, a loopback port."""
    from llm_provider_server.app import LpsApp
    from llm_provider_server.settings import LpsSettings, MockMode

    with tempfile.TemporaryDirectory() as folder:
        settings = LpsSettings(
            use_mock_llm=True,
            mock_mode=MockMode(profile),
            port=0,
            metrics_port=-1,
            database_url=os.environ.get("LPS_DATABASE_URL") or f"sqlite:///{Path(folder) / 'parity.db'}",
        )
        server = LpsApp(settings).grpc_server()
        await server.start()
        try:
            yield f"127.0.0.1:{server.port}"
        finally:
            await server.stop(grace=1)


def report(profile: str, verdict: str, found: list[parity.Check]) -> None:
    for check in found:
        print(
            f"  {'ok  ' if check.passed else 'FAIL'} {check.name:32} {check.observed:10.3f}  expected {check.expected}"
        )
    print(f"{verdict}: parity of {profile}")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm_provider_server.parity", description=__doc__.split("\n")[0])
    parser.add_argument("profile", choices=sorted(parity.RECORDED))
    parser.add_argument("--target", default="", help="HOST:PORT of a running LPS (default: start one)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--token", default=os.environ.get("HULEEDU_TOKEN", ""), help="bearer token for the server")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    if args.target:
        verdict, found = await run(args.profile, args.target, args.requests, args.token, args.timeout)
    else:
        async with own_server(args.profile) as target:
            verdict, found = await run(args.profile, target, args.requests, args.token, args.timeout)
    if verdict != SKIPPED:
        report(args.profile, verdict, found)
    return 1 if verdict == FAILED else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
