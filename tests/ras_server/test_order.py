"""Order-independence as a property, on SQLite and PostgreSQL: for generated sets of events
(registration, phase outcomes, assessment results, cancellations, readiness, pipeline
completion), every delivery order, with repeats, ends in one and the same batch status, and
the batch's counts agree with its essays' states.

An event that arrives before its batch's registration is refused (NOT_FOUND) and delivered
again later, as CJ's outbox does."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import pytest
from google.rpc import status_pb2
from huleedu.results.v1 import batch_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ras_server import converters
from ras_server.app import RasApp
from ras_server.domain import records as r
from ras_server.domain.phases import PhaseStatus
from ras_server.settings import RasSettings
from service_core.errors import NotFound

ESSAYS = ("e1", "e2", "e3")
PHASES = ("spellcheck", "cj_assessment")
NOW = 1_790_000_500.0
_runs = itertools.count()

times = st.integers(1, 5).map(lambda t: 1_790_000_000.0 + t)
essay_outcome = st.tuples(
    st.just("phase"),
    st.sampled_from(ESSAYS),
    st.sampled_from(PHASES),
    st.sampled_from([PhaseStatus.STARTED, PhaseStatus.COMPLETED, PhaseStatus.FAILED, PhaseStatus.CANCELLED]),
    times,
    st.sampled_from(["", "judge unavailable", "timeout"]),
)
batch_phase = st.tuples(
    st.just("batch_phase"),
    st.sampled_from(PHASES),
    st.sampled_from([PhaseStatus.STARTED, PhaseStatus.CANCELLED]),
    times,
)
assessment = st.tuples(st.just("assessment"), st.sets(st.sampled_from(ESSAYS), min_size=1), times)
lifecycle = st.tuples(st.sampled_from(["cancel", "ready", "pipeline"]), times)
event_sets = st.lists(st.one_of(essay_outcome, essay_outcome, batch_phase, assessment, lifecycle), max_size=8)


def build(spec: tuple, index: int, batch_id: str) -> r.Event:
    event_id = f"{batch_id}-ev{index}"
    kind, *rest = spec
    if kind == "phase":
        essay, phase, status, at, message = rest
        error = converters.error_to_record(status_pb2.Status(code=14, message=message)) if message else None
        return r.PhaseReport(event_id, batch_id, at, essay, phase, status, error)
    if kind == "batch_phase":
        phase, status, at = rest
        return r.PhaseReport(event_id, batch_id, at, "", phase, status)
    if kind == "assessment":
        essays, at = rest
        scored = tuple((e, r.EssayAssessment(rank=i + 1, score=float(i))) for i, e in enumerate(sorted(essays)))
        return r.AssessmentReport(event_id, batch_id, at, f"assessments/{index}", scored, 0.8)
    (at,) = rest
    return {"cancel": r.CancelBatch, "ready": r.MarkReady, "pipeline": r.PipelineCompleted}[kind](
        event_id, batch_id, at
    )


def registration(batch_id: str) -> r.RegisterBatch:
    essays = tuple(r.RegisteredEssay(e, f"{e}.docx") for e in ESSAYS)
    return r.RegisterBatch(f"{batch_id}-reg", batch_id, 1_790_000_000.0, "teacher-1", essays, PHASES)


async def deliver(app: RasApp, events: list[r.Event]) -> None:
    service, queue = app.service, list(events)
    while queue:
        event = queue.pop(0)
        try:
            if isinstance(event, r.RegisterBatch):
                await service.register(event)
            elif isinstance(event, r.PhaseReport):
                await service.record_phase(event)
            elif isinstance(event, r.AssessmentReport):
                await service.record_assessment(event)
            else:
                await service.lifecycle(event)
        except NotFound:
            queue.append(event)  # not registered yet: the sender tries again later


def comparable(status: batch_pb2.BatchStatus) -> batch_pb2.BatchStatus:
    status.batch_id = ""
    return status


def check_counts(status: batch_pb2.BatchStatus) -> None:
    states = Counter(e.state for e in status.essays)
    assert status.completed_essay_count == states[batch_pb2.ESSAY_STATE_COMPLETED]
    assert status.failed_essay_count == status.failed_essays == states[batch_pb2.ESSAY_STATE_FAILED]
    assert status.cancelled_essay_count == states[batch_pb2.ESSAY_STATE_CANCELLED]
    open_ = states[batch_pb2.ESSAY_STATE_PENDING] + states[batch_pb2.ESSAY_STATE_PROCESSING]
    assert status.pending_essay_count == open_
    for index, summary in enumerate(status.phases):
        shown = Counter(e.phases[index].status for e in status.essays)
        assert summary.completed_count == shown[batch_pb2.PHASE_STATUS_COMPLETED]
        assert summary.failed_count == shown[batch_pb2.PHASE_STATUS_FAILED]
        assert summary.cancelled_count == shown[batch_pb2.PHASE_STATUS_CANCELLED]
        assert summary.skipped_count == shown[batch_pb2.PHASE_STATUS_SKIPPED]
        assert summary.started_count == shown[batch_pb2.PHASE_STATUS_STARTED]
        assert summary.pending_count == shown[batch_pb2.PHASE_STATUS_PENDING]
    terminal = status.state in (
        batch_pb2.BATCH_STATE_COMPLETED_SUCCESSFULLY,
        batch_pb2.BATCH_STATE_COMPLETED_WITH_FAILURES,
        batch_pb2.BATCH_STATE_FAILED_CRITICALLY,
        batch_pb2.BATCH_STATE_CANCELLED,
    )
    settled = all(p.pending_count + p.started_count == 0 for p in status.phases)
    assert terminal == (settled or status.state == batch_pb2.BATCH_STATE_CANCELLED)
    assert (status.current_phase != "") == (status.state == batch_pb2.BATCH_STATE_PROCESSING_PIPELINES)
    if status.state == batch_pb2.BATCH_STATE_COMPLETED_WITH_FAILURES:
        assert status.failed_essays + status.cancelled_essay_count > 0


@pytest.fixture
def app(database_url):
    runner = asyncio.Runner()
    settings_ = RasSettings(port=0, metrics_port=-1, database_url=database_url)
    ras = RasApp(settings_, clock=lambda: NOW)
    runner.run(ras.database.open())
    yield runner, ras
    runner.run(ras.database.close())
    runner.close()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=event_sets, data=st.data())
def test_every_order_with_repeats_ends_in_one_status(app, specs, data):
    runner, ras = app
    finals = []
    for _ in range(3):
        batch_id = f"b{next(_runs)}"
        events = [registration(batch_id), *(build(spec, i, batch_id) for i, spec in enumerate(specs))]
        # Draw positions, not events: the events carry this run's batch id.
        order = data.draw(st.permutations(range(len(events))))
        repeats = data.draw(st.lists(st.sampled_from(range(len(events))), max_size=3))
        runner.run(deliver(ras, [events[i] for i in [*order, *repeats]]))
        status = converters.batch_to_proto(runner.run(ras.service.status(batch_id)))
        check_counts(status)
        finals.append(comparable(status))
    assert finals[0] == finals[1] == finals[2]
