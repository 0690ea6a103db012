"""The decision is total, and with judgements in flight it waits or refills the window, never stops early."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cj_server.domain.stopping import Action, Progress, StoppingPolicy, StopReason

BASE = Progress(
    n_items=10,
    budget=50,
    attempts=20,
    pending=0,
    succeeded=20,
    failed=0,
    retryable=0,
    informative_pairs_left=True,
    all_pairs_judged=False,
    reliability=0.5,
    target_reliability=0.9,
    single_wave=False,
    waves=4,
)
POLICY = StoppingPolicy()


def decide(**changes):
    return POLICY.decide(Progress(**{**BASE.__dict__, **changes}))


def test_each_state_has_one_decision():
    assert decide().action is Action.SUBMIT
    assert decide(pending=3).action is Action.WAIT
    assert decide(pending=3, window_room=2).action is Action.SUBMIT
    assert decide(reliability=0.95).stop_reason is StopReason.TARGET_RELIABILITY
    assert decide(reliability=0.95, pending=3, window_room=2).action is Action.WAIT  # drain, then finalize
    assert decide(attempts=50).stop_reason is StopReason.BUDGET_SPENT
    assert decide(attempts=50, pending=2, window_room=5).action is Action.WAIT
    assert decide(informative_pairs_left=False).stop_reason is StopReason.NO_INFORMATIVE_PAIR
    assert decide(informative_pairs_left=False, all_pairs_judged=True).stop_reason is StopReason.ALL_PAIRS_JUDGED
    assert decide(informative_pairs_left=False, retryable=2).action is Action.SUBMIT
    assert decide(failed=30, succeeded=5).action is Action.FAIL
    assert decide(attempts=50, succeeded=0, failed=5).action is Action.FAIL
    assert decide(single_wave=True, waves=1).action is Action.FINALIZE
    assert decide(single_wave=True, waves=1, pending=4, window_room=9).action is Action.WAIT


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 100),
    st.integers(0, 100),
    st.integers(0, 100),
    st.integers(0, 100),
    st.integers(0, 5),
    st.booleans(),
    st.booleans(),
    st.floats(0, 1),
    st.booleans(),
    st.integers(0, 5),
    st.integers(0, 20),
)
def test_decision_is_total(
    attempts, pending, succeeded, failed, retryable, informative, all_judged, reliability, single, waves, room
):
    decision = POLICY.decide(
        Progress(
            n_items=10,
            budget=50,
            attempts=attempts,
            pending=pending,
            succeeded=succeeded,
            failed=failed,
            retryable=retryable,
            informative_pairs_left=informative,
            all_pairs_judged=all_judged,
            reliability=reliability,
            target_reliability=0.9,
            single_wave=single,
            waves=waves,
            window_room=room,
        )
    )
    assert decision.action in set(Action)
    if decision.action is Action.FINALIZE:
        assert decision.stop_reason is not StopReason.NONE and succeeded > 0 and pending == 0
    if decision.action is Action.SUBMIT and pending > 0:
        assert room > 0 and not single and attempts < 50


def test_the_target_stop_compares_exactly_the_reported_figure():
    """Progress.reliability is the reported honest estimate; the stop fires at it and not a hair below."""
    assert decide(reliability=0.9).stop_reason is StopReason.TARGET_RELIABILITY
    assert decide(reliability=0.8999).action is Action.SUBMIT
    assert decide(reliability=0.95, succeeded=9).action is Action.SUBMIT  # fewer than min_rounds per essay
    assert "0.900" in decide(reliability=0.9).reason
