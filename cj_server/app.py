"""Wiring: settings, database, the LLM provider client, background tasks, servicer."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from huleedu.cj.v1 import cj_assessment_service_pb2, cj_assessment_service_pb2_grpc
from prometheus_client import CollectorRegistry

from cj_server.assessments import Assessments
from cj_server.lps_client import LpsClient
from cj_server.metrics import CjMetrics
from cj_server.outbox import OutboxRelay
from cj_server.results import ResultConsumer
from cj_server.runner import Runner
from cj_server.servicer import CjAssessmentServicer
from cj_server.settings import CjSettings
from cj_server.store import CjStore
from service_core.background import Supervisor, every
from service_core.db import Database
from service_core.server import GrpcServer, Service
from service_core.settings import default_sqlite_url

SERVER_NAME = "cj_server"
ERROR_DOMAIN = "cj.huleedu.dev"
MIGRATIONS = Path(__file__).parent / "migrations"
PRUNE_INTERVAL_SECONDS = 60.0
STOP_GRACE_SECONDS = 10.0  # for the background loops to leave before they are cancelled
CJ_SERVICE = cj_assessment_service_pb2.DESCRIPTOR.services_by_name["CjAssessmentService"].full_name
add_servicer = cj_assessment_service_pb2_grpc.add_CjAssessmentServiceServicer_to_server
log = logging.getLogger("cj_server")


class CjApp:
    def __init__(
        self,
        settings: CjSettings,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = CjMetrics(self.registry)
        self.database = Database(
            settings.database_url or default_sqlite_url(SERVER_NAME), MIGRATIONS, "cj_alembic_version"
        )
        self.store = CjStore(self.database.engine)
        self.lps = LpsClient(settings)
        self.runner = Runner(settings, self.store, self.lps, self.metrics, clock)
        self.results = ResultConsumer(settings, self.store, self.lps, self.metrics, self.runner.wake, clock)
        self.service = Assessments(settings, self.store, self.lps, self.metrics, self.runner.wake, clock)
        self.outbox = OutboxRelay(self.store, settings, self.metrics, clock)
        self.background = Supervisor(on_restart=self._restarted)
        self.clock = clock
        self._next_prune_at = 0.0

    async def start(self) -> None:
        """Open the database and start the background loops under one supervisor (its rule:
        a loop that raises is logged, at ERROR once per streak of failures, and restarted with
        backoff). The runner claims running assessments at once, so a restarted server carries on."""
        await self.database.open()
        self.background = Supervisor(on_restart=self._restarted)  # a stopped supervisor stays stopped
        self.background.start("cj-runner", self.runner.run)
        self.background.start("cj-results", self.results.run)
        self.background.start("cj-sweeper", every(self.settings.sweep_interval_seconds, self.runner.sweep))
        self.background.start("cj-retention", every(self.settings.sweep_interval_seconds, self._prune))
        self.background.start("cj-outbox", self.outbox.run)

    def _restarted(self, loop: str, _error: BaseException) -> None:
        self.metrics.background_restarts.labels(loop).inc()

    async def _prune(self) -> None:
        """Retention (CJ_RETENTION_SECONDS), at most once a minute (the loop looks every sweep interval)."""
        now = self.clock()
        if now < self._next_prune_at:
            return
        self._next_prune_at = now + PRUNE_INTERVAL_SECONDS
        pruned_events, pruned_outbox = await self.store.prune(now - self.settings.retention_seconds)
        if pruned_events or pruned_outbox:
            log.info("pruned %d events and %d delivered outbox rows past retention", pruned_events, pruned_outbox)

    async def stop(self) -> None:
        # Every loop leaves at its next check (the result consumer after the batch it is applying);
        # then the runner's advances finish and it hands its leases back, so another replica takes
        # its assessments over at once rather than after a lease period.
        await self.background.stop(STOP_GRACE_SECONDS)
        await self.runner.drain()
        await self.runner.release()
        await self.lps.close()
        await self.outbox.close()
        await self.database.close()

    def grpc_server(self) -> GrpcServer:
        servicer = CjAssessmentServicer(self.service)
        return GrpcServer(
            name=SERVER_NAME,
            settings=self.settings,
            error_domain=ERROR_DOMAIN,
            registry=self.registry,
            # the generated registration function carries no annotations
            services=[Service(CJ_SERVICE, lambda server: add_servicer(servicer, server))],
            on_start=[self.start],
            on_stop=[self.stop],
        )


def build_server(settings: CjSettings | None = None, registry: CollectorRegistry | None = None) -> GrpcServer:
    return CjApp(settings or CjSettings(), registry).grpc_server()
