"""A second gRPC implementation, Node's @grpc/grpc-js with @grpc/proto-loader, calls the three
servers (real processes) with stubs built from the .proto files alone: unary calls, a server
stream to its end, and errors with their codes and rich status trailers."""

from __future__ import annotations

import json
import subprocess

import pytest

from stack.processes import stack_envs, start_stack, stop_stack
from tests.helpers import ROOT, require_tool

NODE_DIR = ROOT / "tests" / "contract" / "node"


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("stack")
    processes = start_stack(workdir, stack_envs(workdir, {"LPS_MOCK_MODE": "latent_bt"}))
    yield {module: process.target for module, process in processes.items()}
    stop_stack(processes)


def test_node_grpc_js_client_uses_only_the_proto_files(targets):
    node = require_tool("node", "Node.js 18 or newer")
    if not (NODE_DIR / "node_modules" / "@grpc" / "grpc-js").exists():
        require_tool("a-tool-that-does-not-exist", f"npm ci in {NODE_DIR} installs @grpc/grpc-js")
    run = subprocess.run(
        [
            node,
            "client.mjs",
            str(ROOT / "proto"),
            str(ROOT / "third_party"),
            targets["cj_server"],
            targets["llm_provider_server"],
            targets["ras_server"],
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout)
    assert seen["mock_mode"]["use_mock_llm"] is True and seen["mock_mode"]["mock_mode"]
    assert seen["created_state"] in {"STATE_PENDING", "STATE_RUNNING"}
    # A successful assessment's stream ends with its result (a failed one with final_assessment).
    assert "judgement" in seen["stream_events"] and seen["stream_events"][-1] == "result"
    assert sorted(seen["ranked"]) == ["node-0", "node-1", "node-2"]
    assert seen["too_few_essays"]["code"] == "INVALID_ARGUMENT" and seen["too_few_essays"]["has_rich_status"]
    assert seen["unknown_batch"]["code"] == "NOT_FOUND" and seen["unknown_batch"]["has_rich_status"]
