"""Adaptive pair selection: the most informative pairs among the essays that are free.

Information. Under the current posterior (scores theta, covariance S), judging
the ordered pair (i, j) is worth

    I(i, j) = p (1 - p) * Var(theta_i - theta_j),     p = sigma(theta_i - theta_j),

the Fisher information of one Bernoulli outcome times the posterior variance of
the difference it measures (the expected reduction of that variance, to first
order). Close pairs (p near 1/2) with uncertain scores are worth most.
Var(theta_i - theta_j) comes from the fit: exact (S_ii + S_jj - 2 S_ij) for small
assessments, the conditional approximation 1/P_ii + 1/P_jj above the fit's dense
threshold (see `bradley_terry`).

Deterministic judges. An LLM at temperature 0 gives the same verdict to the same
ordered pair, so a repeat in the same order is worth nothing and is never asked;
the swapped order is fresh information and is a candidate like any other pair.
`AskedPairs` holds the ordered pairs already judged, in flight or failed, as a
sorted array of keys first * n + second: O(judgements) memory, vectorised lookups.

Capacity. No wave barrier: comparisons are in flight while new ones are chosen.
`capacity[i]` is how many new comparisons essay i may join now (its in-flight
limit minus its comparisons in flight). The choice is greedy on I over the
candidates, in two passes: first every essay at most once (so new pairs spread
over the essays, as a wave that covers everyone), then what capacity is left.
With every essay free and capacity 1 this is the classic coverage wave (with an
odd count, the last essay joins its best partner a second time).

Candidates are all pairs for small sets and, for large ones, pairs within
`window` places of each other in the current ranking, which holds nearly all the
information; essays left without a partner there are matched among themselves.
The shown order balances first and second positions per essay; the random
generator only breaks ties.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

FULL_CANDIDATES_BELOW = 400
MAX_LEFTOVERS_ALL_PAIRS = 600


@dataclass(frozen=True)
class AskedPairs:
    """Ordered pairs (first, second) already asked, as sorted unique keys first * n + second."""

    n: int
    keys: np.ndarray

    @classmethod
    def of(cls, n: int, first: Any, second: Any) -> AskedPairs:
        first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
        return cls(n, np.unique(first * n + second))

    @classmethod
    def none(cls, n: int) -> AskedPairs:
        return cls(n, np.zeros(0, dtype=np.int64))

    def contains(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        query = np.asarray(i, dtype=np.int64) * self.n + np.asarray(j, dtype=np.int64)
        if len(self.keys) == 0:
            return np.zeros(query.shape, dtype=bool)
        where = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        return np.asarray(self.keys[where] == query)

    def with_pairs(self, pairs: list[tuple[int, int]]) -> AskedPairs:
        if not pairs:
            return self
        array = np.asarray(pairs, dtype=np.int64)
        return AskedPairs(self.n, np.union1d(self.keys, array[:, 0] * self.n + array[:, 1]))

    def all_asked(self) -> bool:
        """Every ordered pair of distinct essays has been asked."""
        diagonal = np.count_nonzero(self.keys // self.n == self.keys % self.n)
        return bool(len(self.keys) - diagonal >= self.n * (self.n - 1))


@dataclass(frozen=True)
class PairingState:
    scores: np.ndarray
    difference_variance: Callable[[np.ndarray, np.ndarray], np.ndarray]
    asked: AskedPairs
    first_counts: np.ndarray  # times each essay was shown first (in flight included)
    second_counts: np.ndarray
    capacity: np.ndarray | None = None  # new comparisons each essay may join now; None: one each

    @classmethod
    def prior(
        cls,
        n: int,
        alpha: float,
        asked: AskedPairs,
        first_counts: np.ndarray | None = None,
        second_counts: np.ndarray | None = None,
    ) -> PairingState:
        """Before any judgement: every difference has the prior variance 2 / alpha."""
        return cls(
            np.zeros(n),
            lambda i, j: np.full(len(i), 2.0 / alpha),
            asked,
            np.zeros(n) if first_counts is None else first_counts,
            np.zeros(n) if second_counts is None else second_counts,
        )

    @classmethod
    def from_covariance(
        cls,
        scores: np.ndarray,
        covariance: np.ndarray,
        asked: AskedPairs,
        first_counts: np.ndarray,
        second_counts: np.ndarray,
    ) -> PairingState:
        def variance(i: np.ndarray, j: np.ndarray) -> np.ndarray:
            return np.asarray(np.maximum(covariance[i, i] + covariance[j, j] - 2.0 * covariance[i, j], 0.0))

        return cls(scores, variance, asked, first_counts, second_counts)


def candidate_pairs(
    scores: np.ndarray, window: int, full_below: int = FULL_CANDIDATES_BELOW
) -> tuple[np.ndarray, np.ndarray]:
    """Unordered candidate pairs (i < j)."""
    n = len(scores)
    if n <= full_below:
        i, j = np.triu_indices(n, k=1)
        return i, j
    order = np.argsort(scores, kind="stable")
    left = np.repeat(np.arange(n), window)
    offset = np.tile(np.arange(1, window + 1), n)
    right = left + offset
    keep = right < n
    a, b = order[left[keep]], order[right[keep]]
    return np.minimum(a, b), np.maximum(a, b)


def information(state: PairingState, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    diff = state.scores[i] - state.scores[j]
    p = 1.0 / (1.0 + np.exp(-diff))
    return np.asarray(p * (1.0 - p) * np.maximum(state.difference_variance(i, j), 0.0))


@dataclass
class _Candidates:
    i: np.ndarray
    j: np.ndarray
    open_ij: np.ndarray
    open_ji: np.ndarray
    weight: np.ndarray


def _candidates(
    state: PairingState, i: np.ndarray, j: np.ndarray, free: np.ndarray, rng: np.random.Generator
) -> _Candidates:
    open_ij, open_ji = ~state.asked.contains(i, j), ~state.asked.contains(j, i)
    usable = (open_ij | open_ji) & free[i] & free[j]
    i, j, open_ij, open_ji = i[usable], j[usable], open_ij[usable], open_ji[usable]
    # ties (e.g. the first wave) are broken at random, not by index
    weight = information(state, i, j) * (1.0 + 1e-9 * rng.random(len(i)))
    return _Candidates(i, j, open_ij, open_ji, weight)


def next_wave(
    state: PairingState,
    rng: np.random.Generator,
    *,
    max_pairs: int,
    window: int = 30,
    excluded: np.ndarray | None = None,
) -> list[tuple[int, int]]:
    """Up to `max_pairs` ordered pairs (first, second) within every essay's capacity.
    `excluded[i]` leaves essay i out."""
    n = len(state.scores)
    if n < 2 or max_pairs <= 0:
        return []
    capacity = np.ones(n, dtype=np.int64) if state.capacity is None else state.capacity.astype(np.int64).copy()
    if excluded is not None:
        capacity[excluded] = 0
    free = capacity > 0
    if free.sum() < 2:
        return []
    i, j = candidate_pairs(state.scores, window)
    found = _candidates(state, i, j, free, rng)
    used = np.zeros(n, dtype=np.int64)
    chosen: set[tuple[int, int]] = set()
    wave = _greedy(state, found, capacity, used, chosen, max_pairs, once=True, rng=rng)
    lonely = np.flatnonzero((used == 0) & free)
    if len(lonely) > 1 and len(wave) < max_pairs:
        # the ranking window was used up around them: match the leftovers among themselves
        wave += _match_leftovers(state, rng, lonely, capacity, used, chosen, max_pairs - len(wave), window)
        lonely = np.flatnonzero((used == 0) & free)
    if len(lonely) == 1 and len(wave) < max_pairs:
        partner = _best_partner(state, int(lonely[0]), found, capacity, used, chosen)
        if partner is not None:
            wave.append(partner)
    if len(wave) < max_pairs and np.any(capacity - used > 1):
        wave += _greedy(state, found, capacity, used, chosen, max_pairs - len(wave), once=False, rng=rng)
    return wave


def _greedy(
    state: PairingState,
    found: _Candidates,
    capacity: np.ndarray,
    used: np.ndarray,
    chosen: set[tuple[int, int]],
    room: int,
    *,
    once: bool,
    rng: np.random.Generator,
) -> list[tuple[int, int]]:
    limit = np.minimum(capacity, 1) if once else capacity
    pairs: list[tuple[int, int]] = []
    if room <= 0 or len(found.i) == 0:
        return pairs
    for k in np.argsort(-found.weight, kind="stable"):
        a, b = int(found.i[k]), int(found.j[k])
        if used[a] >= limit[a] or used[b] >= limit[b] or (a, b) in chosen:
            continue
        used[a] += 1
        used[b] += 1
        chosen.add((a, b))
        pairs.append(orient(state, a, b, bool(found.open_ij[k]), bool(found.open_ji[k]), rng))
        if len(pairs) >= room:
            break
    return pairs


def _match_leftovers(
    state: PairingState,
    rng: np.random.Generator,
    lonely: np.ndarray,
    capacity: np.ndarray,
    used: np.ndarray,
    chosen: set[tuple[int, int]],
    room: int,
    window: int,
) -> list[tuple[int, int]]:
    if len(lonely) <= MAX_LEFTOVERS_ALL_PAIRS:
        a, b = np.triu_indices(len(lonely), k=1)
    else:
        a, b = candidate_pairs(state.scores[lonely], window, full_below=0)
        a, b = np.minimum(a, b), np.maximum(a, b)
    free = np.zeros(len(state.scores), dtype=bool)
    free[lonely] = True
    found = _candidates(state, lonely[a], lonely[b], free, rng)
    return _greedy(state, found, capacity, used, chosen, room, once=True, rng=rng)


def _best_partner(
    state: PairingState,
    lone: int,
    found: _Candidates,
    capacity: np.ndarray,
    used: np.ndarray,
    chosen: set[tuple[int, int]],
) -> tuple[int, int] | None:
    involved = np.flatnonzero((found.i == lone) | (found.j == lone))
    # without explicit capacities (a coverage wave) the odd essay's partner may appear twice
    room = capacity - used if state.capacity is not None else np.ones_like(used)
    partner = np.where(found.i[involved] == lone, found.j[involved], found.i[involved])
    keep = room[partner] > 0
    involved = involved[keep]
    if len(involved) == 0:
        return None
    k = involved[np.argmax(found.weight[involved])]
    a, b = int(found.i[k]), int(found.j[k])
    if (a, b) in chosen:
        return None
    used[a] += 1
    used[b] += 1
    chosen.add((a, b))
    return orient(state, a, b, bool(found.open_ij[k]), bool(found.open_ji[k]), None)


def orient(
    state: PairingState, a: int, b: int, a_first_open: bool, b_first_open: bool, rng: np.random.Generator | None
) -> tuple[int, int]:
    """Show first the essay that has been first less often (net of being second)."""
    if not b_first_open:
        return a, b
    if not a_first_open:
        return b, a
    lean_a = state.first_counts[a] - state.second_counts[a]
    lean_b = state.first_counts[b] - state.second_counts[b]
    if lean_a != lean_b:
        return (a, b) if lean_a < lean_b else (b, a)
    if rng is not None and rng.random() < 0.5:
        return b, a
    return a, b


def any_open_pair(asked: AskedPairs) -> bool:
    return not asked.all_asked()
