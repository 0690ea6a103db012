"""Pair selection: coverage, no repeated ordered pair, close pairs first, capacities respected."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cj_server.domain.pairing import AskedPairs, PairingState, next_wave


def state(n: int, asked: AskedPairs | None = None, scores=None, capacity=None) -> PairingState:
    base = PairingState.prior(n, 1.0, asked if asked is not None else AskedPairs.none(n))
    return PairingState(
        base.scores if scores is None else scores,
        base.difference_variance,
        base.asked,
        base.first_counts,
        base.second_counts,
        capacity,
    )


@pytest.mark.parametrize("n", [2, 7, 30, 501])
def test_a_wave_covers_every_essay_once(n):
    wave = next_wave(state(n), np.random.default_rng(0), max_pairs=n)
    seen = [x for pair in wave for x in pair]
    assert set(seen) == set(range(n))
    assert len(seen) - len(set(seen)) == (n % 2)  # with an odd count one essay appears twice


def test_never_repeats_an_ordered_pair_and_uses_the_swap():
    n = 4
    everything = [(a, b) for a in range(n) for b in range(n) if a != b and (a, b) != (1, 0)]
    asked = AskedPairs.none(n).with_pairs(everything)
    assert not asked.all_asked()
    wave = next_wave(state(n, asked), np.random.default_rng(0), max_pairs=2)
    assert wave == [(1, 0)]
    assert asked.with_pairs([(1, 0)]).all_asked()


def test_asked_pairs_lookup():
    asked = AskedPairs.of(10, [1, 2, 9], [2, 1, 0])
    assert list(asked.contains(np.array([1, 2, 9, 0, 2]), np.array([2, 1, 0, 9, 3]))) == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_prefers_close_pairs():
    scores = np.array([-3.0, -2.9, 2.9, 3.0])
    wave = next_wave(state(4, scores=scores), np.random.default_rng(0), max_pairs=2)
    assert {frozenset(p) for p in wave} == {frozenset({0, 1}), frozenset({2, 3})}


def test_a_wave_for_2000_essays():
    n = 2000
    rng = np.random.default_rng(0)
    wave = next_wave(state(n, scores=rng.normal(size=n)), rng, max_pairs=n)
    assert len(wave) == n // 2


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40), st.integers(0, 3), st.integers(1, 60), st.integers(0, 10_000))
def test_capacity_is_never_exceeded(n, limit, max_pairs, seed):
    rng = np.random.default_rng(seed)
    capacity = rng.integers(0, limit + 1, n)
    asked = AskedPairs.of(n, rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n))
    wave = next_wave(state(n, asked, rng.normal(size=n), capacity), rng, max_pairs=max_pairs)
    assert len(wave) <= max_pairs
    counts = np.bincount(np.array(wave, dtype=int).ravel(), minlength=n) if wave else np.zeros(n)
    assert np.all(counts <= capacity)
    assert not any(asked.contains(np.array([a]), np.array([b]))[0] for a, b in wave)
    assert len({frozenset(p) for p in wave}) == len(wave)


def test_spare_capacity_pairs_freed_essays_with_busy_ones():
    n = 10
    capacity = np.array([2, 2] + [1] * 8)
    capacity[2:] = 1
    wave = next_wave(state(n, capacity=capacity), np.random.default_rng(1), max_pairs=20)
    counts = np.bincount(np.array(wave).ravel(), minlength=n)
    assert counts.sum() == 2 * len(wave) and np.all(counts <= capacity) and counts.sum() >= 10
