"""The three servers in-process on one event loop in a background thread, so synchronous
hypothesis tests can call them over real loopback channels."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from cj_server.app import build_server as build_cj
from cj_server.settings import CjSettings
from llm_provider_server.app import build_server as build_lps
from ras_server.app import build_server as build_ras
from ras_server.settings import RasSettings
from service_core.server import GrpcServer
from tests.llm_provider_server.harness import fast_settings


class Servers:
    """LPS, RAS and CJ (wired to both), each on its own database URL."""

    def __init__(self, urls: dict[str, str]):
        self.urls = urls
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-servers", daemon=True)
        self.servers: dict[str, GrpcServer] = {}

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def target(self, key: str) -> str:
        return f"127.0.0.1:{self.servers[key].port}"

    async def _start(self) -> None:
        self.servers["lps"] = build_lps(fast_settings(self.urls["lps"], mock_mode="latent_bt"))
        await self.servers["lps"].start()
        self.servers["ras"] = build_ras(RasSettings(port=0, metrics_port=-1, database_url=self.urls["ras"]))
        await self.servers["ras"].start()
        cj = CjSettings(
            port=0,
            metrics_port=-1,
            database_url=self.urls["cj"],
            lps_target=self.target("lps"),
            ras_target=self.target("ras"),
            sweep_interval_seconds=0.2,
            outbox_interval_seconds=0.2,
            stream_poll_seconds=0.1,
        )
        self.servers["cj"] = build_cj(cj)
        await self.servers["cj"].start()

    async def _stop(self) -> None:
        for key in ("cj", "ras", "lps"):
            if key in self.servers:
                await self.servers[key].stop(grace=0.5)

    def __enter__(self) -> Servers:
        self.thread.start()
        self.run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
