"""Merging outcomes is a join (any order, any repeats, one record); views skip after failures."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from ras_server.domain.phases import (
    IMPLIED,
    EssayState,
    Flags,
    Outcome,
    PhaseRecord,
    PhaseStatus,
    essay_view,
    merge,
)

PHASES = ("spellcheck", "cj_assessment")
REPORTABLE = [PhaseStatus.STARTED, PhaseStatus.COMPLETED, PhaseStatus.FAILED, PhaseStatus.CANCELLED]
outcomes = st.builds(
    Outcome,
    st.sampled_from(REPORTABLE),
    st.integers(0, 5).map(float),
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from([None, '{"message":"x"}']),
    st.sampled_from([1, IMPLIED]),
)


def fold(events) -> PhaseRecord | None:
    record = None
    for event in events:
        record = merge(record, event)
    return record


@given(st.lists(outcomes, min_size=1, max_size=5))
def test_any_order_and_repeats_give_one_record(events):
    expected = fold(events)
    for order in itertools.permutations(events):
        assert fold(list(order) + list(order[:1])) == expected


def test_a_late_started_never_reopens_and_a_later_terminal_wins():
    done = merge(None, Outcome(PhaseStatus.COMPLETED, 10.0, "a"))
    assert (done.start_time, done.end_time) == (10.0, 10.0)
    late = merge(done, Outcome(PhaseStatus.STARTED, 5.0, "b"))
    assert late.status is PhaseStatus.COMPLETED and late.start_time == 5.0
    assert merge(done, Outcome(PhaseStatus.FAILED, 9.0, "c")).status is PhaseStatus.COMPLETED
    assert merge(done, Outcome(PhaseStatus.FAILED, 11.0, "c")).status is PhaseStatus.FAILED


def test_an_implied_cancel_never_overwrites_a_reported_outcome():
    done = merge(None, Outcome(PhaseStatus.COMPLETED, 1.0, "a"))
    assert merge(done, Outcome(PhaseStatus.CANCELLED, 9.0, "b", authority=IMPLIED)) == done
    started = merge(None, Outcome(PhaseStatus.STARTED, 1.0, "a"))
    assert merge(started, Outcome(PhaseStatus.CANCELLED, 2.0, "b", authority=IMPLIED)).status is PhaseStatus.CANCELLED


def test_phases_after_a_failure_are_skipped_with_the_reason():
    failed = {"spellcheck": merge(None, Outcome(PhaseStatus.FAILED, 1.0, "a"))}
    view = essay_view(PHASES, failed)
    assert view.state is EssayState.FAILED and view.current_phase == ""
    assert (view.phases[1].status, view.phases[1].reason) == (PhaseStatus.SKIPPED, "spellcheck failed")


def test_batch_flags_settle_open_phases():
    started = {"spellcheck": merge(None, Outcome(PhaseStatus.STARTED, 1.0, "a"))}
    assert essay_view(PHASES, started).state is EssayState.PROCESSING
    assert essay_view(PHASES, {}).state is EssayState.PENDING
    cancelled = essay_view(PHASES, started, Flags(cancelled=True))
    assert cancelled.state is EssayState.CANCELLED and {p.status for p in cancelled.phases} == {PhaseStatus.CANCELLED}
    ended = essay_view(PHASES, started, Flags(pipeline_completed=True))
    assert ended.state is EssayState.FAILED and ended.phases[0].reason.startswith("no outcome")
