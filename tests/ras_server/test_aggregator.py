"""RAS over gRPC on SQLite and PostgreSQL: idempotent ingest, clear errors, order-proof
status, dashboard fields, paging, owner access, watch; and CJ's outbox into a real RAS."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import timestamp_pb2
from huleedu.results.v1 import batch_pb2
from huleedu.results.v1 import result_aggregator_service_pb2 as pb
from huleedu.results.v1 import result_aggregator_service_pb2_grpc as pb_grpc

from ras_server.app import RasApp
from ras_server.settings import RasSettings
from tests.helpers import rich_details, wait_until

P = batch_pb2


def at(seconds: float) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=int(1_790_000_000 + seconds))


class Ras:
    def __init__(self, app: RasApp, channel: grpc.aio.Channel):
        self.app, self.stub = app, pb_grpc.ResultAggregatorServiceStub(channel)

    async def register(
        self,
        batch_id="b1",
        owner="teacher-1",
        essays=("e1", "e2"),
        phases=("spellcheck", "cj_assessment"),
        event_id=None,
        metadata=(),
    ):
        return await self.stub.RegisterBatch(
            pb.RegisterBatchRequest(
                event_id=event_id or f"reg-{batch_id}",
                batch_id=batch_id,
                owner=owner,
                essays=[pb.RegisteredEssay(essay_id=e, filename=f"{e}.docx") for e in essays],
                requested_phases=list(phases),
                event_time=at(0),
            ),
            metadata=metadata,
            timeout=10,
        )

    async def phase(self, essay, phase, status, t, batch_id="b1", event_id=None, **fields):
        return await self.stub.RecordPhaseOutcome(
            pb.RecordPhaseOutcomeRequest(
                event_id=event_id or f"{batch_id}-{essay}-{phase}-{status}-{t}",
                batch_id=batch_id,
                essay_id=essay,
                phase=phase,
                status=status,
                event_time=at(t),
                **fields,
            ),
            timeout=10,
        )

    async def status(self, batch_id="b1", metadata=()):
        return (
            await self.stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id=batch_id), metadata=metadata, timeout=10)
        ).batch


@pytest.fixture
async def ras(database_url):
    app = RasApp(RasSettings(port=0, metrics_port=-1, database_url=database_url, watch_poll_seconds=0.05))
    server = app.grpc_server()
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield Ras(app, channel)
    await server.stop(0)


async def test_register_is_idempotent_and_clashes_are_errors(ras):
    first = await ras.register()
    again = await ras.register()
    assert not first.duplicate and again.duplicate
    assert first.batch.client_status == P.CLIENT_STATUS_PENDING_CONTENT and first.batch.essay_count == 2
    with pytest.raises(grpc.aio.AioRpcError) as clash:
        await ras.register(event_id="another-event")
    assert clash.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await ras.register(batch_id="b2", essays=("e1", "e1"), phases=())
    fields = {v.field for v in rich_details(bad.value)["BadRequest"].field_violations}
    assert fields == {"essays[1].essay_id", "requested_phases"}


async def test_unknown_batch_essay_or_phase_is_a_clear_error(ras):
    await ras.register()
    cases = [
        (
            dict(essay="e1", phase="spellcheck", status=P.PHASE_STATUS_STARTED, t=1, batch_id="nope"),
            grpc.StatusCode.NOT_FOUND,
        ),
        (dict(essay="e9", phase="spellcheck", status=P.PHASE_STATUS_STARTED, t=1), grpc.StatusCode.INVALID_ARGUMENT),
        (dict(essay="e1", phase="nlp", status=P.PHASE_STATUS_STARTED, t=1), grpc.StatusCode.INVALID_ARGUMENT),
    ]
    for fields, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await ras.phase(**fields)
        assert caught.value.code() == code
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await ras.stub.RecordAssessmentResult(
            pb.RecordAssessmentResultRequest(
                event_id="r1",
                batch_id="b1",
                event_time=at(5),
                essays=[pb.AssessedEssay(essay_id="ghost", assessment=P.EssayAssessment(rank=1))],
            )
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await ras.status("nope")
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_progress_current_phase_and_completion_in_any_order(ras):
    await ras.register()
    S = P
    await ras.phase("e1", "spellcheck", S.PHASE_STATUS_STARTED, 1)
    status = await ras.status()
    assert status.client_status == P.CLIENT_STATUS_PROCESSING and status.current_phase == "spellcheck"
    assert status.processing_phase == "spellcheck" and status.processing_start_time.seconds > 0
    # out of order: e2's CJ result lands before its spellcheck
    await ras.phase("e2", "cj_assessment", S.PHASE_STATUS_COMPLETED, 9)
    await ras.phase("e1", "spellcheck", S.PHASE_STATUS_COMPLETED, 3)
    assert (await ras.status()).current_phase == "spellcheck", "e2's spellcheck is still open"
    await ras.phase("e2", "spellcheck", S.PHASE_STATUS_FAILED, 4, error=None)
    status = await ras.status()
    assert status.current_phase == "cj_assessment" and status.failed_essays == 1
    duplicate = await ras.phase("e1", "spellcheck", S.PHASE_STATUS_COMPLETED, 3)
    assert duplicate.duplicate
    await ras.phase("e1", "spellcheck", S.PHASE_STATUS_STARTED, 2)  # a late 'started' changes nothing
    await ras.phase("e1", "cj_assessment", S.PHASE_STATUS_COMPLETED, 10)
    done = await ras.status()
    assert done.client_status == P.CLIENT_STATUS_COMPLETED_WITH_FAILURES
    assert done.current_phase == "" and done.completed_at.seconds == at(10).seconds
    assert done.progress_percent == 100.0 and done.completed_essay_count == 1
    spell = next(p for p in done.phases if p.phase == "spellcheck")
    assert (spell.start_time.seconds, spell.end_time.seconds) == (at(1).seconds, at(4).seconds)
    await ras.phase("e1", "cj_assessment", S.PHASE_STATUS_STARTED, 11)
    assert (await ras.status()).client_status == P.CLIENT_STATUS_COMPLETED_WITH_FAILURES, "never backwards"


async def test_assessment_results_and_json_fields_are_kept(ras):
    await ras.register(phases=("cj_assessment",))
    from google.rpc import status_pb2

    await ras.phase("e1", "cj_assessment", P.PHASE_STATUS_STARTED, 1)
    # e2's failure is reported later than the result: the later outcome wins, with its error
    await ras.phase("e2", "cj_assessment", P.PHASE_STATUS_FAILED, 9, error=status_pb2.Status(code=4, message="late"))
    result = pb.RecordAssessmentResultRequest(
        event_id="cj-result-1",
        batch_id="b1",
        assessment="assessments/a1",
        reliability=0.91,
        event_time=at(5),
        essays=[
            pb.AssessedEssay(
                essay_id="e1",
                assessment=P.EssayAssessment(
                    rank=1, student_rank=1, score=1.2, standard_error=0.3, grade="B", grade_confidence=0.8
                ),
            ),
            pb.AssessedEssay(
                essay_id="e2", assessment=P.EssayAssessment(rank=2, student_rank=2, score=-1.2, grade="D")
            ),
        ],
    )
    assert not (await ras.stub.RecordAssessmentResult(result)).duplicate
    assert (await ras.stub.RecordAssessmentResult(result)).duplicate
    status = await ras.status()
    assert status.client_status == P.CLIENT_STATUS_COMPLETED_WITH_FAILURES
    assert (status.completed_essay_count, status.failed_essays) == (1, 1)
    assert status.cj_reliability == pytest.approx(0.91) and status.cj_assessment == "assessments/a1"
    assert status.cj_summary.assessed_essay_count == 2 and status.cj_summary.assess_time.seconds == at(5).seconds
    first, second = sorted(status.essays, key=lambda e: e.essay_id)
    assert first.assessment.grade == "B" and first.assessment.score == pytest.approx(1.2)
    assert first.state == P.ESSAY_STATE_COMPLETED and first.filename == "e1.docx"
    assert second.state == P.ESSAY_STATE_FAILED and second.assessment.grade == "D"
    assert second.phases[0].error.message == "late", "the phase error survives the assessment written after it"


async def test_list_pages_filters_and_counts(ras):
    for i in range(5):
        await ras.register(batch_id=f"batch-{i}", owner="teacher-1" if i < 4 else "teacher-2")
    await ras.phase("e1", "spellcheck", P.PHASE_STATUS_STARTED, 1, batch_id="batch-0")
    first = await ras.stub.ListBatches(pb.ListBatchesRequest(owner="teacher-1", page_size=3))
    second = await ras.stub.ListBatches(
        pb.ListBatchesRequest(owner="teacher-1", page_size=3, page_token=first.next_page_token)
    )
    assert first.total_size == 4 and len(first.batches) == 3 and len(second.batches) == 1
    assert not first.batches[0].essays, "lists come without essays unless asked"
    processing = await ras.stub.ListBatches(
        pb.ListBatchesRequest(statuses=[P.CLIENT_STATUS_PROCESSING], include_essays=True)
    )
    assert [b.batch_id for b in processing.batches] == ["batch-0"] and processing.batches[0].essays


async def test_watch_streams_each_change(ras):
    await ras.register()
    seen = []

    async def watch():
        async for message in ras.stub.WatchBatchStatus(pb.WatchBatchStatusRequest(batch_id="b1"), timeout=20):
            seen.append(message.batch.client_status)

    watcher = asyncio.ensure_future(watch())
    await asyncio.sleep(0.2)
    for essay in ("e1", "e2"):
        for phase in ("spellcheck", "cj_assessment"):
            await ras.phase(essay, phase, P.PHASE_STATUS_COMPLETED, 5)
    await asyncio.wait_for(watcher, 20)
    assert seen[0] == P.CLIENT_STATUS_PENDING_CONTENT and seen[-1] == P.CLIENT_STATUS_COMPLETED_SUCCESSFULLY
    assert P.CLIENT_STATUS_PROCESSING in seen


async def test_owners_see_only_their_own_batches(database_url):
    settings = RasSettings(
        port=0,
        metrics_port=-1,
        database_url=database_url,
        auth_tokens="cj:svc-token,teacher-1:t1-token,teacher-2:t2-token",
    )
    app = RasApp(settings)
    server = app.grpc_server()
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            ras = Ras(app, channel)
            service, t1, t2 = (
                (("authorization", f"Bearer {token}"),) for token in ("svc-token", "t1-token", "t2-token")
            )
            await ras.register(batch_id="mine", owner="teacher-1", metadata=service)
            assert (await ras.status("mine", metadata=t1)).owner == "teacher-1"
            with pytest.raises(grpc.aio.AioRpcError) as hidden:
                await ras.status("mine", metadata=t2)
            assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
            listed = await ras.stub.ListBatches(pb.ListBatchesRequest(), metadata=t2)
            assert not listed.batches
            with pytest.raises(grpc.aio.AioRpcError) as other:
                await ras.stub.ListBatches(pb.ListBatchesRequest(owner="teacher-1"), metadata=t2)
            assert other.value.code() == grpc.StatusCode.PERMISSION_DENIED
            with pytest.raises(grpc.aio.AioRpcError) as ingest:
                await ras.register(batch_id="x", owner="teacher-1", metadata=t1)
            assert ingest.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await server.stop(0)


async def test_phases_run_in_the_declared_order_whatever_the_registration_lists(ras):
    registered = await ras.register(phases=("cj_assessment", "spellcheck"))
    assert list(registered.batch.requested_phases) == ["spellcheck", "cj_assessment"]
    await ras.phase("e1", "cj_assessment", P.PHASE_STATUS_STARTED, 1)
    assert (await ras.status()).current_phase == "spellcheck", "spellcheck runs before CJ"
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await ras.register(batch_id="b2", phases=("spellcheck", "student_matching"))
    assert rich_details(unknown.value)["BadRequest"].field_violations[0].field == "requested_phases[1]"


async def test_an_essay_failing_spellcheck_is_skipped_for_cj_and_the_batch_completes(ras):
    await ras.register()
    await ras.phase("e1", "spellcheck", P.PHASE_STATUS_FAILED, 1)
    await ras.phase("e2", "spellcheck", P.PHASE_STATUS_COMPLETED, 1)
    await ras.phase("e2", "cj_assessment", P.PHASE_STATUS_COMPLETED, 2)
    done = await ras.status()
    assert done.client_status == P.CLIENT_STATUS_COMPLETED_WITH_FAILURES and done.failed_essays == 1
    failed = next(e for e in done.essays if e.essay_id == "e1")
    assert failed.state == P.ESSAY_STATE_FAILED
    assert (failed.phases[1].status, failed.phases[1].reason) == (P.PHASE_STATUS_SKIPPED, "spellcheck failed")
    assert done.phases[1].skipped_count == 1 and done.completed_at.seconds == at(2).seconds


async def test_a_cancelled_cj_assessment_shows_the_batch_cancelled(ras):
    await ras.register(phases=("cj_assessment",), essays=[f"e{i}" for i in range(12)])
    for i in range(12):
        await ras.phase(f"e{i}", "cj_assessment", P.PHASE_STATUS_STARTED, 1)
        await ras.phase(f"e{i}", "cj_assessment", P.PHASE_STATUS_CANCELLED, 2)
    status = await ras.status()
    assert status.state == P.BATCH_STATE_CANCELLED and status.client_status == P.CLIENT_STATUS_CANCELLED
    assert (status.cancelled_essay_count, status.failed_essays, status.completed_essay_count) == (12, 0, 0)


async def test_lifecycle_from_the_orchestrator(ras):
    await ras.register()
    ready = await ras.stub.MarkBatchReady(pb.MarkBatchReadyRequest(event_id="ready-1", batch_id="b1", event_time=at(1)))
    assert ready.batch.client_status == P.CLIENT_STATUS_READY and ready.batch.ready_time.seconds == at(1).seconds
    await ras.phase("e1", "spellcheck", P.PHASE_STATUS_COMPLETED, 2)
    await ras.phase("e1", "cj_assessment", P.PHASE_STATUS_COMPLETED, 3)
    await ras.phase("e2", "spellcheck", P.PHASE_STATUS_STARTED, 3)
    request = pb.RecordPipelineCompletionRequest(event_id="done-1", batch_id="b1", event_time=at(4))
    ended = await ras.stub.RecordPipelineCompletion(request)
    assert ended.batch.client_status == P.CLIENT_STATUS_COMPLETED_WITH_FAILURES and ended.batch.failed_essays == 1
    assert ended.batch.completed_at.seconds == at(4).seconds
    assert (await ras.stub.RecordPipelineCompletion(request)).duplicate

    await ras.register(batch_id="b2")
    await ras.phase("e1", "spellcheck", P.PHASE_STATUS_COMPLETED, 2, batch_id="b2")
    cancel = pb.CancelBatchRequest(event_id="cancel-b2", batch_id="b2", reason="teacher cancelled", event_time=at(5))
    cancelled = (await ras.stub.CancelBatch(cancel)).batch
    assert cancelled.state == P.BATCH_STATE_CANCELLED and cancelled.cancel_reason == "teacher cancelled"
    assert cancelled.cancelled_essay_count == 2 and cancelled.phases[0].completed_count == 1
    e2 = next(e for e in (await ras.status("b2")).essays if e.essay_id == "e2")
    assert {p.status for p in e2.phases} == {P.PHASE_STATUS_CANCELLED} and e2.phases[0].reason == "batch cancelled"


async def test_a_reused_event_id_is_already_exists_naming_the_original(ras):
    await ras.register()
    await ras.register(batch_id="b2")
    await ras.phase("e1", "spellcheck", P.PHASE_STATUS_STARTED, 1, event_id="ev-1")
    for fields in (
        dict(essay="e1", phase="spellcheck", status=P.PHASE_STATUS_COMPLETED, t=1),
        dict(essay="e1", phase="spellcheck", status=P.PHASE_STATUS_STARTED, t=1, batch_id="b2"),
        dict(essay="e1", phase="spellcheck", status=P.PHASE_STATUS_STARTED, t=1, batch_id="never-registered"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as reused:
            await ras.phase(event_id="ev-1", **fields)
        assert reused.value.code() == grpc.StatusCode.ALREADY_EXISTS
        info = rich_details(reused.value)["ErrorInfo"]
        assert (
            info.reason == "EVENT_ID_REUSED" and info.metadata["batchId"] == "b1" and info.metadata["kind"] == "phase"
        )
    with pytest.raises(grpc.aio.AioRpcError) as cancel:
        await ras.stub.CancelBatch(pb.CancelBatchRequest(event_id="ev-1", batch_id="b1"))
    assert cancel.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_class_and_organisation_are_stored_and_filter_the_list(ras):
    for i, (class_id, org_id) in enumerate(
        [("9b", "school-1"), ("9b", "school-1"), ("8a", "school-1"), ("7c", "school-2")]
    ):
        await ras.stub.RegisterBatch(
            pb.RegisterBatchRequest(
                event_id=f"reg-{i}",
                batch_id=f"batch-{i}",
                owner="teacher-1",
                essays=[pb.RegisteredEssay(essay_id="e1")],
                requested_phases=["cj_assessment"],
                class_id=class_id,
                org_id=org_id,
            )
        )
    by_class = await ras.stub.ListBatches(pb.ListBatchesRequest(class_id="9b"))
    assert {b.batch_id for b in by_class.batches} == {"batch-0", "batch-1"} and by_class.total_size == 2
    by_org = await ras.stub.ListBatches(pb.ListBatchesRequest(org_id="school-1", class_id="8a"))
    assert [(b.batch_id, b.class_id, b.org_id) for b in by_org.batches] == [("batch-2", "8a", "school-1")]


async def test_registration_limits_are_checked_in_linear_time_with_bounded_errors(ras):
    with pytest.raises(grpc.aio.AioRpcError) as phases:
        await ras.register(phases=["spellcheck"] * 40_000)
    assert phases.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as essays:
        await ras.register(essays=["same"] * 15_000)
    violations = rich_details(essays.value)["BadRequest"].field_violations
    assert 0 < len(violations) <= 20 and len(essays.value.details()) < 1000
    with pytest.raises(grpc.aio.AioRpcError) as long_id:
        await ras.register(batch_id="b" * 20_000)
    assert long_id.value.code() == grpc.StatusCode.INVALID_ARGUMENT and len(long_id.value.details()) < 1000
    found = {(v.field, v.description) for v in rich_details(long_id.value)["BadRequest"].field_violations}
    assert found == {("batch_id", "at most 128 characters"), ("event_id", "at most 256 characters")}


async def test_one_live_feed_per_owner_resumes_from_its_cursor(database_url):
    settings = RasSettings(
        port=0,
        metrics_port=0,
        database_url=database_url,
        watch_poll_seconds=0.05,
        auth_tokens="orchestrator:svc,teacher-1:t1,teacher-2:t2",
    )
    app = RasApp(settings)
    server = app.grpc_server()
    await server.start()
    service, t1, t2 = ((("authorization", f"Bearer {token}"),) for token in ("svc", "t1", "t2"))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            ras = Ras(app, channel)
            await ras.register(batch_id="mine-1", metadata=service)
            await ras.register(batch_id="theirs", owner="teacher-2", metadata=service)
            await ras.register(batch_id="mine-2", metadata=service)
            seen: list[tuple[str, int, str]] = []

            async def follow(cursor: str, count: int) -> None:
                stream = ras.stub.WatchBatches(pb.WatchBatchesRequest(cursor=cursor), metadata=t1, timeout=20)
                async for message in stream:
                    seen.append((message.batch.batch_id, message.batch.client_status, message.cursor))
                    if len(seen) == count:
                        stream.cancel()
                        return

            await follow("", 2)
            assert [s[0] for s in seen] == ["mine-1", "mine-2"], "one stream for all of the owner's batches"
            cursor = seen[-1][2]
            await ras.stub.RecordPhaseOutcome(
                pb.RecordPhaseOutcomeRequest(
                    event_id="p1", batch_id="mine-1", essay_id="e1", phase="spellcheck", status=2, event_time=at(1)
                ),
                metadata=service,
            )
            await ras.stub.RecordPhaseOutcome(
                pb.RecordPhaseOutcomeRequest(
                    event_id="p2", batch_id="theirs", essay_id="e1", phase="spellcheck", status=2, event_time=at(1)
                ),
                metadata=service,
            )
            await follow(cursor, 3)
            assert seen[2][:2] == ("mine-1", P.CLIENT_STATUS_PROCESSING), "resumed after the cursor, others unseen"
            with pytest.raises(grpc.aio.AioRpcError) as other:
                async for _ in ras.stub.WatchBatches(pb.WatchBatchesRequest(owner="teacher-1"), metadata=t2):
                    pass
            assert other.value.code() == grpc.StatusCode.PERMISSION_DENIED
            await app.service.refresh_metrics()

            async def closed() -> bool:  # the server side of a cancelled stream unwinds on its own time
                return app.registry.get_sample_value("ras_live_subscribers", {"stream": "owner"}) == 0

            assert await wait_until(closed, timeout=20)
            scraped = await asyncio.to_thread(scrape, server.metrics_endpoint.port)
    finally:
        await server.stop(0)
    assert 'ras_events_total{kind="register",outcome="applied"} 3.0' in scraped
    assert 'ras_events_total{kind="phase",outcome="applied"} 2.0' in scraped
    assert 'ras_batches{state="processing_pipelines"} 2.0' in scraped
    assert 'ras_live_subscribers{stream="owner"} 0.0' in scraped


def scrape(port: int) -> str:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


async def test_metrics_count_duplicates_rejections_and_completion_time(database_url):
    app = RasApp(RasSettings(port=0, metrics_port=0, database_url=database_url))
    server = app.grpc_server()
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            ras = Ras(app, channel)
            await ras.register(phases=("cj_assessment",), essays=("e1",))
            await ras.register(phases=("cj_assessment",), essays=("e1",))
            with pytest.raises(grpc.aio.AioRpcError):
                await ras.phase("e9", "cj_assessment", P.PHASE_STATUS_STARTED, 1)
            with pytest.raises(grpc.aio.AioRpcError):
                await ras.phase("e1", "cj_assessment", P.PHASE_STATUS_UNSPECIFIED, 1)
            await ras.phase("e1", "cj_assessment", P.PHASE_STATUS_COMPLETED, 60)
            watch = ras.stub.WatchBatchStatus(pb.WatchBatchStatusRequest(batch_id="b1"))
            assert (await watch.read()).batch.client_status == P.CLIENT_STATUS_COMPLETED_SUCCESSFULLY
            scraped = await asyncio.to_thread(scrape, server.metrics_endpoint.port)
    finally:
        await server.stop(0)
    assert 'ras_events_total{kind="register",outcome="duplicate"} 1.0' in scraped
    assert 'ras_events_total{kind="phase",outcome="rejected"} 2.0' in scraped
    assert "ras_batch_completion_seconds_count 1.0" in scraped
    assert 'ras_batch_completion_seconds_bucket{le="60.0"} 1.0' in scraped


async def test_concurrent_registrations_give_one_batch_and_no_internal_error(ras):
    async def attempt(batch_id: str, event_id: str):
        try:
            return (await ras.register(batch_id=batch_id, event_id=event_id)).duplicate
        except grpc.aio.AioRpcError as error:
            return error.code()

    same = await asyncio.gather(*(attempt("race", "reg-race") for _ in range(8)))
    assert sorted(same) == [False] + [True] * 7, "one applied, the rest duplicates of it"
    distinct = await asyncio.gather(*(attempt("race-2", f"reg-race-{i}") for i in range(8)))
    assert sorted(distinct, key=str) == sorted([False] + [grpc.StatusCode.ALREADY_EXISTS] * 7, key=str)


async def test_adversarial_inputs_are_invalid_argument_never_internal(ras):
    from google.rpc import status_pb2

    await ras.register()
    odd = status_pb2.Status(code=3, message="spell server down")
    odd.details.add(type_url="type.googleapis.com/not.Known", value=b"\x01\x02")
    await ras.phase("e1", "spellcheck", P.PHASE_STATUS_FAILED, 1, error=odd)
    kept = next(e for e in (await ras.status()).essays if e.essay_id == "e1").phases[0].error
    assert kept.message == "spell server down" and kept.details[0].type_url.endswith("not.Known")
    bad_calls = [
        ras.phase("e1", "spellcheck", 99, 1),
        ras.phase("e1", "spellcheck\x00", P.PHASE_STATUS_STARTED, 1),
        ras.phase("e1", "spellcheck", P.PHASE_STATUS_STARTED, 1, error=status_pb2.Status(message="x" * 5000)),
        ras.phase("", "spellcheck", P.PHASE_STATUS_COMPLETED, 1),
        ras.stub.RecordPhaseOutcome(
            pb.RecordPhaseOutcomeRequest(
                event_id="neg",
                batch_id="b1",
                essay_id="e1",
                phase="spellcheck",
                status=P.PHASE_STATUS_STARTED,
                event_time=timestamp_pb2.Timestamp(seconds=1, nanos=-1),
            )
        ),
        ras.stub.RecordAssessmentResult(
            pb.RecordAssessmentResultRequest(event_id="nan", batch_id="b1", event_time=at(1), reliability=float("nan"))
        ),
        ras.stub.ListBatches(pb.ListBatchesRequest(page_token="[" * 100_000)),
        ras.stub.ListBatches(pb.ListBatchesRequest(statuses=[42])),
        ras.stub.GetBatchStatus(pb.GetBatchStatusRequest(batch_id="x" * 20_000)),
    ]
    for call in bad_calls:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
        assert len(caught.value.details()) < 1000
