"""RAS use cases: idempotent ingest and the derived batch status."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Callable

from google.protobuf import json_format
from huleedu.results.v1 import batch_pb2
from huleedu.results.v1 import result_aggregator_service_pb2 as pb

from ras_server.converters import PHASE_STATUS_FROM_PROTO, seconds, status_to_proto
from ras_server.domain.status import BatchState, PhaseStatus, apply_outcome, derive
from ras_server.store import RasStore
from service_core.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, PermissionDenied

ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
PHASE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Access:
    """Who is calling: open (no auth configured), a service (sees all) or an owner (sees its own)."""

    def __init__(self, caller: str, services: set[str]):
        self.caller = caller
        self.is_owner = bool(caller) and caller not in services

    def may_read(self, owner: str) -> bool:
        return not self.is_owner or owner == self.caller

    def require_service(self) -> None:
        if self.is_owner:
            raise PermissionDenied(
                f"{self.caller!r} may read its own batches but not record events", reason="INGEST_NOT_ALLOWED"
            )


class ResultService:
    def __init__(self, store: RasStore, clock: Callable[[], float] = time.time, watch_poll: float = 0.5):
        self.store = store
        self.clock = clock
        self.watch_poll = watch_poll

    # ---- ingest ----------------------------------------------------------------------------------

    async def register(self, request: pb.RegisterBatchRequest) -> tuple[batch_pb2.BatchStatus, bool]:
        violations = []
        for field, value in (("event_id", request.event_id), ("batch_id", request.batch_id), ("owner", request.owner)):
            if not ID.match(value):
                violations.append(FieldViolation(field, "required: 1-128 characters of letters, digits and . _ : -"))
        ids = [e.essay_id for e in request.essays]
        for i, essay_id in enumerate(ids):
            if not ID.match(essay_id):
                violations.append(FieldViolation(f"essays[{i}].essay_id", "required: 1-128 characters"))
            elif essay_id in ids[:i]:
                violations.append(FieldViolation(f"essays[{i}].essay_id", f"{essay_id!r} appears more than once"))
        if not request.requested_phases:
            violations.append(FieldViolation("requested_phases", "at least one phase, in pipeline order"))
        for i, phase in enumerate(request.requested_phases):
            if not PHASE.match(phase) or phase in request.requested_phases[:i]:
                violations.append(FieldViolation(f"requested_phases[{i}]", "distinct lower_snake_case phase names"))
        if violations:
            raise InvalidArgument(violations)
        now = self.clock()
        event_time = seconds(request.event_time) or now
        async with self.store.transaction() as connection:
            if not await self.store.claim_event(connection, request.event_id, request.batch_id, "register", now):
                duplicate = True
            else:
                duplicate = False
                if await self.store.batch(request.batch_id, connection):
                    raise AlreadyExists(
                        f"batch {request.batch_id} is already registered",
                        reason="BATCH_EXISTS",
                        metadata={"batchId": request.batch_id},
                    )
                await self.store.insert_batch(
                    connection,
                    {
                        "batch_id": request.batch_id,
                        "owner": request.owner,
                        "assignment_id": request.assignment_id,
                        "course_code": request.course_code,
                        "requested_phases": json.dumps(list(request.requested_phases)),
                        "state": BatchState.AWAITING_CONTENT_VALIDATION.value,
                        "orchestrator_phase": "",
                        "cj_assessment": "",
                        "cj_reliability": 0.0,
                        "created_at": event_time,
                        "updated_at": now,
                        "processing_started_at": None,
                        "processing_completed_at": None,
                        "version": 0,
                    },
                    [
                        {
                            "batch_id": request.batch_id,
                            "essay_id": e.essay_id,
                            "filename": e.filename,
                            "assessment_json": None,
                            "updated_at": now,
                        }
                        for e in request.essays
                    ],
                )
        if not duplicate:
            await self.store.notify()
        return await self.status(request.batch_id), duplicate

    async def _locked_batch(self, connection, batch_id: str) -> dict:
        batch = await self.store.batch(batch_id, connection, lock=True)
        if batch is None:
            raise NotFound(
                f"batch {batch_id} is not registered", reason="BATCH_NOT_FOUND", metadata={"batchId": batch_id}
            )
        return batch

    async def record_phase(self, request: pb.RecordPhaseOutcomeRequest) -> bool:
        if not ID.match(request.event_id):
            raise InvalidArgument(FieldViolation("event_id", "required"))
        status = PHASE_STATUS_FROM_PROTO.get(request.status)
        if status is None:
            raise InvalidArgument(FieldViolation("status", "a phase status is required"))
        now = self.clock()
        event_time = seconds(request.event_time) or now
        async with self.store.transaction() as connection:
            batch = await self._locked_batch(connection, request.batch_id)
            requested = json.loads(batch["requested_phases"])
            if request.phase not in requested:
                raise InvalidArgument(
                    FieldViolation(
                        "phase", f"{request.phase!r} was not requested for this batch ({', '.join(requested)})"
                    )
                )
            known = {e["essay_id"] for e in await self.store.essays(request.batch_id, connection)}
            if request.essay_id and request.essay_id not in known:
                raise InvalidArgument(
                    FieldViolation("essay_id", f"{request.essay_id!r} is not in batch {request.batch_id}")
                )
            if not await self.store.claim_event(connection, request.event_id, request.batch_id, "phase", now):
                return True
            if not request.essay_id:  # a batch-level report from the orchestrator
                await self.store.update_batch(
                    connection, request.batch_id, orchestrator_phase=request.phase, updated_at=now
                )
            else:
                records = await self.store.phase_records(request.batch_id, connection)
                existing = records.get(request.essay_id, {}).get(request.phase)
                updated = apply_outcome(existing[0] if existing else None, status, event_time)
                if updated is not None:
                    error = json_format.MessageToDict(request.error) if request.HasField("error") else None
                    await self.store.put_phase(
                        connection,
                        request.batch_id,
                        request.essay_id,
                        request.phase,
                        updated,
                        error,
                        existing is not None,
                    )
            await self._refresh(connection, request.batch_id, now)
        await self.store.notify()
        return False

    async def record_assessment(self, request: pb.RecordAssessmentResultRequest) -> bool:
        if not ID.match(request.event_id):
            raise InvalidArgument(FieldViolation("event_id", "required"))
        now = self.clock()
        event_time = seconds(request.event_time) or now
        async with self.store.transaction() as connection:
            batch = await self._locked_batch(connection, request.batch_id)
            known = {e["essay_id"] for e in await self.store.essays(request.batch_id, connection)}
            unknown = [
                FieldViolation(f"essays[{i}].essay_id", f"{e.essay_id!r} is not in batch {request.batch_id}")
                for i, e in enumerate(request.essays)
                if e.essay_id not in known
            ]
            if unknown:
                raise InvalidArgument(unknown)
            if not await self.store.claim_event(connection, request.event_id, request.batch_id, "assessment", now):
                return True
            records = await self.store.phase_records(request.batch_id, connection)
            cj_requested = "cj_assessment" in json.loads(batch["requested_phases"])
            for essay in request.essays:
                assessment = json_format.MessageToDict(essay.assessment, preserving_proto_field_name=True)
                await self.store.put_assessment(connection, request.batch_id, essay.essay_id, assessment, now)
                if cj_requested:
                    existing = records.get(essay.essay_id, {}).get("cj_assessment")
                    updated = apply_outcome(existing[0] if existing else None, PhaseStatus.COMPLETED, event_time)
                    if updated is not None:
                        await self.store.put_phase(
                            connection,
                            request.batch_id,
                            essay.essay_id,
                            "cj_assessment",
                            updated,
                            None,
                            existing is not None,
                        )
            await self.store.update_batch(
                connection,
                request.batch_id,
                cj_assessment=request.assessment,
                cj_reliability=request.reliability,
                updated_at=now,
            )
            await self._refresh(connection, request.batch_id, now)
        await self.store.notify()
        return False

    async def _refresh(self, connection, batch_id: str, now: float) -> None:
        """Move the batch's state forward from its phase records (never backwards)."""
        batch = await self.store.batch(batch_id, connection)
        essays = await self.store.essays(batch_id, connection)
        records = await self.store.phase_records(batch_id, connection)
        derived = derive(
            BatchState(batch["state"]),
            json.loads(batch["requested_phases"]),
            {e["essay_id"]: {p: r for p, (r, _) in records.get(e["essay_id"], {}).items()} for e in essays},
            batch["orchestrator_phase"],
        )
        values = {"state": derived.state.value, "updated_at": now}
        starts = [r.start_time for phases in records.values() for r, _ in phases.values() if r.start_time is not None]
        if batch["processing_started_at"] is None and (starts or derived.state is BatchState.PROCESSING_PIPELINES):
            values["processing_started_at"] = min(starts) if starts else now
        if derived.state.terminal and batch["processing_completed_at"] is None:
            ends = [r.end_time for phases in records.values() for r, _ in phases.values() if r.end_time is not None]
            values["processing_completed_at"] = max(ends) if ends else now
        await self.store.update_batch(connection, batch_id, **values)

    # ---- queries ---------------------------------------------------------------------------------

    async def status(
        self, batch_id: str, access: Access | None = None, include_essays: bool = True
    ) -> batch_pb2.BatchStatus:
        batch = await self.store.batch(batch_id)
        if batch is None or (access is not None and not access.may_read(batch["owner"])):
            raise NotFound(
                f"batch {batch_id} is not registered", reason="BATCH_NOT_FOUND", metadata={"batchId": batch_id}
            )
        return await self._status(batch, include_essays)

    async def _status(self, batch: dict, include_essays: bool) -> batch_pb2.BatchStatus:
        essays = await self.store.essays(batch["batch_id"])
        records = await self.store.phase_records(batch["batch_id"])
        return status_to_proto(batch, essays, records, include_essays)

    async def list(
        self,
        request: pb.ListBatchesRequest,
        access: Access,
        states: list[str],
        limit: int,
        after: tuple[float, str] | None,
    ) -> tuple[list[batch_pb2.BatchStatus], int, bool]:
        owner = request.owner
        if access.is_owner:
            if owner and owner != access.caller:
                raise PermissionDenied(f"{access.caller!r} may list only its own batches", reason="OTHER_OWNER")
            owner = access.caller
        rows, total = await self.store.list_batches(owner=owner, states=states, limit=limit + 1, after=after)
        more = len(rows) > limit
        return [await self._status(row, request.include_essays) for row in rows[:limit]], total, more

    async def watch(self, batch_id: str, access: Access) -> AsyncIterator[batch_pb2.BatchStatus]:
        last = await self.status(batch_id, access)
        yield last
        while last.client_status not in TERMINAL_CLIENT:
            await self.store.wait_for_change(self.watch_poll)
            current = await self.status(batch_id, access)
            if current != last:
                yield current
                last = current


TERMINAL_CLIENT = {
    batch_pb2.CLIENT_STATUS_COMPLETED_SUCCESSFULLY,
    batch_pb2.CLIENT_STATUS_COMPLETED_WITH_FAILURES,
    batch_pb2.CLIENT_STATUS_FAILED,
    batch_pb2.CLIENT_STATUS_CANCELLED,
}
