"""Reliability estimates: bounded, and tracking the truth where the design is random."""

from __future__ import annotations

import numpy as np

from cj_server.domain.bradley_terry import Comparisons, fit
from cj_server.domain.reliability import scale_separation_reliability, split_half_reliability
from tests.cj_server.simulate import simulated


def test_split_half_tracks_the_truth_and_ssr_is_bounded():
    theta, comparisons = simulated(60, 900, 5)
    result = fit(comparisons)
    truth = np.corrcoef(result.scores, theta)[0, 1] ** 2
    split = split_half_reliability(comparisons, np.random.default_rng(0), alpha=0.1)
    assert abs(split - truth) < 0.08
    assert 0 <= scale_separation_reliability(result) <= 1


def test_no_judgements_no_reliability():
    assert split_half_reliability(Comparisons.from_outcomes(5, []), np.random.default_rng(0), alpha=0.1) == 0
