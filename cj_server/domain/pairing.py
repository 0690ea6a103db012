"""Adaptive pair selection: waves that cover every essay with the most informative pairs.

Information. Under the current posterior (scores theta, covariance S), judging
the ordered pair (i, j) is worth

    I(i, j) = p (1 - p) * Var(theta_i - theta_j),     p = sigma(theta_i - theta_j),
    Var(theta_i - theta_j) = S_ii + S_jj - 2 S_ij,

the Fisher information of one Bernoulli outcome times the prior variance of the
difference it measures (the expected reduction of that variance, to first order).
Close pairs (p near 1/2) with uncertain scores are worth most.

Deterministic judges. An LLM at temperature 0 gives the same verdict to the same
ordered pair, so a repeat in the same order is worth nothing and is never asked;
the swapped order is fresh information and is a candidate like any other pair.

A wave is a greedy maximum-weight matching on I over the candidates, so every
essay appears once (with an odd count, the last essay joins its best partner a
second time). Candidates are all pairs for small sets and, for large ones, pairs
within `window` places of each other in the current ranking, which holds nearly
all the information. The shown order balances first and second positions per
essay; the random generator only breaks ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PairingState:
    scores: np.ndarray
    covariance: np.ndarray
    asked: np.ndarray  # asked[i, j]: the ordered pair (i first, j second) was judged or is pending
    first_counts: np.ndarray  # times each essay was shown first
    second_counts: np.ndarray


def candidate_pairs(scores: np.ndarray, window: int, full_below: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Unordered candidate pairs (i < j)."""
    n = len(scores)
    if n <= full_below:
        i, j = np.triu_indices(n, k=1)
        return i, j
    order = np.argsort(scores)
    left = np.repeat(np.arange(n), window)
    offset = np.tile(np.arange(1, window + 1), n)
    right = left + offset
    keep = right < n
    a, b = order[left[keep]], order[right[keep]]
    return np.minimum(a, b), np.maximum(a, b)


def information(state: PairingState, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    diff = state.scores[i] - state.scores[j]
    p = 1.0 / (1.0 + np.exp(-diff))
    cov = state.covariance
    variance = cov[i, i] + cov[j, j] - 2.0 * cov[i, j]
    return p * (1.0 - p) * np.maximum(variance, 0.0)


def next_wave(
    state: PairingState,
    rng: np.random.Generator,
    *,
    max_pairs: int,
    window: int = 30,
    excluded: np.ndarray | None = None,
) -> list[tuple[int, int]]:
    """Up to `max_pairs` ordered pairs (first, second), each essay at most once where possible.
    `excluded[i]` leaves essay i out of the wave."""
    n = len(state.scores)
    if n < 2 or max_pairs <= 0:
        return []
    i, j = candidate_pairs(state.scores, window)
    open_ij, open_ji = ~state.asked[i, j], ~state.asked[j, i]
    usable = open_ij | open_ji
    if excluded is not None:
        usable &= ~excluded[i] & ~excluded[j]
    i, j, open_ij, open_ji = i[usable], j[usable], open_ij[usable], open_ji[usable]
    if len(i) == 0:
        return []
    # ties (e.g. the first wave) are broken at random, not by index
    weight = information(state, i, j) * (1.0 + 1e-9 * rng.random(len(i)))
    order = np.argsort(-weight, kind="stable")
    used = np.zeros(n, dtype=bool)
    wave: list[tuple[int, int]] = []
    for k in order:
        a, b = int(i[k]), int(j[k])
        if used[a] or used[b]:
            continue
        used[a] = used[b] = True
        wave.append(orient(state, a, b, bool(open_ij[k]), bool(open_ji[k]), rng))
        if len(wave) >= max_pairs:
            return wave
    lonely = [x for x in range(n) if not used[x] and (excluded is None or not excluded[x])]
    if len(lonely) > 1 and len(wave) < max_pairs:
        # the ranking window was used up around them: match the leftovers among themselves
        wave += _match_leftovers(state, rng, np.array(lonely), used, max_pairs - len(wave))
        lonely = [x for x in lonely if not used[x]]
    if len(lonely) == 1 and len(wave) < max_pairs:
        partner = best_partner(state, lonely[0], i, j, open_ij, open_ji, weight)
        if partner is not None:
            wave.append(partner)
    return wave


def _match_leftovers(
    state: PairingState, rng: np.random.Generator, lonely: np.ndarray, used: np.ndarray, room: int
) -> list[tuple[int, int]]:
    a, b = np.triu_indices(len(lonely), k=1)
    i, j = lonely[a], lonely[b]
    open_ij, open_ji = ~state.asked[i, j], ~state.asked[j, i]
    usable = open_ij | open_ji
    i, j, open_ij, open_ji = i[usable], j[usable], open_ij[usable], open_ji[usable]
    weight = information(state, i, j) * (1.0 + 1e-9 * rng.random(len(i)))
    pairs: list[tuple[int, int]] = []
    for k in np.argsort(-weight, kind="stable"):
        x, y = int(i[k]), int(j[k])
        if used[x] or used[y]:
            continue
        used[x] = used[y] = True
        pairs.append(orient(state, x, y, bool(open_ij[k]), bool(open_ji[k]), rng))
        if len(pairs) >= room:
            break
    return pairs


def best_partner(state: PairingState, lone: int, i, j, open_ij, open_ji, weight) -> tuple[int, int] | None:
    involved = np.flatnonzero((i == lone) | (j == lone))
    if len(involved) == 0:
        return None
    k = involved[np.argmax(weight[involved])]
    return orient(state, int(i[k]), int(j[k]), bool(open_ij[k]), bool(open_ji[k]), None)


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


def all_pairs_asked(asked: np.ndarray) -> bool:
    n = asked.shape[0]
    off_diagonal = ~np.eye(n, dtype=bool)
    return bool(asked[off_diagonal].all())
