"""The engine's step: no wave barrier, the in-flight window and per-essay limits never exceeded,
provider_batch_api's single batch, positions balanced, and the server's own configuration."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cj_server.domain.engine import (
    EngineConfig,
    State,
    Step,
    config_from_settings,
    step,
    window,
    window_now,
    worth_stepping,
)
from cj_server.domain.held_out import HonestReliability
from cj_server.domain.stopping import Action, StopReason
from cj_server.settings import CjSettings


def fresh(n: int, **changes) -> State:
    base = State(
        n_items=n,
        budget=10 * n,
        target_reliability=0.999,
        single_wave=False,
        waves=0,
        attempts=0,
        succeeded=[],
        pending=[],
        failed={},
    )
    return State(**{**base.__dict__, **changes})


def test_the_server_configuration_is_the_engine_configuration():
    settings_ = CjSettings()
    config = config_from_settings(settings_)
    assert config.alpha == settings_.prior_precision
    assert config.max_in_flight == settings_.max_in_flight
    assert config.max_in_flight_per_essay == settings_.max_in_flight_per_essay
    assert config.blas_threads == settings_.blas_threads


def test_positions_balance_over_steps():
    """About 15 comparisons per essay: shown first and second within one or two of each other
    (at random the mean gap would be about 3; a swapped repeat's order is forced, so a few
    essays end 3 or 4 apart)."""
    n, gaps = 20, []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        outcomes = []
        for wave in range(10):
            state = fresh(n, succeeded=outcomes, waves=wave, attempts=len(outcomes), seed=seed)
            outcomes += [(a, b, bool(rng.random() < 0.5)) for a, b in step(state, EngineConfig()).wave]
        firsts = np.bincount([a for a, _, _ in outcomes], minlength=n)
        seconds = np.bincount([b for _, b, _ in outcomes], minlength=n)
        gaps.append(np.abs(firsts - seconds))
        assert len({(a, b) for a, b, _ in outcomes}) == len(outcomes)
    assert np.mean(gaps) <= 1.2 and np.max(gaps) <= 4


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 60),
    st.integers(1, 40),
    st.integers(1, 3),
    st.integers(0, 10_000),
    st.floats(0.0, 1.0),
    st.integers(0, 5),
)
def test_window_and_per_essay_limits_are_never_exceeded(n, max_in_flight, per_essay, seed, busy_share, failures):
    """Random states with comparisons in flight: the new pairs keep every bound."""
    rng = np.random.default_rng(seed)
    config = EngineConfig(max_in_flight=max_in_flight, max_in_flight_per_essay=per_essay)
    size = window(n, config)
    counts = np.zeros(n, dtype=int)
    pending, succeeded = [], []
    for _ in range(int(busy_share * size)):
        a, b = rng.choice(n, 2, replace=False)
        if counts[a] < per_essay and counts[b] < per_essay and (a, b) not in pending:
            pending.append((int(a), int(b)))
            counts[a] += 1
            counts[b] += 1
    for _ in range(rng.integers(0, 3 * n)):
        a, b = rng.choice(n, 2, replace=False)
        succeeded.append((int(a), int(b), bool(rng.random() < 0.5)))
    failed = {}
    for _ in range(failures):
        a, b = rng.choice(n, 2, replace=False)
        failed[(int(a), int(b))] = 1
    state = fresh(n, pending=pending, succeeded=succeeded, failed=failed, attempts=len(succeeded) + len(pending))
    result = step(state, config)
    wave = result.wave
    if pending and result.decision.action is not Action.SUBMIT:
        assert result.decision.action is Action.WAIT
    assert len(pending) + len(wave) <= size
    total = counts + (np.bincount(np.array(wave).ravel(), minlength=n) if wave else 0)
    assert np.all(total <= per_essay)
    assert not set(wave) & set(pending)
    assert (result.decision.action is Action.SUBMIT) == bool(wave)


def test_the_window_is_halfway_between_one_call_per_essay_and_the_per_essay_limit():
    """n(1 + c)/4: more than n/2 (so a slow judge does not serialise each essay's comparisons),
    less than n*c/2 (so the pairing keeps essays to choose from); capped by max_in_flight."""
    assert window(24, EngineConfig()) == 18  # c = 2: 3n/4
    assert window(24, EngineConfig(max_in_flight_per_essay=1)) == 12  # c = 1: n/2, every essay busy
    assert window(24, EngineConfig(max_in_flight_per_essay=3)) == 24
    assert window(10_000, EngineConfig()) == 1000  # CJ_MAX_IN_FLIGHT
    assert window(2, EngineConfig(max_in_flight_per_essay=1)) == window(1, EngineConfig()) == 1


def _filled(n: int, config: EngineConfig) -> list[tuple[int, int]]:
    """The first step's pairs and the refills after it, until the window is full (no result yet)."""
    pending: list[tuple[int, int]] = []
    for steps in range(5):
        if len(pending) == window(n, config):
            break
        result = step(fresh(n, pending=pending, attempts=len(pending), waves=steps), config)
        assert result.decision.action is Action.SUBMIT
        pending += result.wave
    return pending


def test_more_than_one_comparison_per_essay_is_in_flight_and_essays_stay_free_to_choose():
    n, config = 24, EngineConfig()
    pending = _filled(n, config)
    assert len(pending) == window(n, config) > n // 2, "more than one comparison per essay on average"
    per_essay = np.bincount(np.array(pending).ravel(), minlength=n)
    assert per_essay.max() <= config.max_in_flight_per_essay
    assert np.sum(config.max_in_flight_per_essay - per_essay) == n // 2, "essay places left for the pairing"


def test_near_the_target_the_window_narrows_to_one_comparison_per_essay():
    """The stop waits for what is in flight, so near the target no more than n/2 stay in flight."""
    n, config = 24, EngineConfig()
    rng = np.random.default_rng(5)
    succeeded = [
        (int(a), int(b), bool(rng.random() < 0.5)) for a, b in (rng.choice(n, 2, replace=False) for _ in range(60))
    ]
    pending = _filled(n, config)[:14]  # more than n/2, fewer than the window (18)

    def room(estimate: float) -> Step:
        honest = HonestReliability(True, estimate, estimate - 0.05, estimate + 0.05, 4.0, 10, judged=len(succeeded))
        state = fresh(n, succeeded=succeeded, pending=pending, attempts=74, waves=5, target_reliability=0.9)
        return step(State(**{**state.__dict__, "warm_honest": honest, "warm_prior": 4.0}), config)

    far, near = room(0.70), room(0.86)
    assert far.decision.action is Action.SUBMIT and len(far.wave) <= window(n, config) - len(pending)
    assert near.decision.action is Action.WAIT and near.wave == [], "14 in flight: more than n/2 already"
    estimate = HonestReliability(True, 0.86, 0.8, 0.9, 4.0, 10)
    assert window_now(fresh(n, target_reliability=0.9), config, estimate) == n // 2
    assert window_now(fresh(n, target_reliability=0.95), config, estimate) == window(n, config)


def test_results_refill_the_window_without_a_barrier():
    n, config = 40, EngineConfig()
    sent = _filled(n, config)
    assert len(sent) == window(n, config)
    # one result in, the rest still in flight: a full window (minus one) is only worth a WAIT
    done, in_flight = sent[:1], sent[1:]
    state = fresh(n, succeeded=[(a, b, True) for a, b in done], pending=in_flight, attempts=len(sent), waves=1)
    assert not worth_stepping(len(in_flight), n, config)
    assert step(state, config).decision.action is Action.SUBMIT  # room for one, and it is taken
    # a fifth of the window back: worth stepping, and new pairs go out while the others are in flight
    fifth = math.ceil(config.refill_fraction * window(n, config))
    done, in_flight = sent[:fifth], sent[fifth:]
    state = fresh(n, succeeded=[(a, b, True) for a, b in done], pending=in_flight, attempts=len(sent), waves=1)
    assert worth_stepping(len(in_flight), n, config)
    assert not worth_stepping(len(in_flight) + 1, n, config)
    result = step(state, config)
    assert result.decision.action is Action.SUBMIT and 0 < len(result.wave) <= fifth
    assert worth_stepping(0, n, config) and not worth_stepping(3, n, config, single_wave=True)


def test_provider_batch_api_is_one_batch_up_to_the_budget():
    n = 12
    config = EngineConfig()
    state = fresh(n, single_wave=True, budget=40)
    first = step(state, config)
    assert first.decision.action is Action.SUBMIT and len(first.wave) == 40
    assert len(set(first.wave)) == 40
    waiting = fresh(n, single_wave=True, budget=40, pending=first.wave, attempts=40, waves=1)
    assert step(waiting, config).decision.action is Action.WAIT
    answered = fresh(n, single_wave=True, budget=40, succeeded=[(a, b, a < b) for a, b in first.wave])
    answered = State(**{**answered.__dict__, "attempts": 40, "waves": 1})
    assert step(answered, config).decision.action is Action.FINALIZE


def test_stop_waits_for_in_flight_judgements():
    n = 10
    rng = np.random.default_rng(0)
    succeeded = [(a, b, bool(rng.random() < 0.5)) for a in range(n) for b in range(n) if a != b][:80]
    pending = [(a, b) for a in range(n) for b in range(n) if a != b][80:82]
    state = fresh(n, budget=82, succeeded=succeeded, pending=pending, attempts=82, waves=9)
    assert step(state, EngineConfig()).decision.action is Action.WAIT
    state = fresh(n, budget=82, succeeded=succeeded, attempts=82, waves=9)
    assert step(state, EngineConfig()).decision.action is Action.FINALIZE


def test_warm_start_gives_the_same_step():
    n = 30
    rng = np.random.default_rng(5)
    succeeded = [(int(a), int(b), bool(rng.random() < 0.5)) for a, b in rng.integers(0, n, (200, 2)) if a != b]
    cold = step(fresh(n, succeeded=succeeded, attempts=len(succeeded)), EngineConfig())
    warm = step(fresh(n, succeeded=succeeded, attempts=len(succeeded), warm_start=cold.fit.scores), EngineConfig())
    assert np.max(np.abs(cold.fit.scores - warm.fit.scores)) < 1e-5
    assert warm.decision == cold.decision


def test_the_honest_estimate_is_reused_until_judgements_grow():
    """State.warm_honest bounds the estimate's cost: reused while fresh, recomputed once stale."""
    from tests.cj_server.test_held_out import run

    _truth, honest, _schedule, outcomes = run(40, 2.0, 10, 2)
    config = EngineConfig()
    base = fresh(40, budget=400, succeeded=outcomes, attempts=len(outcomes), waves=12)
    fresh_state = State(**{**base.__dict__, "warm_honest": honest})
    assert step(fresh_state, config).honest is honest
    stale = State(**{**base.__dict__, "warm_honest": replace(honest, judged=len(outcomes) // 2)})
    recomputed = step(stale, config).honest
    assert recomputed is not honest and recomputed.judged == len(outcomes)


def test_the_stop_compares_the_reported_estimate_with_the_target():
    """Step.reliability is Step.honest.estimate (what the result and the progress report), and the target
    stop fires exactly when it reaches the target: no unreported figure takes part."""
    from tests.cj_server.test_held_out import run

    _truth, _honest, _schedule, outcomes = run(40, 2.0, 10, 2)
    base = fresh(40, budget=1000, succeeded=outcomes, attempts=len(outcomes), waves=12)
    estimate = step(base, EngineConfig()).honest.estimate
    for target, fires in ((estimate, True), (estimate + 1e-6, False)):
        result = step(State(**{**base.__dict__, "target_reliability": target}), EngineConfig())
        assert result.honest.available and result.reliability == result.honest.estimate == estimate
        assert (result.decision.stop_reason is StopReason.TARGET_RELIABILITY) is fires
        assert result.honest.lower <= result.honest.estimate <= result.honest.upper


def test_the_estimate_is_refreshed_sooner_near_the_target():
    """Far from the target the estimate waits for half a comparison per essay; near it, for an eighth,
    so the stop lags the data by at most that."""
    from tests.cj_server.test_held_out import run

    _truth, honest, _schedule, outcomes = run(40, 2.0, 10, 2)
    config = EngineConfig()
    cached = replace(honest, judged=len(outcomes) - 8)  # 8 new judgements: more than 40 / 8, fewer than 40 / 2
    base = fresh(40, budget=1000, succeeded=outcomes, attempts=len(outcomes), waves=12, warm_honest=cached)
    far = State(**{**base.__dict__, "target_reliability": cached.estimate + 0.2})
    assert step(far, config).honest is cached
    near = State(**{**base.__dict__, "target_reliability": cached.estimate + 0.01})
    assert step(near, config).honest is not cached
