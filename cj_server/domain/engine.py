"""One step of an assessment: fit what has been judged, measure reliability, decide,
and when the decision is to go on, choose the next wave (failed pairs to retry first).

Items are numbered 0..n-1 (students and anchors alike; the judge cannot tell them
apart). The caller supplies the state; nothing here reads a clock or a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cj_server.domain.bradley_terry import Comparisons, Fit, fit
from cj_server.domain.pairing import PairingState, all_pairs_asked, next_wave
from cj_server.domain.reliability import scale_separation_reliability, split_half_lower_bound
from cj_server.domain.stopping import Decision, Progress, StoppingPolicy


@dataclass(frozen=True)
class EngineConfig:
    alpha: float = 0.1
    fit_position_bias: bool = True
    max_attempts_per_pair: int = 3
    window: int = 30
    policy: StoppingPolicy = field(default_factory=StoppingPolicy)
    split_half_splits: int = 8


@dataclass(frozen=True)
class State:
    n_items: int
    budget: int
    target_reliability: float
    single_wave: bool
    waves: int
    attempts: int  # attempts made, retries included
    succeeded: list[tuple[int, int, bool]]  # (first, second, first_won)
    pending: list[tuple[int, int]]
    failed: dict[tuple[int, int], int]  # ordered pair -> failed attempts, for pairs with no success yet
    seed: int = 0


@dataclass(frozen=True)
class Step:
    decision: Decision
    wave: list[tuple[int, int]]
    fit: Fit | None
    ssr: float
    split_half: float


def fit_state(state: State, config: EngineConfig) -> Fit | None:
    if not state.succeeded:
        return None
    comparisons = Comparisons.from_outcomes(state.n_items, state.succeeded)
    return fit(comparisons, alpha=config.alpha, fit_position_bias=config.fit_position_bias)


def step(state: State, config: EngineConfig) -> Step:
    rng = np.random.default_rng([state.seed, state.waves, state.attempts])
    current = fit_state(state, config)
    ssr = scale_separation_reliability(current) if current else 0.0
    split, split_lower = (
        split_half_lower_bound(
            Comparisons.from_outcomes(state.n_items, state.succeeded),
            rng,
            alpha=config.alpha,
            splits=config.split_half_splits,
        )
        if current
        else (0.0, 0.0)
    )
    asked = _asked(state, config)
    retry = [
        pair
        for pair, failures in state.failed.items()
        if failures < config.max_attempts_per_pair and pair not in set(state.pending)
    ]
    pairing = _pairing_state(state, current, asked, config)
    room = state.budget - state.attempts
    candidates = next_wave(pairing, rng, max_pairs=1, window=config.window) if room > len(retry) else []
    progress = Progress(
        n_items=state.n_items,
        budget=state.budget,
        attempts=state.attempts,
        pending=len(state.pending),
        succeeded=len(state.succeeded),
        failed=sum(state.failed.values()),
        retryable=len(retry),
        informative_pairs_left=bool(candidates),
        all_pairs_judged=all_pairs_asked(asked),
        reliability=split_lower,
        target_reliability=state.target_reliability,
        single_wave=state.single_wave,
        waves=state.waves,
    )
    decision = config.policy.decide(progress)
    wave: list[tuple[int, int]] = []
    if decision.action.value == "submit":
        wave = retry[:room]
        room -= len(wave)
        if state.single_wave:
            wave += _all_up_to(pairing, rng, room, config)
        elif room > 0:
            busy = np.zeros(state.n_items, dtype=bool)
            for first, second in wave:
                busy[first] = busy[second] = True
            wave += next_wave(
                pairing,
                rng,
                max_pairs=min(room, state.n_items // 2 + 1),
                window=config.window,
                excluded=busy if busy.any() else None,
            )
    return Step(decision, wave, current, ssr, split)


def _asked(state: State, config: EngineConfig) -> np.ndarray:
    asked = np.eye(state.n_items, dtype=bool)
    for first, second, _ in state.succeeded:
        asked[first, second] = True
    for first, second in state.pending:
        asked[first, second] = True
    for (first, second), _failures in state.failed.items():
        asked[first, second] = True  # retried through the retry list, never as a new pair
    return asked


def _pairing_state(state: State, current: Fit | None, asked: np.ndarray, config: EngineConfig) -> PairingState:
    n = state.n_items
    first_counts, second_counts = np.zeros(n), np.zeros(n)
    for first, second, _ in state.succeeded:
        first_counts[first] += 1
        second_counts[second] += 1
    for first, second in state.pending:
        first_counts[first] += 1
        second_counts[second] += 1
    if current is None:
        return PairingState(np.zeros(n), np.eye(n) / config.alpha, asked, first_counts, second_counts)
    return PairingState(current.scores, current.covariance, asked, first_counts, second_counts)


def _all_up_to(
    pairing: PairingState, rng: np.random.Generator, room: int, config: EngineConfig
) -> list[tuple[int, int]]:
    """provider_batch_api: every pair up to the budget in one wave, built from successive
    coverage rounds (each essay once per round) so the comparisons spread evenly."""
    asked = pairing.asked.copy()
    firsts, seconds = pairing.first_counts.copy(), pairing.second_counts.copy()
    wave: list[tuple[int, int]] = []
    while len(wave) < room:
        state = PairingState(pairing.scores, pairing.covariance, asked, firsts, seconds)
        round_pairs = next_wave(state, rng, max_pairs=room - len(wave), window=config.window)
        if not round_pairs:
            break
        for first, second in round_pairs:
            asked[first, second] = True
            firsts[first] += 1
            seconds[second] += 1
        wave += round_pairs
    return wave
