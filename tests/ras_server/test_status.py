"""Batch status derivation, including the seeds' current_phase cases."""

from __future__ import annotations

import pytest

from ras_server.domain.status import (
    CLIENT_STATUS,
    BatchState,
    ClientStatus,
    PhaseRecord,
    PhaseStatus,
    apply_outcome,
    derive,
)

PHASES = ["spellcheck", "cj_assessment"]


def rec(status: str, t: float = 1.0) -> PhaseRecord:
    return PhaseRecord(PhaseStatus(status), t, t if PhaseStatus(status).terminal else None, t)


def test_current_phase_only_while_processing():
    essays = {"e1": {"spellcheck": rec("started")}}
    assert derive(BatchState.READY_FOR_PIPELINE_EXECUTION, PHASES, {}, "").current_phase == ""
    assert derive(BatchState.CANCELLED, PHASES, essays, "cj_assessment").current_phase == ""
    assert derive(BatchState.AWAITING_CONTENT_VALIDATION, PHASES, essays, "").current_phase == "spellcheck"


def test_spellcheck_first_then_cj_then_none():
    mixed = {"e1": {"spellcheck": rec("completed")}, "e2": {"spellcheck": rec("started")}}
    assert derive(BatchState.PROCESSING_PIPELINES, PHASES, mixed, "").current_phase == "spellcheck"
    spelled = {
        "e1": {"spellcheck": rec("completed")},
        "e2": {"spellcheck": rec("failed"), "cj_assessment": rec("started")},
    }
    assert derive(BatchState.PROCESSING_PIPELINES, PHASES, spelled, "").current_phase == "cj_assessment"
    done = {"e1": {"spellcheck": rec("completed"), "cj_assessment": rec("cancelled")}}
    derived = derive(BatchState.PROCESSING_PIPELINES, PHASES, done, "")
    assert derived.current_phase == "" and derived.state.terminal


def test_orchestrator_phase_only_when_no_essay_is_known():
    assert derive(BatchState.PROCESSING_PIPELINES, PHASES, {}, "cj_assessment").current_phase == "cj_assessment"
    with_essay = {"e1": {"spellcheck": rec("completed"), "cj_assessment": rec("started")}}
    assert derive(BatchState.PROCESSING_PIPELINES, PHASES, with_essay, "spellcheck").current_phase == "cj_assessment"


@pytest.mark.parametrize(
    ("outcomes", "state", "completed", "failed"),
    [
        ({"e1": ("completed", "completed"), "e2": ("completed", "completed")}, BatchState.COMPLETED_SUCCESSFULLY, 2, 0),
        ({"e1": ("completed", "completed"), "e2": ("failed", "completed")}, BatchState.COMPLETED_WITH_FAILURES, 1, 1),
        ({"e1": ("failed", "failed"), "e2": ("completed", "failed")}, BatchState.FAILED_CRITICALLY, 0, 2),
        ({"e1": ("completed", "completed"), "e2": ("completed", None)}, BatchState.PROCESSING_PIPELINES, 1, 0),
    ],
)
def test_complete_only_when_every_requested_phase_is_done(outcomes, state, completed, failed):
    essays = {e: {p: rec(s) for p, s in zip(PHASES, statuses, strict=True) if s} for e, statuses in outcomes.items()}
    derived = derive(BatchState.AWAITING_CONTENT_VALIDATION, PHASES, essays, "")
    assert (derived.state, derived.completed_essays, derived.failed_essays) == (state, completed, failed)


def test_terminal_batch_states_are_final():
    essays = {"e1": {"spellcheck": rec("started")}}
    assert derive(BatchState.CANCELLED, PHASES, essays, "").state is BatchState.CANCELLED


def test_outcomes_never_move_backwards():
    done = apply_outcome(None, PhaseStatus.COMPLETED, 10.0)
    assert done.start_time == 10.0 and done.end_time == 10.0
    assert apply_outcome(done, PhaseStatus.STARTED, 5.0) is None, "a late 'started' does not reopen a phase"
    assert apply_outcome(done, PhaseStatus.FAILED, 9.0) is None, "an older terminal outcome loses"
    assert apply_outcome(done, PhaseStatus.FAILED, 11.0).status is PhaseStatus.FAILED
    started = apply_outcome(None, PhaseStatus.STARTED, 3.0)
    finished = apply_outcome(started, PhaseStatus.COMPLETED, 8.0)
    assert (finished.start_time, finished.end_time) == (3.0, 8.0)
    assert apply_outcome(started, PhaseStatus.STARTED, 4.0) is None


def test_every_state_has_one_client_status():
    assert set(CLIENT_STATUS) == set(BatchState)
    assert CLIENT_STATUS[BatchState.STUDENT_VALIDATION_COMPLETED] is ClientStatus.PROCESSING
    assert CLIENT_STATUS[BatchState.FAILED_CRITICALLY] is ClientStatus.FAILED
