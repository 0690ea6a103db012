"""One step of an assessment: fit what has been judged, measure reliability, decide,
and when the decision is to go on, choose the pairs to send now (failed pairs to retry first).

Items are numbered 0..n-1 (students and anchors alike; the judge cannot tell them
apart). The caller supplies the state; nothing here reads a clock or a database.

No wave barrier. Up to `window(n, config)` comparisons are in flight at once and an
essay is in at most `max_in_flight_per_essay` (c) of them. `step` may be called while
comparisons are outstanding: it returns the new pairs that fit in the free room of
the window and within every essay's in-flight limit, chosen by the information
criterion on the current posterior (the in-flight pairs are excluded as if asked).
`provider_batch_api` keeps its one-batch semantics: one wave holds every pair up to
the budget, and the next step after it is answered finalizes.

The window. W = min(max_in_flight, floor(n * (1 + c) / 4)), at least 1: halfway between one
comparison per essay in flight on average (n / 2, the window before) and as many as the
per-essay limit allows (n * c / 2, every essay busy to its limit). For c = 1 both are n / 2.

Why more than n / 2. With a judge of latency L per call and k comparisons per essay (budget
B = n * k / 2) the assessment needs at least B / W rounds of calls: wall >= k * L * n / (2 W).
At W = n / 2 that floor is k * L, and the slowest call of each round holds its two essays, so
an assessment takes longer than k * mean L: 24 essays, k = 10, L ~ U(1.2, 2.0) s took 17.7 s in
the engine alone (`bench/cj_simulation.py --wall`) and 21 s through the servers, against the
target 1.2 * k * mean L = 19.2 s. At W = 3n / 4 (c = 2) the engine takes 12.7 s.

Why not n * c / 2. Pairs are chosen among the essays with free capacity. A window that keeps
every essay at its limit leaves only the essays of the comparisons just answered to choose from
(about 10 of 24 at a refill), so pairs are far apart in the ranking: at 24 essays the true
reliability at k = 10 fell by 0.034 (k = 15: 0.015), 40 seeds, sigma = 2, and it took two more
comparisons per essay to reach 0.90. Halfway keeps about n / 2 essay places free for the
choice; its cost was within noise at every size measured (24, 30, 100 essays; docs/benchmarks.md,
"CJ runtime"). `CJ_MAX_IN_FLIGHT` still caps the total.

Near the target. The stop waits for the comparisons in flight (they are paid for), so every
stopped assessment ends with about 2 W / n more comparisons per essay than it had when the
estimate reached the target: 1.5 at 3n/4 instead of 1 at n / 2. Once the estimate is within
`near_target` (0.05) of the target the window is therefore narrowed to n / 2 (`window_now`), and
the last stretch runs as before. An assessment whose target is out of reach (the latency case)
keeps the wider window throughout.

When to step. A step costs a sparse fit (O(n + judgements)). The runtime calls
`worth_stepping` after applying results: it is true when nothing is in flight (the
assessment may finalize, or must be restarted) or when the window has at least
`refill_fraction` of itself free, so stepping refills in batches instead of once
per result, and never while the decision can only be WAIT.

The honest reliability (held_out.py) costs a small search of fits. The runtime passes
the previous step's `Step.honest` back as `State.warm_honest` (and its prior variance
as `warm_prior`, its scores as `warm_start`); the estimate is then reused until the
judgements grew by `honest_refresh` (5%) and by n / 2 (one comparison per essay), so
its cost per judgement is bounded. Once the estimate is within `near_target` (0.05) of
the target it is remade every n / 8 judgements (an eighth of a comparison per essay), so
the stop lags the data by at most that. A FINALIZE always re-estimates for the result.

The stop compares `honest.estimate` (the figure the result reports first, and the
progress shows) with the target; `Step.reliability` is that figure. Split-half is
computed for the result at FINALIZE and never stopped on.
Without `warm_honest` every step re-estimates (correct, slower).

BLAS threads. The dense paths (covariance below the fit's dense threshold) call
LAPACK; `blas_threads` caps the BLAS thread pool of the whole process (threadpoolctl)
the first time a step runs with a new value, so numerics never oversubscribe cores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from cj_server.domain.bradley_terry import DENSE_MAX, Comparisons, Fit, fit
from cj_server.domain.held_out import NOT_AVAILABLE, HonestReliability, ProbeSchedule, estimate
from cj_server.domain.pairing import AskedPairs, PairingState, next_wave, orient
from cj_server.domain.reliability import scale_separation_reliability, split_half_reliability
from cj_server.domain.stopping import Action, Decision, Progress, StoppingPolicy, StopReason


@dataclass(frozen=True)
class EngineConfig:
    alpha: float = 0.1
    fit_position_bias: bool = True
    max_attempts_per_pair: int = 3
    candidate_window: int = 30  # candidate partners: this many places either side in the ranking (large n)
    policy: StoppingPolicy = field(default_factory=StoppingPolicy)
    split_half_splits: int = 8
    max_in_flight: int = 1000  # comparisons in flight at once, at most (and at most n * (1 + per essay) // 4)
    max_in_flight_per_essay: int = 2
    refill_fraction: float = 0.2  # step again once this share of the window is free
    blas_threads: int = 1
    dense_max: int = DENSE_MAX
    held_out_share: float = 0.1  # share of comparisons drawn from the random probe schedule (held_out.py)
    honest_refresh: float = 0.05  # re-estimate once the judgements grew by this share, and by n / 2 at least
    near_target: float = 0.05  # ... but within this of the target, once they grew by n * near_target_refresh
    near_target_refresh: float = 0.125  # (an eighth of a comparison per essay: the stop lags by at most that)


class EngineSettings(Protocol):
    """What `config_from_settings` reads (CjSettings has these)."""

    prior_precision: float
    max_attempts_per_pair: int
    max_failure_rate: float
    max_in_flight: int
    max_in_flight_per_essay: int
    blas_threads: int
    held_out_share: float


def config_from_settings(settings: EngineSettings) -> EngineConfig:
    """The server's engine configuration; the benchmarks use it too, so they measure the server."""
    return EngineConfig(
        alpha=settings.prior_precision,
        max_attempts_per_pair=settings.max_attempts_per_pair,
        policy=StoppingPolicy(max_failure_rate=settings.max_failure_rate),
        max_in_flight=settings.max_in_flight,
        max_in_flight_per_essay=settings.max_in_flight_per_essay,
        blas_threads=settings.blas_threads,
        held_out_share=settings.held_out_share,
    )


