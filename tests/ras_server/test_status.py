"""The batch status from facts and tally: the seeds' current_phase cases and the completion rule."""

from __future__ import annotations

from collections import Counter

import pytest

from ras_server.domain.phases import PhaseRecord, PhaseStatus, contribution, essay_view
from ras_server.domain.status import CLIENT_STATUS, BatchFacts, BatchState, ClientStatus, derive

PHASES = ("spellcheck", "cj_assessment")


def rec(status: str, t: float = 1.0) -> PhaseRecord:
    terminal = PhaseStatus(status).terminal
    return PhaseRecord(PhaseStatus(status), t, t if terminal else None, t, f"ev-{status}-{t}")


def facts(essays: dict[str, dict[str, str]], phases=PHASES, **batch) -> BatchFacts:
    tally: Counter[str] = Counter({"essay_count": len(essays)})
    started = None
    for outcomes in essays.values():
        records = {p: rec(s) for p, s in outcomes.items()}
        tally.update(contribution(essay_view(phases, records)))
        started = 1.0 if records else started
    return BatchFacts(len(essays), phases, tally, first_start=started, **batch)


def test_current_phase_only_while_processing():
    assert derive(facts({"e1": {}})).current_phase == ""
    assert derive(facts({"e1": {}}, ready_at=1.0)).state is BatchState.READY_FOR_PIPELINE_EXECUTION
    cancelled = derive(facts({"e1": {"spellcheck": "started"}}, cancelled_at=2.0))
    assert cancelled.current_phase == "" and cancelled.state is BatchState.CANCELLED
    assert derive(facts({"e1": {"spellcheck": "started"}})).current_phase == "spellcheck"


def test_spellcheck_first_then_cj_then_none():
    mixed = {"e1": {"spellcheck": "completed"}, "e2": {"spellcheck": "started"}}
    assert derive(facts(mixed)).current_phase == "spellcheck"
    spelled = {"e1": {"spellcheck": "completed"}, "e2": {"spellcheck": "completed", "cj_assessment": "started"}}
    assert derive(facts(spelled)).current_phase == "cj_assessment"
    done = derive(facts({"e1": {"spellcheck": "completed", "cj_assessment": "completed"}}))
    assert done.current_phase == "" and done.state is BatchState.COMPLETED_SUCCESSFULLY


def test_a_batch_level_start_means_processing_before_any_essay_report():
    derived = derive(facts({"e1": {}, "e2": {}}, reported_started=True))
    assert derived.state is BatchState.PROCESSING_PIPELINES and derived.current_phase == "spellcheck"


def test_a_failed_spellcheck_settles_the_later_phases():
    derived = derive(
        facts({"e1": {"spellcheck": "failed"}, "e2": {"spellcheck": "completed", "cj_assessment": "completed"}})
    )
    assert derived.state is BatchState.COMPLETED_WITH_FAILURES
    assert (derived.completed_essays, derived.failed_essays, derived.progress_percent) == (1, 1, 100.0)
    cj = derived.phases[1]
    assert cj.counts[PhaseStatus.SKIPPED] == 1 and cj.status is PhaseStatus.COMPLETED


@pytest.mark.parametrize(
    ("outcomes", "state", "counts"),
    [
        (
            {"e1": ("completed", "completed"), "e2": ("completed", "completed")},
            BatchState.COMPLETED_SUCCESSFULLY,
            (2, 0, 0),
        ),
        ({"e1": ("completed", "completed"), "e2": ("failed", None)}, BatchState.COMPLETED_WITH_FAILURES, (1, 1, 0)),
        ({"e1": ("failed", None), "e2": ("completed", "failed")}, BatchState.FAILED_CRITICALLY, (0, 2, 0)),
        ({"e1": ("completed", "cancelled"), "e2": ("completed", "cancelled")}, BatchState.CANCELLED, (0, 0, 2)),
        (
            {"e1": ("completed", "completed"), "e2": ("completed", "cancelled")},
            BatchState.COMPLETED_WITH_FAILURES,
            (1, 0, 1),
        ),
        ({"e1": ("completed", "completed"), "e2": ("completed", None)}, BatchState.PROCESSING_PIPELINES, (1, 0, 0)),
    ],
)
def test_complete_only_when_every_requested_phase_is_settled(outcomes, state, counts):
    essays = {e: {p: s for p, s in zip(PHASES, statuses, strict=True) if s} for e, statuses in outcomes.items()}
    derived = derive(facts(essays))
    assert (derived.state, (derived.completed_essays, derived.failed_essays, derived.cancelled_essays)) == (
        state,
        counts,
    )


def test_a_cancelled_batch_shows_its_open_essays_cancelled():
    derived = derive(
        facts({"e1": {"spellcheck": "completed", "cj_assessment": "completed"}, "e2": {}}, cancelled_at=9.0)
    )
    assert derived.state is BatchState.CANCELLED and derived.completed_at == 9.0
    assert (derived.completed_essays, derived.cancelled_essays, derived.pending_essays) == (1, 1, 0)
    assert derived.phases[0].counts[PhaseStatus.CANCELLED] == 1 and derived.phases[0].open == 0


def test_pipeline_completion_settles_open_phases_as_failed():
    derived = derive(
        facts(
            {"e1": {"spellcheck": "completed", "cj_assessment": "completed"}, "e2": {"spellcheck": "started"}},
            pipeline_completed_at=7.0,
        )
    )
    assert derived.state is BatchState.COMPLETED_WITH_FAILURES and derived.failed_essays == 1
    assert derived.phases[0].counts[PhaseStatus.FAILED] == 1 and derived.completed_at == 7.0


def test_every_state_has_one_client_status():
    assert set(CLIENT_STATUS) == set(BatchState)
    assert CLIENT_STATUS[BatchState.STUDENT_VALIDATION_COMPLETED] is ClientStatus.PROCESSING
    assert CLIENT_STATUS[BatchState.FAILED_CRITICALLY] is ClientStatus.FAILED
