"""What of a proposed wave the runner admits, and the re-send backoff."""

from __future__ import annotations

from cj_server.domain.scheduling import Backoff, admit


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