@dataclass(frozen=True)
class State:
    n_items: int
    budget: int
    target_reliability: float
    single_wave: bool
    waves: int
    attempts: int  # attempts made, retries included
    succeeded: list[tuple[int, int, bool]]  # (first, second, first_won)
    pending: list[tuple[int, int]]  # in flight
    failed: dict[tuple[int, int], int]  # ordered pair -> failed attempts, for pairs with no success yet
    seed: int = 0
    warm_start: np.ndarray | None = None  # the previous step's scores (Step.fit.scores), to start the fit from
    warm_prior: float | None = None  # the previous step's Step.honest.prior_variance, to start its search from
    warm_honest: HonestReliability | None = None  # the previous step's Step.honest, reused until it is stale


@dataclass(frozen=True)
class Step:
    decision: Decision
    wave: list[tuple[int, int]]  # pairs to send now
    fit: Fit | None
    ssr: float
    split_half: float  # computed when the decision is FINALIZE (0 otherwise)
    reliability: float = 0.0  # the figure the stop compared with the target: honest.estimate, as reported
    honest: HonestReliability = NOT_AVAILABLE


def window(n_items: int, config: EngineConfig) -> int:
    """Comparisons allowed in flight at once for an assessment of `n_items`: halfway between one
    per essay on average and what the per-essay limit allows, capped by `max_in_flight` (module
    docstring, "The window")."""
    return max(1, min(config.max_in_flight, n_items * (1 + config.max_in_flight_per_essay) // 4))


def window_now(state: State, config: EngineConfig, honest: HonestReliability) -> int:
    """The window for this step: narrowed to n / 2 (when that is smaller) once the honest estimate
    is within `near_target` of the target, because the stop waits for what is in flight (module
    docstring, "Near the target")."""
    size = window(state.n_items, config)
    if honest.available and honest.estimate >= state.target_reliability - config.near_target:
        return min(size, max(1, state.n_items // 2))
    return size


def worth_stepping(in_flight: int, n_items: int, config: EngineConfig, *, single_wave: bool = False) -> bool:
    """Whether a step can change anything after results were applied: O(1), pure.

    True when nothing is in flight (the step finalizes, fails, or starts more), or,
    except in provider_batch_api mode, when at least `refill_fraction` of the window
    (and at least one slot) is free. Otherwise the decision could only be WAIT."""
    if in_flight <= 0:
        return True
    if single_wave:
        return False
    size = window(n_items, config)
    return size - in_flight >= max(1, math.ceil(config.refill_fraction * size))


_blas_threads_applied: int | None = None


def limit_blas_threads(threads: int) -> None:
    """Cap the process's BLAS threads (threadpoolctl), once per distinct value."""
    global _blas_threads_applied
    if threads > 0 and threads != _blas_threads_applied:
        threadpool_limits(limits=threads, user_api="blas")
        _blas_threads_applied = threads


def fit_state(state: State, config: EngineConfig) -> Fit | None:
    """The fit at the prior scale of the previous step (or the configured prior), without the estimate."""
    if not state.succeeded:
        return None
    comparisons = Comparisons.from_outcomes(state.n_items, state.succeeded)
    return fit(
        comparisons,
        alpha=1.0 / state.warm_prior if state.warm_prior else config.alpha,
        fit_position_bias=config.fit_position_bias,
        start=state.warm_start,
        dense_max=config.dense_max,
        seed=state.seed,
    )


def probe_schedule(state: State, config: EngineConfig) -> ProbeSchedule:
    """The assessment's held-out random pairs (fixed by its seed, its size and its budget)."""
    rounds = ProbeSchedule.rounds_for(state.n_items, state.budget, config.held_out_share)
    return ProbeSchedule.build(state.n_items, state.seed, rounds)


def assess(state: State, config: EngineConfig, schedule: ProbeSchedule) -> tuple[Fit | None, HonestReliability]:
    """The fit to every judgement and the honest reliability, where the stop (or the result) can use it."""
    if not state.succeeded:
        return None, NOT_AVAILABLE
    may_stop = 2 * len(state.succeeded) >= config.policy.min_rounds * state.n_items
    cached = state.warm_honest
    growth = _refresh_growth(state, config, cached) if cached is not None else 0.0
    if cached is not None and cached.available and len(state.succeeded) < cached.judged + growth:
        # fresh enough: the previous estimate, and the fit at its prior scale (cost bounded per judgement)
        return fit_state(State(**{**state.__dict__, "warm_prior": cached.prior_variance}), config), cached
    if may_stop or (state.single_wave and not state.pending):
        comparisons = Comparisons.from_outcomes(state.n_items, state.succeeded)
        held_out = schedule.is_probe(comparisons.first, comparisons.second)
        honest, final = estimate(
            comparisons,
            held_out,
            fit_position_bias=config.fit_position_bias,
            previous_prior_variance=state.warm_prior,
            start=state.warm_start,
            dense_max=config.dense_max,
            seed=state.seed,
        )
        if final is not None:
            return final, honest
    return fit_state(state, config), NOT_AVAILABLE


def _refresh_growth(state: State, config: EngineConfig, cached: HonestReliability) -> float:
    """Judgements to add before the honest estimate is made again: 5% and half a comparison per essay
    in general, an eighth of one per essay once the estimate is near the target (so the stop is timely)."""
    if cached.estimate >= state.target_reliability - config.near_target:
        return max(1.0, config.near_target_refresh * state.n_items)
    return max(config.honest_refresh * cached.judged, state.n_items / 2)


def step(state: State, config: EngineConfig) -> Step:
    limit_blas_threads(config.blas_threads)
    rng = np.random.default_rng([state.seed, state.waves, state.attempts])
    schedule = probe_schedule(state, config)
    current, honest = assess(state, config, schedule)
    ssr = scale_separation_reliability(current) if current else 0.0
    asked = _asked(state)
    pending = set(state.pending)
    retry = [
        pair
        for pair, failures in state.failed.items()
        if failures < config.max_attempts_per_pair and pair not in pending
    ]
    room = state.budget - state.attempts
    if not state.single_wave:
        room = min(room, window_now(state, config, honest) - len(state.pending))
    all_asked = asked.all_asked()
    progress = Progress(
        n_items=state.n_items,
        budget=state.budget,
        attempts=state.attempts,
        pending=len(state.pending),
        succeeded=len(state.succeeded),
        failed=sum(state.failed.values()),
        retryable=len(retry),
        informative_pairs_left=not all_asked,
        all_pairs_judged=all_asked,
        reliability=honest.estimate if honest.available else 0.0,
        target_reliability=state.target_reliability,
        single_wave=state.single_wave,
        waves=state.waves,
        window_room=max(room, 0),
    )
    decision = config.policy.decide(progress)
    wave: list[tuple[int, int]] = []
    if decision.action is Action.SUBMIT:
        pairing = _pairing_state(state, current, asked, config)
        wave = _wave(state, pairing, schedule, rng, retry, room, config)
        if not wave:
            decision = _nothing_to_send(progress)
    split = 0.0
    if decision.action is Action.FINALIZE and current is not None:
        if state.warm_honest is not None and honest is state.warm_honest:  # the result gets a fresh estimate
            current, honest = assess(State(**{**state.__dict__, "warm_honest": None}), config, schedule)
        if current is not None:  # a refit of what was already fitted, so never None in practice
            split = _split_half(state, config, current, rng)
    return Step(decision, wave, current, ssr, split, progress.reliability, honest)


def _split_half(state: State, config: EngineConfig, current: Fit, rng: np.random.Generator) -> float:
    """Split-half (mean over the splits), for the result only: it is reported, labelled, and never
    stopped on (each half's pairs were chosen from the other half's outcomes, so it overstates)."""
    comparisons = Comparisons.from_outcomes(state.n_items, state.succeeded)
    return split_half_reliability(
        comparisons, rng, alpha=current.alpha, splits=config.split_half_splits, start=current.scores
    )


def _wave(
    state: State,
    pairing: PairingState,
    schedule: ProbeSchedule,
    rng: np.random.Generator,
    retry: list[tuple[int, int]],
    room: int,
    config: EngineConfig,
) -> list[tuple[int, int]]:
    """Retries, then the probes that are due (to keep their share), then adaptive pairs."""
    asked_probes = int(np.count_nonzero(schedule.is_probe(*_asked_arrays(state)))) if len(schedule.pairs) else 0
    total = state.budget if state.single_wave else state.attempts + room
    due = max(0, math.ceil(config.held_out_share * total) - asked_probes)
    capacity = None if pairing.capacity is None else pairing.capacity.copy()
    wave = _take_retries(retry, room, capacity)
    probes = schedule.due(pairing.asked.with_pairs(wave), capacity, min(due, room - len(wave)))
    probes = [orient(pairing, a, b, True, True, rng) for a, b in probes]
    _use(capacity, probes)
    wave += probes
    firsts, seconds = pairing.first_counts.copy(), pairing.second_counts.copy()
    for first, second in wave:
        firsts[first] += 1
        seconds[second] += 1
    adaptive = replace(
        pairing,
        asked=AskedPairs(state.n_items, np.union1d(pairing.asked.with_pairs(wave).keys, schedule.either_order.keys)),
        first_counts=firsts,
        second_counts=seconds,
        capacity=capacity,
    )
    if state.single_wave:
        return wave + _single_batch(adaptive, rng, room - len(wave), config)
    return wave + next_wave(adaptive, rng, max_pairs=room - len(wave), window=config.candidate_window)


def _take_retries(retry: list[tuple[int, int]], room: int, capacity: np.ndarray | None) -> list[tuple[int, int]]:
    wave: list[tuple[int, int]] = []
    for first, second in retry:
        if len(wave) >= room:
            break
        if capacity is None or (capacity[first] > 0 and capacity[second] > 0):
            _use(capacity, [(first, second)])
            wave.append((first, second))
    return wave


def _use(capacity: np.ndarray | None, pairs: list[tuple[int, int]]) -> None:
    if capacity is not None:
        for first, second in pairs:
            capacity[first] -= 1
            capacity[second] -= 1


def _asked_arrays(state: State) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(a, b) for a, b, _ in state.succeeded] + list(state.pending) + list(state.failed)
    if not pairs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    array = np.asarray(pairs, dtype=np.int64)
    return array[:, 0], array[:, 1]


def _nothing_to_send(progress: Progress) -> Decision:
    """SUBMIT was possible but no pair fits the free essays: wait for the in-flight ones, or end."""
    if progress.pending > 0:
        return Decision(Action.WAIT, "no free essay has an unasked partner; waiting for the judgements in flight")
    if progress.succeeded == 0:
        return Decision(Action.FAIL, "no informative pair is left, and no judgement succeeded")
    return Decision(Action.FINALIZE, "no informative pair is left", StopReason.NO_INFORMATIVE_PAIR)


def _asked(state: State) -> AskedPairs:
    first, second = _asked_arrays(state)
    return AskedPairs.of(state.n_items, first, second)


def _in_flight_counts(state: State) -> np.ndarray:
    counts = np.zeros(state.n_items, dtype=np.int64)
    if state.pending:
        array = np.asarray(state.pending, dtype=np.int64)
        counts += np.bincount(array[:, 0], minlength=state.n_items) + np.bincount(array[:, 1], minlength=state.n_items)
    return counts


def _pairing_state(state: State, current: Fit | None, asked: AskedPairs, config: EngineConfig) -> PairingState:
    n = state.n_items
    shown = [(a, b) for a, b, _ in state.succeeded] + list(state.pending)
    first_counts, second_counts = np.zeros(n), np.zeros(n)
    if shown:
        array = np.asarray(shown, dtype=np.int64)
        first_counts = np.bincount(array[:, 0], minlength=n).astype(float)
        second_counts = np.bincount(array[:, 1], minlength=n).astype(float)
    capacity = None
    if not state.single_wave:
        capacity = np.maximum(config.max_in_flight_per_essay - _in_flight_counts(state), 0)
    if current is None:
        base = PairingState.prior(n, config.alpha, asked, first_counts, second_counts)
        return PairingState(base.scores, base.difference_variance, asked, first_counts, second_counts, capacity)
    return PairingState(current.scores, current.difference_variance, asked, first_counts, second_counts, capacity)


def _single_batch(
    pairing: PairingState, rng: np.random.Generator, room: int, config: EngineConfig
) -> list[tuple[int, int]]:
    """provider_batch_api: every pair up to the budget in one wave, built from successive
    coverage rounds (each essay once per round) so the comparisons spread evenly."""
    wave: list[tuple[int, int]] = []
    asked = pairing.asked
    firsts, seconds = pairing.first_counts.copy(), pairing.second_counts.copy()
    while len(wave) < room:
        current = replace(pairing, asked=asked, first_counts=firsts, second_counts=seconds, capacity=None)
        round_pairs = next_wave(current, rng, max_pairs=room - len(wave), window=config.candidate_window)
        if not round_pairs:
            break
        asked = asked.with_pairs(round_pairs)
        for first, second in round_pairs:
            firsts[first] += 1
            seconds[second] += 1
        wave += round_pairs
    return wave
