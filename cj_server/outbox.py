"""Delivers the outbox to the result aggregator (RAS) until each row is acknowledged.

Rows are written in the same transaction as the state change they announce; this
relay sends them in order with their idempotency keys (event ids), and retries with
exponential backoff, so RAS being down delays delivery but loses nothing. A permanent
refusal (RAS answers INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION...) is not retried:
the row is parked as dead (`dead_at`, its error kept), logged once and counted in
`cj_outbox_dead_total`. `run` is one of the server's supervised loops
(`service_core.background.Supervisor`): a round that fails (the database) raises, and the
supervisor restarts the loop by its one restart-and-logging rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import grpc
from huleedu.results.v1 import result_aggregator_service_pb2 as ras_pb
from huleedu.results.v1 import result_aggregator_service_pb2_grpc as ras_grpc

from cj_server.domain.errors import PERMANENT_CODES
from cj_server.metrics import CjMetrics
from cj_server.settings import CjSettings
from cj_server.store import CjStore
from service_core.errors import InvariantBroken
from service_core.retry import RetryPolicy

# 1 s after the first failure, doubling up to a minute; no jitter (one relay per replica).
RETRY = RetryPolicy("cj-outbox", base_seconds=1.0, multiplier=2.0, cap_seconds=60.0, jitter=0.0)

log = logging.getLogger("cj_server.outbox")


class OutboxRelay:
    def __init__(
        self, store: CjStore, settings: CjSettings, metrics: CjMetrics, clock: Callable[[], float] = time.time
    ):
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.channel: grpc.aio.Channel | None = None  # made in run(), inside the running event loop
        self.stub: ras_grpc.ResultAggregatorServiceStub | None = None
        token = settings.ras_token.get_secret_value()
        self.metadata = (("authorization", f"Bearer {token}"),) if token else ()

    async def run(self, stop: asyncio.Event) -> None:
        if self.settings.ras_target and self.channel is None:
            self.channel = grpc.aio.insecure_channel(self.settings.ras_target)
            # generated gRPC code carries no annotations
            self.stub = ras_grpc.ResultAggregatorServiceStub(self.channel)
        if self.stub is None:
            log.warning("CJ_RAS_TARGET is not set: results stay in the outbox until a result aggregator is configured")
            return
        while not stop.is_set():  # a failed round (the database) raises: the supervisor restarts the loop
            await self.deliver_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.outbox_interval_seconds)

    async def deliver_due(self) -> int:
        delivered = 0
        for row in await self.store.due_outbox(self.clock()):
            try:
                await self._send(row["kind"], row["payload"])
            except grpc.aio.AioRpcError as error:
                message = f"{error.code().name}: {(error.details() or '')[:400]}"
                if error.code().name in PERMANENT_CODES:
                    await self._park(row, message)
                    continue
                delay = RETRY.ceiling(row["attempts"] + 1)
                await self.store.mark_outbox(
                    row["outbox_id"], delivered_at=None, next_attempt_at=self.clock() + delay, error=message
                )
                if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    return delivered  # RAS is down: keep the order, try again later
                continue
            await self.store.mark_outbox(
                row["outbox_id"], delivered_at=self.clock(), next_attempt_at=self.clock(), error=None
            )
            self.metrics.outbox_delivered.labels(row["kind"]).inc()
            delivered += 1
        return delivered

    async def _park(self, row: dict[str, Any], message: str) -> None:
        now = self.clock()
        await self.store.mark_outbox(
            row["outbox_id"], delivered_at=None, next_attempt_at=now, error=message, dead_at=now
        )
        self.metrics.outbox_dead.labels(row["kind"]).inc()
        log.error(
            "the result aggregator refused outbox row %s (%s) of %s permanently; parked as dead: %s",
            row["outbox_id"],
            row["event_id"],
            row["assessment_id"],
            message,
        )

    async def _send(self, kind: str, payload: bytes) -> None:
        if self.stub is None:
            raise InvariantBroken("the outbox sends only once its channel to the result aggregator is open")
        if kind == "phase_outcome":
            await self.stub.RecordPhaseOutcome(
                ras_pb.RecordPhaseOutcomeRequest.FromString(payload), timeout=10, metadata=self.metadata
            )
        elif kind == "assessment_result":
            await self.stub.RecordAssessmentResult(
                ras_pb.RecordAssessmentResultRequest.FromString(payload), timeout=10, metadata=self.metadata
            )
        else:
            raise ValueError(f"unknown outbox kind {kind!r}")

    async def close(self) -> None:
        if self.channel is not None:
            await self.channel.close()
