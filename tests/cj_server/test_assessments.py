"""CJ over gRPC with a real LPS (latent_bt judge), on SQLite and PostgreSQL."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from huleedu.cj.v1 import assessment_pb2
from huleedu.cj.v1 import cj_assessment_service_pb2 as pb
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as llm_pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as llm_grpc
from scipy.stats import spearmanr

from cj_server import converters
from tests.cj_server.harness import A, RecordingRas, essays, stack, truth
from tests.helpers import rich_details, wait_until

R = assessment_pb2.AssessmentResult


async def test_thirty_essays_rank_close_to_the_hidden_quality(database_url):
    async with stack(database_url, database_url) as s:
        created = await s.create(essays=essays(30))
        assert created.state in (A.STATE_PENDING, A.STATE_RUNNING) and created.essay_count == 30
        events = await s.finish(created.name)
        result = await s.result(created.name)
        done = await s.get(created.name)
    judgements = [e for e in events if e.HasField("judgement")]
    assert events[-1].HasField("result") and done.state == A.STATE_SUCCEEDED
    texts = {e.essay_id: e.text for e in essays(30)}
    rho = spearmanr([e.score for e in result.essay_results], [truth(texts[e.essay_id]) for e in result.essay_results])
    assert rho.statistic >= 0.9
    assert len(judgements) == result.comparisons_succeeded == done.progress.comparisons_succeeded
    assert done.progress.comparisons_submitted <= done.progress.budget == 300  # 30 essays x 20 / 2
    assert [e.rank for e in result.essay_results] == list(range(1, 31))
    assert all(e.standard_error > 0 for e in result.essay_results)
    assert 0 < result.reliability.split_half_reliability <= 1 and result.reliability.scale_separation_reliability > 0
    assert not result.grades_projected and "no anchor" in result.grades_note
    assert result.stop_reason in (R.STOP_REASON_TARGET_RELIABILITY, R.STOP_REASON_BUDGET_SPENT)
    assert 0.0 <= result.position_bias.first_position_win_rate <= 1.0
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))


async def test_grades_come_from_anchors(database_url):
    students = essays(20)
    pool = [f"Anchor text number {i} for the course." for i in range(40)]
    ordered = sorted(pool, key=truth)
    grades = ["F", "E", "D", "C", "B", "A"]
    anchors = [
        assessment_pb2.AnchorEssay(anchor_id=f"anchor-{g}-{k}", text=ordered[int((gi + 0.5) / 6 * 40) + k - 1], grade=g)
        for gi, g in enumerate(grades)
        for k in (0, 1)
    ]
    async with stack(database_url, database_url) as s:
        created = await s.create(essays=students, anchors=anchors, grade_scale_id="letter_a_to_f")
        assert created.anchor_count == 12
        await s.finish(created.name)
        result = await s.result(created.name)
    assert result.grades_projected and result.grade_scale_id == "letter_a_to_f"
    assert [b.score for b in result.grade_boundaries] == sorted(b.score for b in result.grade_boundaries)
    by_id = {e.essay_id: e for e in result.essay_results}
    for essay in result.essay_results:
        probabilities = {p.grade: p.probability for p in essay.grade_projection.probabilities}
        assert set(probabilities) == set(grades) and sum(probabilities.values()) == pytest.approx(1.0)
    anchor_hits = [
        abs(grades.index(by_id[a.anchor_id].grade_projection.grade) - grades.index(a.grade)) <= 1 for a in anchors
    ]
    assert np.mean(anchor_hits) >= 0.75, "anchors project to (about) their own grades"
    assert all(by_id[a.anchor_id].is_anchor and by_id[a.anchor_id].student_rank == 0 for a in anchors)
    assert sorted(e.student_rank for e in result.essay_results if not e.is_anchor) == list(range(1, 21))


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (assessment_pb2.BATCHING_MODE_PER_REQUEST, "per_request"),
        (assessment_pb2.BATCHING_MODE_SERIAL_BUNDLE, "serial_bundle"),
        (assessment_pb2.BATCHING_MODE_PROVIDER_BATCH_API, "provider_batch_api"),
    ],
)
async def test_each_batching_mode(database_url, mode, expected):
    lps_mode = {"serial_bundle": "serial_bundle"}.get(expected, "per_request")
    async with stack(database_url, database_url, lps_overrides={"queue_processing_mode": lps_mode}) as s:
        created = await s.create(essays=essays(12), llm_batching_mode=mode, comparison_budget=40)
        assert created.llm_batching_mode == mode
        await s.finish(created.name)
        done = await s.get(created.name)
        result = await s.result(created.name)
        requests = s.cj.registry.get_sample_value("cj_llm_requests_total", {"batching_mode": expected})
        batches = s.cj.registry.get_sample_value("cj_llm_batches_started_total", {"batching_mode": expected})
        jobs = await s.lps.jobs.list_jobs(limit=10, after=None, states=[], provider=None)
    assert done.state == A.STATE_SUCCEEDED and requests == done.progress.comparisons_submitted
    assert batches == done.progress.waves
    if expected == "provider_batch_api":
        assert done.progress.waves == 1 and len(jobs) == 1 and jobs[0].item_count == 40
        assert result.comparisons_attempted == 40
    else:
        assert not jobs


async def test_bad_requests_get_field_violations(database_url):
    async with stack(database_url, database_url) as s:
        cases = {
            "essays": dict(essays=essays(1)),
            "essays[2].essay_id": dict(essays=[*essays(2), assessment_pb2.Essay(essay_id="e0", text="again")]),
            "essays[0].text": dict(essays=[assessment_pb2.Essay(essay_id="x", text=" "), *essays(2)]),
            "grade_scale_id": dict(essays=essays(3), grade_scale_id="stars"),
            "anchors[0].grade": dict(
                essays=essays(3),
                grade_scale_id="letter_a_to_f",
                anchors=[assessment_pb2.AnchorEssay(anchor_id="a", text="t", grade="Z")],
            ),
            "comparison_budget": dict(essays=essays(3), comparison_budget=-1),
            "target_reliability": dict(essays=essays(3), target_reliability=1.5),
        }
        for number, (field, request) in enumerate(cases.items()):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await s.create(request_id=f"bad-{number}", **request)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
            assert field in {v.field for v in rich_details(caught.value)["BadRequest"].field_violations}
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await s.get("assessments/none")
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_create_is_idempotent_and_lists_page(database_url):
    async with stack(database_url, database_url) as s:
        first = await s.create(request_id="same", essays=essays(4), comparison_budget=4)
        again = await s.create(request_id="same", essays=essays(6))
        assert again.name == first.name
        for i in range(3):
            await s.create(request_id=f"other-{i}", essays=essays(3), comparison_budget=3)
        page = await s.stub.ListAssessments(pb.ListAssessmentsRequest(page_size=3))
        rest = await s.stub.ListAssessments(pb.ListAssessmentsRequest(page_size=3, page_token=page.next_page_token))
        names = [a.name for a in [*page.assessments, *rest.assessments]]
        assert len(names) == 4 == len(set(names)) and not rest.next_page_token
        for name in names:
            await s.finish(name)
        done = await s.stub.ListAssessments(pb.ListAssessmentsRequest(states=[A.STATE_SUCCEEDED]))
        assert len(done.assessments) == 4
        listed = {a.name: a for a in done.assessments}
        for name in names:
            full = await s.get(name)
            assert listed[name].essay_count == full.essay_count > 0, "a listing carries counts and progress"
            assert listed[name].progress == full.progress and full.progress.comparisons_succeeded > 0


async def test_cancel_stops_the_work_and_cancels_outstanding_requests(database_url):
    async with stack(database_url, database_url, lps_overrides={"mock_latency_ms": 2000}) as s:
        created = await s.create(essays=essays(10))
        assert await wait_until(lambda: _pending(s, created.name))
        cancelled = (await s.stub.CancelAssessment(pb.CancelAssessmentRequest(name=created.name))).assessment
        assert cancelled.state == A.STATE_CANCELLED
        events = await s.finish(created.name, timeout=10)
        assert events[-1].final_assessment.state == A.STATE_CANCELLED
        async with grpc.aio.insecure_channel(s.cj.settings.lps_target) as channel:
            lps = llm_grpc.LlmProviderServiceStub(channel)
            name = f"comparisons/cj:{created.name.split('/')[1]}-1-0"

            async def lps_state_ended() -> bool:
                comparison = (await lps.GetComparison(llm_pb.GetComparisonRequest(name=name))).comparison
                return comparison.state == comparison_pb2.Comparison.STATE_CANCELLED

            assert await wait_until(lps_state_ended, timeout=10), "the running request ends cancelled in LPS"
        for call in (
            s.stub.CancelAssessment(pb.CancelAssessmentRequest(name=created.name)),
            s.stub.GetAssessmentResult(pb.GetAssessmentResultRequest(name=created.name)),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call
            assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def _pending(s, name) -> bool:
    return (await s.get(name)).progress.comparisons_pending > 0


async def test_a_restarted_server_carries_on(database_url):
    async with stack(database_url, database_url, lps_overrides={"mock_latency_ms": 50}) as s:
        created = await s.create(essays=essays(16), comparison_budget=64)
        assert await wait_until(lambda: _succeeded_at_least(s, created.name, 10))
    async with stack(database_url, database_url) as restarted:
        await restarted.finish(created.name)
        done = await restarted.get(created.name)
    assert done.state == A.STATE_SUCCEEDED and done.progress.comparisons_pending == 0


async def _succeeded_at_least(s, name, count) -> bool:
    return (await s.get(name)).progress.comparisons_succeeded >= count


async def test_duplicate_and_out_of_order_results_change_nothing(database_url):
    async with stack(database_url, database_url, lps_overrides={"mock_latency_ms": 5000}) as s:
        created = await s.create(essays=essays(6), comparison_budget=3)
        assessment_id = created.name.split("/")[1]
        assert await wait_until(lambda: _pending(s, created.name))
        ids = [f"{assessment_id}-1-{i}" for i in range(3)]

        def result(comparison_id: str, winner: int) -> comparison_pb2.ComparisonResult:
            return comparison_pb2.ComparisonResult(
                request_id=f"cj:{comparison_id}",
                outcome=comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED,
                winner=winner,
                confidence=4.0,
                metadata={"assessment_id": assessment_id, "comparison_id": comparison_id},
            )

        def apply(*results):
            return s.cj.results.apply([converters.arrived(r) for r in results])

        assert await apply(result(ids[2], comparison_pb2.WINNER_ESSAY_B)) == 1
        assert await apply(result(ids[0], comparison_pb2.WINNER_ESSAY_A)) == 1
        assert await apply(result(ids[0], comparison_pb2.WINNER_ESSAY_B)) == 0, "duplicate"
        assert await apply(result("unknown-1-0", comparison_pb2.WINNER_ESSAY_A)) == 0
        assert await apply(result(ids[1], comparison_pb2.WINNER_ESSAY_A)) == 1
        events = await s.finish(created.name, timeout=20)
        final = await s.result(created.name)
    assert final.comparisons_succeeded == 3
    assert sum(e.HasField("judgement") for e in events) == 3
    assert s.cj.registry.get_sample_value("cj_judgements_total", {"outcome": "duplicate"}) >= 1


async def test_failed_judgements_are_retried_and_never_count_as_coverage(database_url):
    lps = {"mock_error_rate": 0.3, "max_attempts": 1, "breaker_failure_threshold": 10_000}
    async with stack(database_url, database_url, lps_overrides=lps) as s:
        created = await s.create(essays=essays(12), comparison_budget=60)
        await s.finish(created.name)
        done = await s.get(created.name)
        result = await s.result(created.name)
    assert done.state == A.STATE_SUCCEEDED and done.progress.comparisons_failed > 0
    assert result.comparisons_succeeded + done.progress.comparisons_failed == done.progress.comparisons_submitted
    assert done.progress.comparisons_submitted <= 60, "the budget counts attempts"
    assert sum(e.comparison_count for e in result.essay_results) == 2 * result.comparisons_succeeded


async def test_too_many_failures_fail_the_assessment_with_a_reason(database_url):
    lps = {"mock_error_rate": 1.0, "max_attempts": 1, "breaker_failure_threshold": 10_000}
    async with stack(database_url, database_url, lps_overrides=lps) as s:
        created = await s.create(essays=essays(20))
        events = await s.finish(created.name)
    final = events[-1].final_assessment
    assert final.state == A.STATE_FAILED and "failed" in final.error.message


async def test_outbox_reaches_the_result_aggregator_after_it_recovers(database_url):
    ras = RecordingRas(fail_first=3)
    async with stack(database_url, database_url, ras=ras) as s:
        created = await s.create(essays=essays(5), comparison_budget=6, batch_id="batch-7")
        await s.finish(created.name)
        assert await wait_until(lambda: _delivered(ras), timeout=30)
    assert {o.essay_id for o in ras.phase_outcomes} == {f"e{i}" for i in range(5)}
    [result] = ras.results
    assert result.batch_id == "batch-7" and len(result.essays) == 5 and result.event_id


async def _delivered(ras: RecordingRas) -> bool:
    return len(ras.results) == 1 and len(ras.phase_outcomes) == 5


async def test_stream_resumes_from_a_cursor(database_url):
    async with stack(database_url, database_url) as s:
        created = await s.create(essays=essays(6), comparison_budget=9)
        events = await s.finish(created.name)
        rest = [
            e
            async for e in s.stub.StreamComparisonResults(
                pb.StreamComparisonResultsRequest(name=created.name, after_sequence=events[4].sequence), timeout=10
            )
        ]
    assert [e.sequence for e in rest] == [e.sequence for e in events[5:]]


async def test_lost_requests_are_resent_after_their_deadline(database_url, tmp_path):
    """The first wave is written while the LLM provider server is unreachable; the sweeper
    re-sends it once the provider server answers again."""
    async with stack(database_url, database_url, comparison_deadline_seconds=0.5) as s:
        real_target = s.cj.lps.channel
        broken = grpc.aio.insecure_channel("127.0.0.1:1")
        s.cj.lps.stub = llm_grpc.LlmProviderServiceStub(broken)
        created = await s.create(essays=essays(6), comparison_budget=6)
        assert await wait_until(lambda: _pending(s, created.name))
        s.cj.lps.stub = llm_grpc.LlmProviderServiceStub(real_target)
        await s.finish(created.name, timeout=30)
        await broken.close()
        assert (await _final_state(s, created.name)) == A.STATE_SUCCEEDED


async def _final_state(s, name):
    return (await s.get(name)).state


async def test_grade_scales_and_anchor_library(database_url):
    async with stack(database_url, database_url) as s:
        scales = (await s.stub.ListGradeScales(pb.ListGradeScalesRequest())).grade_scales
        assert {g.scale_id for g in scales} == {"swedish_f_to_a", "national_1_to_9", "letter_a_to_f"}
        anchor = (
            await s.stub.CreateAnchor(
                pb.CreateAnchorRequest(
                    request_id="anc-1",
                    anchor=assessment_pb2.Anchor(
                        grade_scale_id="national_1_to_9", grade="7", text="A strong anchor essay."
                    ),
                )
            )
        ).anchor
        again = (
            await s.stub.CreateAnchor(
                pb.CreateAnchorRequest(
                    request_id="anc-1",
                    anchor=assessment_pb2.Anchor(
                        grade_scale_id="national_1_to_9", grade="7", text="A strong anchor essay."
                    ),
                )
            )
        ).anchor
        assert again.name == anchor.name
        listed = (await s.stub.ListAnchors(pb.ListAnchorsRequest(grade_scale_id="national_1_to_9"))).anchors
        assert [a.name for a in listed] == [anchor.name]
        created = await s.create(
            essays=essays(3), anchor_names=[anchor.name], grade_scale_id="national_1_to_9", comparison_budget=3
        )
        assert created.anchor_count == 1
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await s.stub.CreateAnchor(
                pb.CreateAnchorRequest(
                    request_id="anc-2",
                    anchor=assessment_pb2.Anchor(grade_scale_id="national_1_to_9", grade="12", text="x"),
                )
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_unknown_models_and_bad_overrides_are_refused_at_create(database_url):
    async with stack(database_url, database_url) as s:
        cases = [
            (comparison_pb2.LlmOverrides(provider=comparison_pb2.PROVIDER_MOCK, model="no-such-model"), "model"),
            (comparison_pb2.LlmOverrides(provider=comparison_pb2.PROVIDER_MOCK, temperature=3.0), "temperature"),
            (comparison_pb2.LlmOverrides(model="m" * 70_000), "model"),
        ]
        for i, (overrides, field) in enumerate(cases):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await s.create(request_id=f"bad-llm-{i}", essays=essays(3), llm_overrides=overrides)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            [violation] = rich_details(caught.value)["BadRequest"].field_violations
            assert violation.field == f"llm_overrides.{field}" and len(violation.description) < 2000
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await s.create(request_id="long-prompt", essays=essays(3), student_prompt="p" * 60_000)
        assert [v.field for v in rich_details(caught.value)["BadRequest"].field_violations] == ["student_prompt"]
        good = comparison_pb2.LlmOverrides(provider=comparison_pb2.PROVIDER_MOCK, temperature=0.5)
        created = await s.create(request_id="good-llm", essays=essays(3), llm_overrides=good, comparison_budget=3)
        await s.finish(created.name)
        assert (await s.get(created.name)).state == A.STATE_SUCCEEDED


async def test_a_result_the_aggregator_refuses_is_parked_as_dead_not_retried(database_url):
    ras = RecordingRas(refuse_results=True)
    async with stack(database_url, database_url, ras=ras) as s:
        created = await s.create(essays=essays(4), comparison_budget=4, batch_id="batch-9")
        await s.finish(created.name)
        assessment_id = created.name.split("/")[1]
        assert await wait_until(lambda: _dead(s, assessment_id))
        for _ in range(5):
            await s.cj.outbox.deliver_due()
        shown = await s.get(created.name)
    assert shown.undeliverable_notifications == 1 and "INVALID_ARGUMENT" in shown.undeliverable_error
    assert ras.refused == 1, "a permanent refusal is tried once"
    assert len(ras.phase_outcomes) == 4
    assert s.cj.registry.get_sample_value("cj_outbox_dead_total", {"kind": "assessment_result"}) == 1


async def _dead(s, assessment_id: str) -> bool:
    rows = await s.cj.store.outbox_rows(assessment_id)
    return any(r["dead_at"] and "INVALID_ARGUMENT" in r["last_error"] for r in rows)
