"""The grpc.aio server factory every server uses.

`GrpcServer` adds health (`""` and each service), reflection, the interceptor
chain, server options, the /metrics endpoint, start-up and shutdown hooks.
Shutdown order on SIGTERM/SIGINT: health NOT_SERVING, optional drain pause,
`server.stop(grace)` so in-flight calls finish, then the shutdown hooks
(background workers, database engine).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry

from service_core.interceptors import CallStack
from service_core.metrics import GrpcServerMetrics, MetricsEndpoint, start_metrics_endpoint
from service_core.request_checks import check_request
from service_core.settings import ServerSettings

log = logging.getLogger("service_core.server")
HANDLER_UNWIND_SECONDS = 5.0  # how long stop waits for cancelled handlers to run their cleanup
# grpc core cancels (CANCELLED) the calls it has received but not yet handed to the application
# when it shuts down. So before stopping it, wait until no call has been refused for this long:
# clients told UNAVAILABLE with a RetryInfo delay are then waiting, not sending.
QUIET_SECONDS = 0.1

Hook = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Service:
    """A gRPC service to serve: its full name and how to add it to a server."""

    full_name: str
    register: Callable[[grpc.aio.Server], None]


class GrpcServer:
    def __init__(
        self,
        *,
        name: str,
        settings: ServerSettings,
        services: Sequence[Service],
        error_domain: str,
        registry: CollectorRegistry | None = None,
        on_start: Sequence[Hook] = (),
        on_stop: Sequence[Hook] = (),
        request_check: Callable[[Any], None] | None = check_request,
    ):
        self.name = name
        self.settings = settings
        self.services = list(services)
        self.error_domain = error_domain
        self.registry = registry or CollectorRegistry()
        self.on_start = list(on_start)
        self.on_stop = list(on_stop)
        # Run on every parsed business request (see CallStack); by default the descriptor-driven
        # checks of service_core.request_checks, so no server stores a NUL byte or an invalid time.
        self.request_check = request_check
        self.health = health.aio.HealthServicer()
        self.port: int | None = None
        self.metrics_endpoint: MetricsEndpoint | None = None
        self._server: grpc.aio.Server | None = None
        self._stopped = asyncio.Event()
        self._stack: CallStack | None = None

    def _call_stack(self) -> CallStack:
        tokens = self.settings.token_table()
        if not tokens:
            log.warning("no auth tokens configured: %s is OPEN to every caller", self.name)
        else:
            log.info("bearer-token auth on for %d caller(s): %s", len(tokens), sorted(set(tokens.values())))
        return CallStack(
            domain=self.error_domain,
            metrics=GrpcServerMetrics(self.registry),
            tokens=tokens,
            slow_call_seconds=self.settings.log_slow_call_seconds,
            request_check=self.request_check,
        )

    async def start(self) -> int:
        settings = self.settings
        server = grpc.aio.server(
            options=settings.grpc_options(),
            maximum_concurrent_rpcs=settings.max_concurrent_rpcs or None,
        )
        self._stack = stack = self._call_stack()
        registrar = stack.registrar(server)  # every handler is wrapped once, here
        for service in self.services:
            service.register(registrar)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, registrar)
        names = [s.full_name for s in self.services]
        reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], registrar)
        self.port = server.add_insecure_port(f"{settings.host}:{settings.port}")
        if self.port == 0:
            raise RuntimeError(f"could not bind {settings.host}:{settings.port}")
        for hook in self.on_start:
            await hook()
        await server.start()
        self._server = server
        if settings.metrics_port >= 0:
            self.metrics_endpoint = start_metrics_endpoint(self.registry, settings.metrics_host, settings.metrics_port)
        for service_name in ["", *names]:
            await self.health.set(service_name, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "serving",
            extra={
                "server": self.name,
                "port": self.port,
                "services": names,
                "metrics_port": self.metrics_endpoint.port if self.metrics_endpoint else None,
            },
        )
        return self.port

    async def stop(self, grace: float | None = None) -> None:
        """Drain, then stop: new business calls answer UNAVAILABLE from the first moment (health
        answers NOT_SERVING), calls already running get `grace` seconds to finish, and only then
        does grpc close the listener and cancel what is left."""
        if self._server is None or self._stack is None or self._stopped.is_set():
            return
        if self._stack.draining:  # a second stop (SIGTERM twice) waits for the first
            await self._stopped.wait()
            return
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        log.info("shutting down", extra={"server": self.name, "grace_seconds": grace})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        self._stack.draining = True
        await self.health.enter_graceful_shutdown()
        if self.settings.shutdown_drain_seconds:
            await asyncio.sleep(self.settings.shutdown_drain_seconds)
        await self._wait_for_calls(max(deadline - loop.time(), 0.0))
        await self._wait_for_quiet(deadline)
        await self._server.stop(max(deadline - loop.time(), 0.0))
        await self._wait_for_handlers()
        for hook in self.on_stop:
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook failed")
        if self.metrics_endpoint:
            self.metrics_endpoint.close()
        self._stopped.set()
        log.info("stopped", extra={"server": self.name})

    async def _wait_for_calls(self, seconds: float) -> None:
        """Let the calls already running finish (new ones are refused meanwhile), up to `seconds`."""
        if self._stack is not None:
            await self._stack.wait_for_calls(seconds, business_only=True)

    async def _wait_for_quiet(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while self._stack is not None and loop.time() < deadline:
            quiet_for = time.monotonic() - self._stack.last_refused
            if quiet_for >= QUIET_SECONDS:
                return
            await asyncio.sleep(min(QUIET_SECONDS - quiet_for, max(deadline - loop.time(), 0.0)))

    async def _wait_for_handlers(self) -> None:
        """grpc's stop cancels the handlers still running but returns before they have unwound;
        wait for their cleanup (which may still touch the database) before the hooks close it."""
        stuck = await self._stack.wait_for_calls(HANDLER_UNWIND_SECONDS) if self._stack else 0
        if stuck:
            log.warning("handlers still running after shutdown", extra={"count": stuck})


async def serve(*servers: GrpcServer) -> None:
    """Run servers until SIGTERM or SIGINT, then shut them down gracefully."""
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_requested.set)
    started: list[GrpcServer] = []
    try:
        for server in servers:
            await server.start()
            started.append(server)
        await stop_requested.wait()
    finally:
        await asyncio.gather(*(server.stop() for server in started))
