"""What of a proposed wave the runner admits."""

from __future__ import annotations

from cj_server.domain.scheduling import admit


def test_admit_keeps_the_window_and_the_per_essay_limit_in_order():
    wave = [(0, 1), (2, 3), (0, 4), (5, 6), (7, 8)]
    assert admit(wave, in_flight=[], room=10, per_essay=1) == [(0, 1), (2, 3), (5, 6), (7, 8)]
    assert admit(wave, in_flight=[(5, 9)], room=2, per_essay=1) == [(0, 1), (2, 3)]
    assert admit(wave, in_flight=[(0, 9)], room=10, per_essay=2) == [(0, 1), (2, 3), (5, 6), (7, 8)]
    assert admit(wave, in_flight=[], room=0, per_essay=5) == []
