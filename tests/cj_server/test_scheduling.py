"""When the runner steps the engine, the in-flight window, and the re-send backoff."""

from __future__ import annotations

from cj_server.domain.scheduling import Backoff, Window, admit, worth_stepping
from cj_server.domain.stopping import StoppingPolicy

WINDOW = Window(in_flight=100, per_essay=2, refill_fraction=0.1)
POLICY = StoppingPolicy(max_failure_rate=0.5, min_failures_to_fail=10)


def step(pending: int, succeeded: int = 50, failed: int = 0, windowed: bool = True, n: int = 200) -> bool:
    return worth_stepping(
        n_items=n,
        pending=pending,
        succeeded=succeeded,
        failed=failed,
        window=WINDOW,
        policy=POLICY,
        windowed_engine=windowed,
    )


def test_the_window_never_exceeds_what_the_essays_can_take():
    assert WINDOW.limit(10) == 10  # 10 essays x 2 per essay / 2
    assert WINDOW.limit(10_000) == 100
    assert WINDOW.chunk(10_000) == 10 and WINDOW.chunk(3) == 1


def test_a_result_while_the_engine_can_only_wait_does_not_step():
    assert not step(pending=95), "room for 5 < a refill chunk of 10"
    assert step(pending=90), "room for a chunk"
    assert step(pending=0)
    assert not step(pending=1, windowed=False), "the wave engine waits for its whole wave"
    assert step(pending=0, windowed=False)


def test_too_many_failures_step_at_once_so_the_assessment_can_fail():
    assert step(pending=99, succeeded=5, failed=11, windowed=False)
    assert not step(pending=99, succeeded=50, failed=11, windowed=False)


def test_backoff_grows_is_capped_and_honours_retry_info():
    backoff = Backoff(initial_seconds=0.5, max_seconds=5)
    assert [backoff.delay(k, None) for k in (1, 2, 3, 10)] == [0.5, 1.0, 2.0, 5.0]
    assert backoff.delay(1, 3.0) == 3.0, "the server's RetryInfo, not sooner"
    assert backoff.delay(1, 60.0) == 5.0 and backoff.delay(1, 0.01) == 0.5


def test_admit_keeps_the_window_and_the_per_essay_limit_in_order():
    wave = [(0, 1), (2, 3), (0, 4), (5, 6), (7, 8)]
    assert admit(wave, in_flight=[], room=10, per_essay=1) == [(0, 1), (2, 3), (5, 6), (7, 8)]
    assert admit(wave, in_flight=[(5, 9)], room=2, per_essay=1) == [(0, 1), (2, 3)]
    assert admit(wave, in_flight=[(0, 9)], room=10, per_essay=2) == [(0, 1), (2, 3), (5, 6), (7, 8)]
    assert admit(wave, in_flight=[], room=0, per_essay=5) == []
