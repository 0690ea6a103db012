"""CJ use cases between the thin servicer and the store: create, get, list, cancel, result,
events. Requests arrive as the converters' records; the runner (`runner.py`) advances what
is created here, and the result consumer (`results.py`) applies the judgements."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from huleedu.cj.v1 import assessment_pb2, cj_assessment_service_pb2

from cj_server import converters
from cj_server.domain.errors import NeighbourError, NeighbourRefused, NeighbourUnavailable
from cj_server.domain.validation import (
    CreateSpec,
    Limits,
    needs_model_check,
    validate_anchor,
    validate_create,
    validate_llm,
)
from cj_server.lps_client import LpsClient
from cj_server.metrics import CjMetrics
from cj_server.outcomes import phase_outcomes, record_end
from cj_server.settings import BatchingMode, CjSettings
from cj_server.store import ACTIVE, PENDING, CjStore, Conflict, dumps
from service_core.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, Unavailable
from service_core.validation import is_valid_id

log = logging.getLogger("cj_server.assessments")


def id_from_name(name: str) -> str:
    return converters.ASSESSMENT_NAMES.parse(name)


class Assessments:
    def __init__(
        self,
        settings: CjSettings,
        store: CjStore,
        lps: LpsClient,
        metrics: CjMetrics,
        wake: Callable[[str | None], None] = lambda _id: None,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.store = store
        self.lps = lps
        self.metrics = metrics
        self.wake = wake
        self.clock = clock
        self.limits = Limits(settings.max_essays, settings.max_essay_chars, settings.max_context_chars)

    # ---- creation --------------------------------------------------------------------------------

    async def create(
        self, spec: CreateSpec, overrides: dict[str, Any], batch_id: str, labels: dict[str, str]
    ) -> dict[str, Any]:
        if is_valid_id(spec.request_id) and (found := await self.store.find_by_request_id(spec.request_id)):
            return found
        stored = await self.store.anchors_by_id([n.partition("/")[2] for n in spec.anchor_names])
        scale, items, violations = validate_create(
            spec, {k: converters.stored_anchor(v) for k, v in stored.items()}, self.limits
        )
        if violations:
            raise InvalidArgument(violations)
        await self._check_llm(spec)
        mode, note = await self.batching_mode(spec)
        budget = spec.comparison_budget or math.ceil(len(items) * self.settings.default_comparisons_per_essay / 2)
        now = self.clock()
        # Derived from the request id, so the same request always pairs the same way (reproducible runs).
        assessment_id = hashlib.sha256(spec.request_id.encode()).hexdigest()[:20]
        stored_spec = {
            "student_prompt": spec.student_prompt,
            "instructions": spec.instructions,
            "rubric": spec.rubric,
            "llm_overrides": overrides,
            "grade_scale": {
                "scale_id": scale.scale_id,
                "display_name": scale.display_name,
                "grades": list(scale.grades),
                "priors": list(scale.priors),
            },
            "batch_id": batch_id,
            "labels": labels,
        }
        row = {
            "assessment_id": assessment_id,
            "request_id": spec.request_id,
            "state": "pending",
            "spec_json": dumps(stored_spec),
            "llm_batching_mode": mode.value,
            "batching_note": note,
            "budget": budget,
            "target_reliability": spec.target_reliability or self.settings.default_target_reliability,
            "waves": 0,
            "attempts": 0,
            "reliability": 0.0,
            "error_json": None,
            "result_json": None,
            "created_at": now,
            "updated_at": now,
            "ended_at": None,
            "succeeded_count": 0,
            "failed_count": 0,
        }
        try:
            async with self.store.transaction() as connection:
                await self.store.insert(connection, row, items)
                if batch_id:
                    students = [i.essay_id for i in items if not i.is_anchor]
                    await phase_outcomes(self.store, connection, assessment_id, batch_id, students, "started", now)
        except Conflict:  # a concurrent create with the same request id won
            if (found := await self.store.find_by_request_id(spec.request_id)) is not None:
                return found
            raise
        self.wake(None)
        return row

    async def _check_llm(self, spec: CreateSpec) -> None:
        """Overrides are checked against what the LLM provider server offers, at create."""
        if not needs_model_check(spec.llm):
            return
        try:
            models = await self.lps.models(spec.llm.provider)
        except NeighbourUnavailable as error:
            raise Unavailable(
                f"could not ask the LLM provider server about the model: {error.message}",
                retry_after_seconds=error.retry_after or 1.0,
                reason="LLM_PROVIDER_UNAVAILABLE",
            ) from error
        except NeighbourRefused as refused:
            raise InvalidArgument(FieldViolation("llm_overrides.provider", refused.message)) from refused
        violations = validate_llm(spec.llm, models)
        if violations:
            raise InvalidArgument(violations)

    async def batching_mode(self, spec: CreateSpec) -> tuple[BatchingMode, str]:
        mode = converters.BATCHING_FROM_PROTO.get(spec.batching_mode, self.settings.default_batching_mode)
        if mode is not BatchingMode.PROVIDER_BATCH_API:
            return mode, ""
        try:
            models = await self.lps.models(spec.llm.provider)
        except NeighbourError as error:
            log.warning("could not ask the LLM provider server about batch support: %s", error.message)
            models = []
        chosen = [m for m in models if (m.model_id == spec.llm.model if spec.llm.model else m.is_default)]
        if chosen and all(m.supports_batch_api for m in chosen):
            return mode, ""
        return BatchingMode.SERIAL_BUNDLE, "the provider has no batch API; fell back to serial_bundle"

    async def create_anchor(self, request_id: str, fields: dict[str, str]) -> dict[str, Any]:
        violations = validate_anchor(request_id, fields["grade_scale_id"], fields["grade"], fields["text"], self.limits)
        if violations:
            raise InvalidArgument(violations)
        row = {"anchor_id": uuid.uuid4().hex[:16], "request_id": request_id, "created_at": self.clock(), **fields}
        return await self.store.create_anchor(row)

    # ---- queries ---------------------------------------------------------------------------------

    async def get(self, assessment_id: str) -> dict[str, Any]:
        row = await self.store.get(assessment_id)
        if row is None:
            raise NotFound.resource(converters.name_of(assessment_id), "ASSESSMENT_NOT_FOUND")
        return row

    async def assessment(self, assessment_id: str) -> assessment_pb2.Assessment:
        row = await self.get(assessment_id)
        counts = (await self.store.listing_counts([assessment_id]))[assessment_id]
        dead = (await self.store.dead_outbox([assessment_id])).get(assessment_id, (0, ""))
        return converters.assessment(row, counts["essays"], counts["anchors"], dead)

    async def list_assessments(
        self, limit: int, after: tuple[float, str] | None, states: Sequence[str]
    ) -> list[tuple[dict[str, Any], assessment_pb2.Assessment]]:
        """A page of assessments, newest first, each with its counts and progress."""
        rows = await self.store.list_assessments(limit=limit, after=after, states=states)
        ids = [r["assessment_id"] for r in rows]
        counts, dead = await self.store.listing_counts(ids), await self.store.dead_outbox(ids)
        page = []
        for row in rows:
            count = counts[row["assessment_id"]]
            message = converters.assessment(
                row, count["essays"], count["anchors"], dead.get(row["assessment_id"], (0, ""))
            )
            page.append((row, message))
        return page

    async def result(self, assessment_id: str) -> assessment_pb2.AssessmentResult:
        row = await self.get(assessment_id)
        if row["state"] != "succeeded" or not row["result_json"]:
            raise FailedPrecondition(
                f"assessments/{assessment_id} has no result yet (state {row['state']})",
                reason="ASSESSMENT_NOT_FINISHED",
                metadata={"state": row["state"]},
            )
        return converters.from_json(row["result_json"], assessment_pb2.AssessmentResult)

    async def cancel(self, assessment_id: str) -> assessment_pb2.Assessment:
        row = await self.get(assessment_id)
        if row["state"] not in ACTIVE:
            raise FailedPrecondition.ended(converters.name_of(assessment_id), row["state"], "ASSESSMENT_ENDED")
        pending = [r.comparison_id for r in await self.store.engine_rows(assessment_id) if r.status == PENDING]
        async with self.store.transaction() as connection:
            locked = await self.store.get(assessment_id, connection, lock=True)
            if locked and locked["state"] in ACTIVE:
                await record_end(
                    self.store, self.metrics, connection, locked, "cancelled by request", self.clock(), "cancelled"
                )
        await self.store.notify()
        limit = asyncio.Semaphore(16)

        async def cancel_one(comparison_id: str) -> None:
            async with limit:
                try:
                    await self.lps.cancel(converters.lps_request_id(comparison_id))
                except NeighbourError as error:
                    log.warning("could not cancel %s in the LLM provider server: %s", comparison_id, error.message)

        await asyncio.gather(*(cancel_one(c) for c in pending))
        return await self.assessment(assessment_id)

    async def events(
        self, assessment_id: str, after: int
    ) -> AsyncIterator[cj_assessment_service_pb2.StreamComparisonResultsResponse]:
        await self.get(assessment_id)
        while True:
            batch = await self.store.events_after(assessment_id, after)
            for sequence, payload, final in batch:
                yield converters.event_from_bytes(payload, sequence)
                after = sequence
                if final:
                    return
            if not batch:
                await self.store.wait_for_change(self.settings.stream_poll_seconds)
