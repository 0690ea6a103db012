"""gRPC through a real HTTP/2 reverse proxy (nghttpx), as a mesh sidecar or ingress would sit:
unary calls, rich error details in trailers, a server stream that follows live results, and a
client cancelling that stream, all through the proxy."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb

from llm_provider_server.app import LpsApp
from tests.helpers import free_port, require_tool, rich_details
from tests.llm_provider_server.harness import Harness, comparison, fast_settings


@asynccontextmanager
async def nghttpx(backend_port: int, log_dir) -> AsyncIterator[int]:
    """nghttpx on a free port, cleartext HTTP/2 in front and behind (h2c, as gRPC without TLS)."""
    binary = require_tool("nghttpx", "Debian package nghttp2-proxy")
    for _ in range(5):
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            binary,
            "--conf=/dev/null",
            f"--frontend=127.0.0.1,{port};no-tls",
            f"--backend=127.0.0.1,{backend_port};;proto=h2",
            "--workers=1",
            f"--accesslog-file={log_dir / 'access.log'}",
            f"--errorlog-file={log_dir / 'error.log'}",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if await _listening(port, process):
            break
        with suppress(ProcessLookupError):
            process.kill()
        await process.wait()
    else:
        raise RuntimeError("nghttpx did not start: " + (log_dir / "error.log").read_text())
    try:
        yield port
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


async def _listening(port: int, process: asyncio.subprocess.Process) -> bool:
    for _ in range(100):
        if process.returncode is not None:
            return False
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return True
    return False


@asynccontextmanager
async def lps_behind_proxy(tmp_path) -> AsyncIterator[Harness]:
    app = LpsApp(fast_settings(f"sqlite:///{tmp_path / 'lps.db'}"))
    server = app.grpc_server()
    await server.start()
    try:
        async with (
            nghttpx(server.port, tmp_path) as proxy_port,
            grpc.aio.insecure_channel(f"127.0.0.1:{proxy_port}") as channel,
        ):
            yield Harness(app, channel)
    finally:
        await server.stop(grace=1)


async def test_unary_and_streaming_calls_through_the_proxy(tmp_path):
    async with lps_behind_proxy(tmp_path) as h:
        health = await health_pb2_grpc.HealthStub(h.channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        mock = await h.stub.GetMockMode(pb.GetMockModeRequest(), timeout=10)
        assert mock.use_mock_llm
        await h.submit(*(comparison(f"proxied-{i}") for i in range(5)))
        results = await h.collect(5, timeout=30)
        assert sorted(r.request_id for r in results) == [f"proxied-{i}" for i in range(5)]
        assert all(r.outcome == comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED for r in results)
        got = await h.get("proxied-3")
        assert got.result.request_id == "proxied-3"
    assert "StreamComparisonResults" in (tmp_path / "access.log").read_text(), "the calls went through nghttpx"


async def test_rich_errors_and_cancellation_cross_the_proxy(tmp_path):
    async with lps_behind_proxy(tmp_path) as h:
        try:
            await h.submit(comparison("bad", a=" "))
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
            violations = rich_details(error)["BadRequest"].field_violations
            assert any(v.field.endswith("essay_a_text") for v in violations)
        else:
            raise AssertionError("an empty essay must be refused")

        # A stream with nothing to deliver is cancelled by the client; the server side ends and a
        # new stream still gets the next result.
        stream = h.stub.StreamComparisonResults(pb.StreamComparisonResultsRequest(consumer="cj"), timeout=30)
        waiting = asyncio.ensure_future(stream.read())
        await asyncio.sleep(0.3)
        stream.cancel()
        with suppress(asyncio.CancelledError):
            await waiting
        assert stream.cancelled()
        await h.submit(comparison("after-cancel"))
        [result] = await h.collect(1, timeout=30)
        assert result.request_id == "after-cancel"
