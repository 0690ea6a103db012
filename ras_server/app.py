"""Wiring: settings, database, servicer."""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

from huleedu.results.v1 import result_aggregator_service_pb2, result_aggregator_service_pb2_grpc
from prometheus_client import CollectorRegistry

from ras_server.domain.limits import request_limits
from ras_server.metrics import RasMetrics
from ras_server.service import ResultService
from ras_server.servicer import ResultAggregatorServicer
from ras_server.settings import RasSettings
from ras_server.store import RasStore
from service_core.background import Supervisor, every
from service_core.db import Database
from service_core.request_checks import check_request
from service_core.server import GrpcServer, Service
from service_core.settings import default_sqlite_url

log = logging.getLogger(__name__)
SERVER_NAME = "ras_server"
ERROR_DOMAIN = "results.huleedu.dev"
MIGRATIONS = Path(__file__).parent / "migrations"
RAS_SERVICE_DESCRIPTOR = result_aggregator_service_pb2.DESCRIPTOR.services_by_name["ResultAggregatorService"]
RAS_SERVICE = RAS_SERVICE_DESCRIPTOR.full_name
# The shared request checks with RAS's declared lengths (ras_server/domain/limits.py).
REQUEST_LIMITS = request_limits([RAS_SERVICE_DESCRIPTOR])
add_servicer = result_aggregator_service_pb2_grpc.add_ResultAggregatorServiceServicer_to_server


class RasApp:
    def __init__(self, settings: RasSettings, registry: CollectorRegistry | None = None, clock=time.time):
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.database = Database(
            settings.database_url or default_sqlite_url(SERVER_NAME), MIGRATIONS, "ras_alembic_version"
        )
        self.store = RasStore(self.database.engine)
        self.metrics = RasMetrics(self.registry)
        self.service = ResultService(self.store, self.metrics, clock, settings.watch_poll_seconds)
        self.background = Supervisor()

    async def start_background(self) -> None:
        # Batches by state come from the database, so every replica reports the same counts. A
        # failed refresh (a database hiccup) restarts the loop by the supervisor's rule.
        await self.service.refresh_metrics()
        self.background.start(
            "ras-metrics-refresh", every(self.settings.metrics_refresh_seconds, self.service.refresh_metrics)
        )

    async def stop_background(self) -> None:
        await self.background.stop()

    def grpc_server(self) -> GrpcServer:
        servicer = ResultAggregatorServicer(self.settings, self.service)
        return GrpcServer(
            name=SERVER_NAME,
            settings=self.settings,
            error_domain=ERROR_DOMAIN,
            registry=self.registry,
            request_check=functools.partial(check_request, limits=REQUEST_LIMITS),
            services=[Service(RAS_SERVICE, lambda server: add_servicer(servicer, server))],
            on_start=[self.database.open, self.start_background],
            on_stop=[self.stop_background, self.database.close],
        )


def build_server(settings: RasSettings | None = None, registry: CollectorRegistry | None = None) -> GrpcServer:
    return RasApp(settings or RasSettings(), registry).grpc_server()
