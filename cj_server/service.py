"""CJ use cases between the thin servicer and the store.

Every change to an assessment (created, a judgement applied, a deadline passed)
calls `request_advance`, which runs the engine's total decision under the
assessment's lock: submit a wave, finalize, fail, or wait. Comparisons are
written as PENDING before they are sent, with the LLM provider server's request
id derived from them, so a crash between the two is repaired by re-sending (the
provider server deduplicates by request id).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import grpc
import numpy as np
from google.protobuf import json_format
from huleedu.cj.v1 import assessment_pb2, cj_assessment_service_pb2
from huleedu.llm.v1 import comparison_pb2
from huleedu.results.v1 import batch_pb2, result_aggregator_service_pb2

from cj_server import converters
from cj_server.domain.bradley_terry import Comparisons
from cj_server.domain.engine import State, config_from_settings, step, worth_stepping
from cj_server.domain.grading import BUILT_IN_SCALES, GradeScale
from cj_server.domain.reliability import split_half_reliability
from cj_server.domain.stopping import Action
from cj_server.domain.summary import ItemInfo, summarize
from cj_server.lps_client import LpsClient
from cj_server.metrics import CjMetrics
from cj_server.settings import BatchingMode, CjSettings
from cj_server.store import FAILED, PENDING, SUCCEEDED, CjStore, Item, dumps
from service_core.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound

log = logging.getLogger("cj_server.service")

ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
ACTIVE = ("pending", "running")
HINTS = {
    BatchingMode.PER_REQUEST: comparison_pb2.BATCHING_HINT_PER_REQUEST,
    BatchingMode.SERIAL_BUNDLE: comparison_pb2.BATCHING_HINT_SERIAL_BUNDLE,
    BatchingMode.PROVIDER_BATCH_API: comparison_pb2.BATCHING_HINT_PROVIDER_BATCH_API,
}
JUDGEMENT_OUTCOMES = {
    comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED: assessment_pb2.Judgement.OUTCOME_SUCCEEDED,
    comparison_pb2.ComparisonResult.OUTCOME_FAILED: assessment_pb2.Judgement.OUTCOME_FAILED,
    comparison_pb2.ComparisonResult.OUTCOME_CANCELLED: assessment_pb2.Judgement.OUTCOME_CANCELLED,
    comparison_pb2.ComparisonResult.OUTCOME_EXPIRED: assessment_pb2.Judgement.OUTCOME_EXPIRED,
}


def name_of(assessment_id: str) -> str:
    return f"assessments/{assessment_id}"


def id_from_name(name: str) -> str:
    prefix, _, assessment_id = name.partition("/")
    if prefix != "assessments" or not assessment_id:
        raise InvalidArgument(FieldViolation("name", "must look like assessments/{id}"))
    return assessment_id


def lps_request_id(comparison_id: str) -> str:
    return f"cj:{comparison_id}"


class AssessmentService:
    def __init__(
        self,
        settings: CjSettings,
        store: CjStore,
        lps: LpsClient,
        metrics: CjMetrics,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.store = store
        self.lps = lps
        self.metrics = metrics
        self.clock = clock
        self.engine_config = config_from_settings(settings)
        self._locks: dict[str, asyncio.Lock] = {}
        self._advance_tasks: dict[str, asyncio.Task] = {}
        self._again: set[str] = set()

    # ---- creation --------------------------------------------------------------------------------

    async def create(self, request: cj_assessment_service_pb2.CreateAssessmentRequest) -> dict[str, Any]:
        if ID_PATTERN.match(request.request_id) and (found := await self.store.find_by_request_id(request.request_id)):
            return found
        scale, item_rows, violations = await self._validate(request)
        if violations:
            raise InvalidArgument(violations)
        mode, note = await self._batching_mode(request)
        n = len(item_rows)
        budget = request.comparison_budget or math.ceil(n * self.settings.default_comparisons_per_essay / 2)
        now = self.clock()
        # Derived from the request id, so the same request always pairs the same way (reproducible runs).
        assessment_id = hashlib.sha256(request.request_id.encode()).hexdigest()[:20]
        spec = {
            "student_prompt": request.student_prompt,
            "instructions": request.instructions,
            "rubric": request.rubric,
            "llm_overrides": json_format.MessageToDict(request.llm_overrides),
            "grade_scale": {
                "scale_id": scale.scale_id,
                "display_name": scale.display_name,
                "grades": list(scale.grades),
                "priors": list(scale.priors),
            },
            "batch_id": request.batch_id,
            "labels": dict(request.labels),
        }
        row = {
            "assessment_id": assessment_id,
            "request_id": request.request_id,
            "state": "pending",
            "spec_json": dumps(spec),
            "llm_batching_mode": mode.value,
            "batching_note": note,
            "budget": budget,
            "target_reliability": request.target_reliability or self.settings.default_target_reliability,
            "waves": 0,
            "attempts": 0,
            "reliability": 0.0,
            "error_json": None,
            "result_json": None,
            "created_at": now,
            "updated_at": now,
            "ended_at": None,
        }
        async with self.store.transaction() as connection:
            await self.store.insert(connection, row, item_rows)
            if request.batch_id:
                for item in item_rows:
                    if not item.is_anchor:
                        await self._phase_outbox(
                            connection,
                            assessment_id,
                            request.batch_id,
                            item.essay_id,
                            batch_pb2.PHASE_STATUS_STARTED,
                            now,
                        )
        self.request_advance(assessment_id)
        return row

    async def _validate(self, request) -> tuple[GradeScale, list[Item], list[FieldViolation]]:
        violations: list[FieldViolation] = []

        def bad(field: str, why: str) -> None:
            violations.append(FieldViolation(field, why))

        if not ID_PATTERN.match(request.request_id):
            bad("request_id", "required: 1-128 characters of letters, digits and . _ : -")
        scale = self._scale(request, bad)
        stored = await self.store.anchors_by_id([n.partition("/")[2] for n in request.anchor_names])
        total = len(request.essays) + len(request.anchors) + len(request.anchor_names)
        if len(request.essays) < 2:
            bad("essays", "at least two essays are needed to compare")
        if total > self.settings.max_essays:
            bad("essays", f"at most {self.settings.max_essays} essays and anchors in one assessment")
        items: list[Item] = []
        seen: set[str] = set()

        def add(field: str, id_path: str, essay_id: str, text: str, grade: str, anchor: bool) -> None:
            if not ID_PATTERN.match(essay_id):
                bad(id_path, "required: 1-128 characters of letters, digits and . _ : -")
            elif essay_id in seen:
                bad(id_path, f"{essay_id!r} appears more than once")
            seen.add(essay_id)
            if not text.strip():
                bad(f"{field}.text", "must not be empty")
            elif len(text) > self.settings.max_essay_chars:
                bad(f"{field}.text", f"longer than {self.settings.max_essay_chars} characters")
            if anchor and scale is not None and scale.index(grade) is None:
                bad(f"{field}.grade", f"{grade!r} is not a grade of {scale.scale_id} ({', '.join(scale.grades)})")
            items.append(Item(len(items), essay_id, anchor, grade, text))

        for i, essay in enumerate(request.essays):
            add(f"essays[{i}]", f"essays[{i}].essay_id", essay.essay_id, essay.text, "", False)
        for i, anchor in enumerate(request.anchors):
            add(f"anchors[{i}]", f"anchors[{i}].anchor_id", anchor.anchor_id, anchor.text, anchor.grade, True)
        for i, anchor_name in enumerate(request.anchor_names):
            anchor = stored.get(anchor_name.partition("/")[2])
            if anchor is None:
                bad(f"anchor_names[{i}]", f"no stored anchor {anchor_name!r}")
                continue
            add(f"anchor_names[{i}]", f"anchor_names[{i}]", anchor["anchor_id"], anchor["text"], anchor["grade"], True)
        if request.comparison_budget < 0:
            bad("comparison_budget", "must not be negative (0 means the server default)")
        if not 0 <= request.target_reliability < 1:
            bad("target_reliability", "must be in (0, 1), or 0 for the server default")
        if request.llm_batching_mode not in (0, *converters.BATCHING_FROM_PROTO):
            bad("llm_batching_mode", f"unknown value {request.llm_batching_mode}")
        return scale or BUILT_IN_SCALES["swedish_f_to_a"], items, violations

    def _scale(self, request, bad) -> GradeScale | None:
        which = request.WhichOneof("grade_scale")
        if which == "custom_grade_scale":
            custom = request.custom_grade_scale
            grades = tuple(g.label for g in custom.grades)
            priors = tuple(g.prior for g in custom.grades)
            if not custom.scale_id or len(grades) < 2 or len(set(grades)) != len(grades) or not all(grades):
                bad("custom_grade_scale", "needs a scale_id and at least two distinct, non-empty grades")
                return None
            if any(priors) and abs(sum(priors) - 1) > 0.01:
                bad("custom_grade_scale.grades", "priors must sum to 1 (or all be 0)")
            return GradeScale(
                custom.scale_id, custom.display_name or custom.scale_id, grades, priors if any(priors) else ()
            )
        scale_id = request.grade_scale_id or "swedish_f_to_a"
        if scale_id not in BUILT_IN_SCALES:
            bad("grade_scale_id", f"unknown grade scale {scale_id!r} (known: {', '.join(BUILT_IN_SCALES)})")
            return None
        return BUILT_IN_SCALES[scale_id]

    async def _batching_mode(self, request) -> tuple[BatchingMode, str]:
        mode = converters.BATCHING_FROM_PROTO.get(request.llm_batching_mode, self.settings.default_batching_mode)
        if mode is not BatchingMode.PROVIDER_BATCH_API:
            return mode, ""
        overrides = request.llm_overrides
        try:
            supported = await self.lps.supports_batch_api(overrides.provider, overrides.model)
        except grpc.aio.AioRpcError as error:
            log.warning("could not ask the LLM provider server about batch support: %s", error.details())
            supported = False
        if supported:
            return mode, ""
        return BatchingMode.SERIAL_BUNDLE, "the provider has no batch API; fell back to serial_bundle"

    # ---- the decision loop -----------------------------------------------------------------------

    def request_advance(self, assessment_id: str) -> None:
        """Run `advance` soon; calls while one runs coalesce into one more run."""
        task = self._advance_tasks.get(assessment_id)
        if task is not None and not task.done():
            self._again.add(assessment_id)
            return
        self._advance_tasks[assessment_id] = asyncio.create_task(self._advance_loop(assessment_id))

    async def _advance_loop(self, assessment_id: str) -> None:
        while True:
            self._again.discard(assessment_id)
            try:
                await self.advance(assessment_id)
            except Exception:
                log.exception("advancing assessment %s failed; the sweeper will try again", assessment_id)
                return
            if assessment_id not in self._again:
                return

    async def drain(self) -> None:
        """Wait for scheduled advances (used at shutdown and in tests)."""
        while pending := [t for t in self._advance_tasks.values() if not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def advance(self, assessment_id: str) -> None:
        lock = self._locks.setdefault(assessment_id, asyncio.Lock())
        async with lock:
            to_send: list[dict[str, Any]] = []
            async with self.store.transaction() as connection:
                row = await self.store.get(assessment_id, connection, lock=True)
                if row is None or row["state"] not in ACTIVE:
                    return
                items = await self.store.items(assessment_id, connection)
                rows = await self.store.comparisons(assessment_id, connection)
                state = self._engine_state(row, items, rows)
                single = state.single_wave
                if not worth_stepping(len(state.pending), state.n_items, self.engine_config, single_wave=single):
                    return  # the decision could only be WAIT
                started = time.perf_counter()
                result = await asyncio.to_thread(step, state, self.engine_config)
                self.metrics.fit_seconds.observe(time.perf_counter() - started)
                now = self.clock()
                action = result.decision.action
                if action is Action.SUBMIT and result.wave:
                    to_send = await self._start_wave(connection, row, state, result, now)
                elif action is Action.FINALIZE:
                    await self._finalize(connection, row, items, rows, state, result, now)
                elif action is Action.FAIL:
                    await self._fail(connection, row, result.decision.reason, now)
                else:
                    await self.store.update(
                        connection, assessment_id, reliability=result.honest.estimate, updated_at=now
                    )
            await self.store.notify()
        if to_send:
            await self._send(row, items, to_send)

    def _engine_state(self, row: dict, items: list[Item], rows: list[dict]) -> State:
        succeeded, pending, failed = [], [], Counter()
        judged_pairs = set()
        for c in rows:
            pair = (c["first_idx"], c["second_idx"])
            if c["status"] == SUCCEEDED:
                succeeded.append((*pair, bool(c["first_won"])))
                judged_pairs.add(pair)
            elif c["status"] == PENDING:
                pending.append(pair)
            elif c["status"] == FAILED:
                failed[pair] += 1
        failed_open = {pair: count for pair, count in failed.items() if pair not in judged_pairs}
        return State(
            n_items=len(items),
            budget=row["budget"],
            target_reliability=row["target_reliability"],
            single_wave=row["llm_batching_mode"] == BatchingMode.PROVIDER_BATCH_API.value,
            waves=row["waves"],
            attempts=row["attempts"],
            succeeded=succeeded,
            pending=pending,
            failed=failed_open,
            seed=int(row["assessment_id"][:8], 16),
        )

    async def _start_wave(self, connection, row: dict, state: State, result, now: float) -> list[dict]:
        wave_number = row["waves"] + 1
        single = state.single_wave
        deadline = now + (self.settings.batch_deadline_seconds if single else self.settings.comparison_deadline_seconds)
        previous_attempts = Counter()
        for pair, failures in state.failed.items():
            previous_attempts[pair] = failures
        new_rows = [
            {
                "comparison_id": f"{row['assessment_id']}-{wave_number}-{i}",
                "assessment_id": row["assessment_id"],
                "first_idx": first,
                "second_idx": second,
                "wave": wave_number,
                "attempt": previous_attempts[(first, second)] + 1,
                "status": PENDING,
                "first_won": None,
                "confidence": None,
                "justification": None,
                "error_json": None,
                "provider": None,
                "model": None,
                "cost_usd": 0.0,
                "created_at": now,
                "deadline_at": deadline,
                "completed_at": None,
            }
            for i, (first, second) in enumerate(result.wave)
        ]
        await self.store.insert_comparisons(connection, new_rows)
        await self.store.update(
            connection,
            row["assessment_id"],
            state="running",
            waves=wave_number,
            attempts=row["attempts"] + len(new_rows),
            reliability=result.honest.estimate,
            updated_at=now,
        )
        progress = self._progress(
            row
            | {
                "waves": wave_number,
                "attempts": row["attempts"] + len(new_rows),
                "reliability": result.honest.estimate,
            },
            await self.store.comparisons(row["assessment_id"], connection),
        )
        await self.store.append_events(connection, row["assessment_id"], [(self._event(progress=progress), False)], now)
        return new_rows

    async def _send(self, row: dict, items: list[Item], new_rows: list[dict]) -> None:
        mode = BatchingMode(row["llm_batching_mode"])
        requests = [self._lps_request(row, items, c, mode) for c in new_rows]
        self.metrics.llm_requests.labels(mode.value).inc(len(requests))
        self.metrics.batches_started.labels(mode.value).inc()
        try:
            if mode is BatchingMode.PROVIDER_BATCH_API:
                await self.lps.create_batch_job(f"cj-{row['assessment_id']}-wave-{new_rows[0]['wave']}", requests)
            else:
                for start in range(0, len(requests), 500):
                    await self.lps.submit(requests[start : start + 500])
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                await self.fail(
                    row["assessment_id"], f"the LLM provider server refused the requests: {error.details()}"
                )
                return
            # Anything else (unavailable, full queue) is repaired by the deadline sweeper re-sending.
            log.warning(
                "sending wave %s of %s failed (%s); will re-send",
                new_rows[0]["wave"],
                row["assessment_id"],
                error.code().name,
            )

    def _lps_request(self, row: dict, items: list[Item], comparison: dict, mode: BatchingMode):
        spec = _spec(row)
        overrides = json_format.ParseDict(spec["llm_overrides"], comparison_pb2.LlmOverrides())
        first, second = items[comparison["first_idx"]], items[comparison["second_idx"]]
        return comparison_pb2.ComparisonRequest(
            request_id=lps_request_id(comparison["comparison_id"]),
            essay_a_text=first.text,
            essay_b_text=second.text,
            student_prompt=spec["student_prompt"],
            instructions=spec["instructions"],
            rubric=spec["rubric"],
            overrides=overrides,
            consumer=self.settings.lps_consumer,
            batching_hint=HINTS[mode],
            metadata={"assessment_id": row["assessment_id"], "comparison_id": comparison["comparison_id"]},
        )

    async def _finalize(self, connection, row, items, rows, state: State, result, now: float) -> None:
        fit = result.fit
        assert fit is not None
        spec = _spec(row)
        scale_spec = spec["grade_scale"]
        scale = GradeScale(
            scale_spec["scale_id"], scale_spec["display_name"], tuple(scale_spec["grades"]), tuple(scale_spec["priors"])
        )
        infos = [ItemInfo(i.essay_id, i.is_anchor, i.anchor_grade) for i in items]
        split = split_half_reliability(
            Comparisons.from_outcomes(len(items), state.succeeded),
            np.random.default_rng(state.seed),
            alpha=self.settings.prior_precision,
            splits=8,
        )
        summary = summarize(infos, state.succeeded, fit, split, scale, result.honest)
        succeeded_rows = [c for c in rows if c["status"] == SUCCEEDED]
        models = Counter((c["provider"], c["model"]) for c in succeeded_rows)
        (provider, model), _ = models.most_common(1)[0] if models else (("", ""), 0)
        proto = converters.summary_to_proto(
            summary,
            name_of(row["assessment_id"]),
            scale,
            result.decision.stop_reason.value,
            len(succeeded_rows),
            row["attempts"],
            row["target_reliability"],
            now,
            sum(c["cost_usd"] for c in rows),
            int(provider or 0),
            model or "",
        )
        await self.store.update(
            connection,
            row["assessment_id"],
            state="succeeded",
            result_json=converters.to_json(proto),
            reliability=result.honest.estimate,
            updated_at=now,
            ended_at=now,
        )
        final_row = row | {"state": "succeeded", "reliability": result.honest.estimate}
        progress = self._progress(final_row, rows)
        await self.store.append_events(
            connection,
            row["assessment_id"],
            [(self._event(progress=progress), False), (self._event(result=proto), True)],
            now,
        )
        if spec["batch_id"]:
            await self.store.add_outbox(
                connection,
                row["assessment_id"],
                "assessment_result",
                f"cj-result-{row['assessment_id']}",
                self._ras_result(row, spec, proto, now).SerializeToString(),
                now,
            )
        self.metrics.assessments.labels("succeeded").inc()
        self.metrics.reliability.observe(result.honest.estimate)
        log.info("assessment finished", extra={"assessment_id": row["assessment_id"], "reason": result.decision.reason})

    async def _fail(self, connection, row: dict, reason: str, now: float, state: str = "failed") -> None:
        error = {"code": "FAILED_PRECONDITION" if state == "failed" else "CANCELLED", "message": reason}
        await self.store.update(
            connection, row["assessment_id"], state=state, error_json=dumps(error), updated_at=now, ended_at=now
        )
        await self.store.cancel_pending(connection, row["assessment_id"], now)
        final = self.assessment_proto(
            row | {"state": state, "error_json": dumps(error), "ended_at": now, "updated_at": now}, []
        )
        await self.store.append_events(connection, row["assessment_id"], [(self._event(final=final), True)], now)
        spec = _spec(row)
        if spec["batch_id"]:
            for item in await self.store.items(row["assessment_id"], connection):
                if not item.is_anchor:
                    status = batch_pb2.PHASE_STATUS_FAILED if state == "failed" else batch_pb2.PHASE_STATUS_CANCELLED
                    await self._phase_outbox(
                        connection, row["assessment_id"], spec["batch_id"], item.essay_id, status, now, reason
                    )
        self.metrics.assessments.labels(state).inc()
        log.warning("assessment %s %s: %s", row["assessment_id"], state, reason)

    async def fail(self, assessment_id: str, reason: str) -> None:
        async with self._locks.setdefault(assessment_id, asyncio.Lock()):
            async with self.store.transaction() as connection:
                row = await self.store.get(assessment_id, connection, lock=True)
                if row and row["state"] in ACTIVE:
                    await self._fail(connection, row, reason, self.clock())
            await self.store.notify()

    # ---- results from the LLM provider server ----------------------------------------------------

    async def apply_result(self, result: comparison_pb2.ComparisonResult) -> bool:
        """Apply one delivered result; False when it was a duplicate or not ours."""
        comparison_id = result.metadata.get("comparison_id", "")
        assessment_id = result.metadata.get("assessment_id", "")
        if not comparison_id or not assessment_id:
            self.metrics.judgements.labels("orphan").inc()
            return False
        now = self.clock()
        succeeded = result.outcome == comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED
        values = {
            "status": SUCCEEDED if succeeded else FAILED,
            "completed_at": now,
            "provider": str(result.provider),
            "model": result.model,
            "cost_usd": result.cost_usd,
            "confidence": result.confidence if succeeded else None,
            "justification": result.justification if succeeded else None,
            "first_won": (result.winner == comparison_pb2.WINNER_ESSAY_A) if succeeded else None,
            "error_json": None if succeeded else dumps({"code": result.error.code, "message": result.error.message}),
        }
        async with self._locks.setdefault(assessment_id, asyncio.Lock()):
            async with self.store.transaction() as connection:
                row = await self.store.get(assessment_id, connection, lock=True)
                if row is None:
                    self.metrics.judgements.labels("orphan").inc()
                    return False
                applied = await self.store.apply_result(connection, comparison_id, **values)
                if applied:
                    items = await self.store.items(assessment_id, connection)
                    rows = await self.store.comparisons(assessment_id, connection)
                    comparison = next(c for c in rows if c["comparison_id"] == comparison_id)
                    judgement = self._judgement(items, comparison, result, now)
                    await self.store.append_events(
                        connection,
                        assessment_id,
                        [
                            (self._event(judgement=judgement), False),
                            (self._event(progress=self._progress(row, rows)), False),
                        ],
                        now,
                    )
            if applied:
                await self.store.notify()
        if not applied:
            self.metrics.judgements.labels("duplicate").inc()
            return False
        self.metrics.judgements.labels("succeeded" if succeeded else "failed").inc()
        self.request_advance(assessment_id)
        return True

    def _judgement(self, items: list[Item], comparison: dict, result, now: float) -> assessment_pb2.Judgement:
        judgement = assessment_pb2.Judgement(
            essay_a_id=items[comparison["first_idx"]].essay_id,
            essay_b_id=items[comparison["second_idx"]].essay_id,
            outcome=JUDGEMENT_OUTCOMES.get(result.outcome, 0),
            winner=result.winner,
            confidence=result.confidence,
            justification=result.justification,
            wave=comparison["wave"],
            attempt=comparison["attempt"],
            complete_time=converters.timestamp(now),
        )
        if result.HasField("error"):
            judgement.error.CopyFrom(result.error)
        return judgement

    async def consume_results(self, stop: asyncio.Event) -> None:
        """The one subscription to the LLM provider server's results; reconnects until stopped."""
        while not stop.is_set():
            stream = self.lps.results()
            try:
                async for message in stream:
                    await self.apply_result(message.result)
                    await self.lps.ack([message.result.request_id])
                    if stop.is_set():
                        break
            except grpc.aio.AioRpcError as error:
                if not stop.is_set():
                    log.warning(
                        "result stream from the LLM provider server ended (%s); reconnecting", error.code().name
                    )
                    await asyncio.sleep(1.0)
            finally:
                stream.cancel()

    async def sweep(self) -> None:
        """Re-send comparisons the LLM provider server never received, restart stalled assessments."""
        now = self.clock()
        for comparison in await self.store.overdue(now):
            request_id = lps_request_id(comparison["comparison_id"])
            extend = now + self.settings.comparison_deadline_seconds
            try:
                known = await self.lps.get(request_id)
                if known is None:
                    row = await self.store.get(comparison["assessment_id"])
                    items = await self.store.items(comparison["assessment_id"])
                    mode = BatchingMode(row["llm_batching_mode"])
                    await self.lps.submit([self._lps_request(row, items, comparison, mode)])
                    log.warning("re-sent comparison %s the LLM provider server did not have", request_id)
            except grpc.aio.AioRpcError as error:
                log.warning("deadline check of %s failed: %s", request_id, error.code().name)
            await self.store.extend_deadline(comparison["comparison_id"], extend)
        for assessment_id in await self.store.running_ids():
            self.request_advance(assessment_id)

    # ---- queries ---------------------------------------------------------------------------------

    async def get(self, assessment_id: str) -> dict[str, Any]:
        row = await self.store.get(assessment_id)
        if row is None:
            raise NotFound(
                f"assessments/{assessment_id} does not exist",
                reason="ASSESSMENT_NOT_FOUND",
                metadata={"name": name_of(assessment_id)},
            )
        return row

    async def assessment(self, assessment_id: str) -> assessment_pb2.Assessment:
        row = await self.get(assessment_id)
        return self.assessment_proto(row, await self.store.comparisons(assessment_id))

    async def list_assessments(
        self, limit: int, after: tuple[float, str] | None, states: Sequence[str]
    ) -> list[tuple[dict, assessment_pb2.Assessment]]:
        """A page of assessments, newest first, each with its counts and progress."""
        rows = await self.store.list(limit=limit, after=after, states=states)
        counts = await self.store.listing_counts([r["assessment_id"] for r in rows])
        page = []
        for row in rows:
            count = counts[row["assessment_id"]]
            message = self.assessment_proto(row, [], status=Counter(count["status"]))
            message.essay_count, message.anchor_count = count["essays"], count["anchors"]
            page.append((row, message))
        return page

    def assessment_proto(self, row: dict, rows: list[dict], status: Counter | None = None) -> assessment_pb2.Assessment:
        spec = _spec(row)
        message = assessment_pb2.Assessment(
            name=name_of(row["assessment_id"]),
            request_id=row["request_id"],
            state=converters.STATE_TO_PROTO[row["state"]],
            progress=self._progress(row, rows, status),
            llm_batching_mode=converters.BATCHING_TO_PROTO[BatchingMode(row["llm_batching_mode"])],
            batching_mode_note=row["batching_note"],
            grade_scale_id=spec["grade_scale"]["scale_id"],
            target_reliability=row["target_reliability"],
            batch_id=spec["batch_id"],
            create_time=converters.timestamp(row["created_at"]),
            update_time=converters.timestamp(row["updated_at"]),
            end_time=converters.timestamp(row["ended_at"]),
            labels=spec["labels"],
            llm_overrides=json_format.ParseDict(spec["llm_overrides"], comparison_pb2.LlmOverrides()),
        )
        if row["error_json"]:
            error = json.loads(row["error_json"])
            message.error.code = grpc.StatusCode[error["code"]].value[0]
            message.error.message = error["message"]
        return message

    async def assessment_with_counts(self, assessment_id: str) -> assessment_pb2.Assessment:
        message = await self.assessment(assessment_id)
        items = await self.store.items(assessment_id)
        message.essay_count = sum(1 for i in items if not i.is_anchor)
        message.anchor_count = sum(1 for i in items if i.is_anchor)
        return message

    def _progress(
        self, row: dict, rows: list[dict], status: Counter | None = None
    ) -> assessment_pb2.AssessmentProgress:
        status = status if status is not None else Counter(c["status"] for c in rows)
        return assessment_pb2.AssessmentProgress(
            comparisons_submitted=row["attempts"],
            comparisons_succeeded=status[SUCCEEDED],
            comparisons_failed=status[FAILED],
            comparisons_pending=status[PENDING],
            waves=row["waves"],
            current_reliability=row["reliability"],
            budget=row["budget"],
            budget_remaining=max(row["budget"] - row["attempts"], 0),
        )

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
            raise FailedPrecondition(
                f"assessments/{assessment_id} has already ended ({row['state']})",
                reason="ASSESSMENT_ENDED",
                metadata={"state": row["state"]},
            )
        pending = [c for c in await self.store.comparisons(assessment_id) if c["status"] == PENDING]
        async with self._locks.setdefault(assessment_id, asyncio.Lock()):
            async with self.store.transaction() as connection:
                locked = await self.store.get(assessment_id, connection, lock=True)
                if locked and locked["state"] in ACTIVE:
                    await self._fail(connection, locked, "cancelled by request", self.clock(), state="cancelled")
            await self.store.notify()
        limit = asyncio.Semaphore(16)

        async def cancel_one(comparison_id: str) -> None:
            async with limit:
                try:
                    await self.lps.cancel(lps_request_id(comparison_id))
                except grpc.aio.AioRpcError as error:
                    log.warning("could not cancel %s in the LLM provider server: %s", comparison_id, error.code().name)

        await asyncio.gather(*(cancel_one(c["comparison_id"]) for c in pending))
        return await self.assessment_with_counts(assessment_id)

    async def events(
        self, assessment_id: str, after: int
    ) -> AsyncIterator[cj_assessment_service_pb2.StreamComparisonResultsResponse]:
        await self.get(assessment_id)
        while True:
            batch = await self.store.events_after(assessment_id, after)
            for sequence, payload, final in batch:
                event = cj_assessment_service_pb2.StreamComparisonResultsResponse.FromString(payload)
                event.sequence = sequence
                yield event
                after = sequence
                if final:
                    return
            if not batch:
                await self.store.wait_for_change(self.settings.stream_poll_seconds)

    # ---- events and outbox payloads --------------------------------------------------------------

    @staticmethod
    def _event(**kind) -> bytes:
        event = cj_assessment_service_pb2.StreamComparisonResultsResponse()
        for key, value in kind.items():
            target = {
                "progress": event.progress,
                "result": event.result,
                "judgement": event.judgement,
                "final": event.final_assessment,
            }[key]
            target.CopyFrom(value)
        return event.SerializeToString()

    async def _phase_outbox(
        self, connection, assessment_id: str, batch_id: str, essay_id: str, status: int, now: float, message: str = ""
    ) -> None:
        request = result_aggregator_service_pb2.RecordPhaseOutcomeRequest(
            event_id=f"cj-{assessment_id}-{essay_id}-{batch_pb2.PhaseStatus.Name(status)}",
            batch_id=batch_id,
            essay_id=essay_id,
            phase="cj_assessment",
            status=status,
            event_time=converters.timestamp(now),
        )
        if message:
            request.error.message = message
        await self.store.add_outbox(
            connection, assessment_id, "phase_outcome", request.event_id, request.SerializeToString(), now
        )

    def _ras_result(self, row, spec, proto: assessment_pb2.AssessmentResult, now: float):
        essays = [
            result_aggregator_service_pb2.AssessedEssay(
                essay_id=e.essay_id,
                assessment=batch_pb2.EssayAssessment(
                    rank=e.rank,
                    student_rank=e.student_rank,
                    score=e.score,
                    standard_error=e.standard_error,
                    grade=e.grade_projection.grade,
                    grade_confidence=e.grade_projection.confidence,
                    confidence_label=assessment_pb2.GradeProjection.ConfidenceLabel.Name(
                        e.grade_projection.confidence_label
                    ).removeprefix("CONFIDENCE_LABEL_")
                    if e.HasField("grade_projection")
                    else "",
                    comparison_count=e.comparison_count,
                    is_anchor=False,
                ),
            )
            for e in proto.essay_results
            if not e.is_anchor
        ]
        return result_aggregator_service_pb2.RecordAssessmentResultRequest(
            event_id=f"cj-result-{row['assessment_id']}",
            batch_id=spec["batch_id"],
            assessment=proto.assessment,
            essays=essays,
            reliability=proto.reliability.estimate,
            grade_scale_id=proto.grade_scale_id,
            event_time=converters.timestamp(now),
            model=proto.model,
        )


def _spec(row: dict) -> dict[str, Any]:
    return json.loads(row["spec_json"])
