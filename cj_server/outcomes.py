"""How an assessment ends (failed, cancelled) and what its start announces: the state change,
its final event and its outbox rows to RAS, written in the caller's transaction."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from cj_server import converters
from cj_server.metrics import CjMetrics
from cj_server.store import CjStore, dumps

log = logging.getLogger("cj_server.outcomes")


async def phase_outcomes(
    store: CjStore,
    connection: AsyncConnection,
    assessment_id: str,
    batch_id: str,
    essay_ids: list[str],
    status: str,
    now: float,
    message: str = "",
) -> None:
    for essay_id in essay_ids:
        event_id, payload = converters.phase_outcome(assessment_id, batch_id, essay_id, status, now, message)
        await store.add_outbox(connection, assessment_id, "phase_outcome", event_id, payload, now)


async def record_end(
    store: CjStore,
    metrics: CjMetrics,
    connection: AsyncConnection,
    row: dict[str, Any],
    reason: str,
    now: float,
    state: str = "failed",
) -> None:
    """End a running assessment as failed or cancelled, with `reason`."""
    error = {"code": "FAILED_PRECONDITION" if state == "failed" else "CANCELLED", "message": reason[:1000]}
    values = {"state": state, "error_json": dumps(error), "updated_at": now, "ended_at": now}
    await store.update(connection, row["assessment_id"], **values)
    await store.cancel_pending(connection, row["assessment_id"], now)
    final = converters.final_event(row | values)
    await store.append_events(connection, row["assessment_id"], [(final, True)], now)
    batch_id = json.loads(row["spec_json"])["batch_id"]
    if batch_id:
        students = [i.essay_id for i in await store.items(row["assessment_id"], connection) if not i.is_anchor]
        await phase_outcomes(store, connection, row["assessment_id"], batch_id, students, state, now, reason)
    metrics.assessments.labels(state).inc()
    log.warning("assessment %s %s: %s", row["assessment_id"], state, reason)
