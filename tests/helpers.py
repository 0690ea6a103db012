"""Test helpers: in-process servers, servers as real processes, rich-status decoding."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from service_core.server import GrpcServer

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


@asynccontextmanager
async def running(server: GrpcServer) -> AsyncIterator[GrpcServer]:
    """Start an in-process server on the port its settings name (0 = any free port)."""
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=0)


def rich_details(error: grpc.aio.AioRpcError) -> dict[str, object]:
    """Decode `grpc-status-details-bin` into {detail type name: message}."""
    status = rpc_status.from_call(error)
    assert status is not None, f"no rich status on {error.code()}: {error.details()}"
    decoded: dict[str, object] = {}
    for detail in status.details:
        for kind in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest, error_details_pb2.RetryInfo):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                decoded[kind.DESCRIPTOR.name] = message
    return decoded


def run_tool(*args: str, timeout: float = 30, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a CLI from the virtualenv (buf, grpcurl) with a bounded time."""
    tool = VENV_BIN / args[0]
    command = [str(tool) if tool.exists() else args[0], *args[1:]]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=check, cwd=ROOT)


async def wait_until(predicate, timeout: float = 30, interval: float = 0.05) -> bool:
    """Poll an async predicate until it holds or `timeout` passes; its last answer."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(interval)
    return await predicate()


def wait_for(predicate, timeout: float = 10, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


async def eventually(predicate, timeout: float = 10, interval: float = 0.02) -> bool:
    """Poll `predicate` on the event loop; server-side bookkeeping may finish just after the client sees the status."""
    import asyncio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return predicate()


def require_tool(name: str, install_hint: str) -> str:
    """The path of a system tool; without it the test is skipped with how to get it, or fails under CI=true."""
    import os
    import shutil

    import pytest

    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if path is None:
        problem = f"{name} is not installed ({install_hint}; `make tools` installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    return path


def free_port() -> int:
    """A port that was free a moment ago, for tools that cannot report the port they bound."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
