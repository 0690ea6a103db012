"""Benchmark: one engine step (fit, honest reliability, pairing) at national scale, with comparisons in flight.

State: n essays, k comparisons per essay already judged (random pairs with Bradley-Terry
outcomes, abilities ~ N(0, 2^2)), a full in-flight window minus the fifth `worth_stepping`
waits for; a share of the judgements are the probe schedule's pairs, as the engine asks
them. Times `engine.step` with the server's configuration (the fit, the held-out estimate,
the choice of new pairs), warm-started from the previous step's scores and prior as the
runtime does: a step that re-estimates the honest reliability and one that reuses it
(State.warm_honest, as between 5% growths of the judgements), interleaved, medians; and
peak memory of the step (tracemalloc, numpy buffers included).

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/pairing_speed.py
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from cj_server.domain.engine import State, config_from_settings, probe_schedule, step, window
from cj_server.settings import CjSettings


def state_for(n: int, per_essay: int, seed: int, config) -> State:
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 2, n)
    k = n * per_essay // 2
    first = rng.integers(0, n, k)
    second = (first + rng.integers(1, n, k)) % n
    won = rng.random(k) < 1 / (1 + np.exp(-(theta[first] - theta[second])))
    schedule = probe_schedule(State(n, n * 10, 0.9, False, 0, 0, [], [], {}, seed=seed), config)
    probes = schedule.pairs[: int(config.held_out_share * k)]
    first[: len(probes)], second[: len(probes)] = probes[:, 0], probes[:, 1]
    won = rng.random(k) < 1 / (1 + np.exp(-(theta[first] - theta[second])))
    succeeded = [(int(a), int(b), bool(w)) for a, b, w in zip(first, second, won, strict=True)]
    size = window(n, config)
    busy = int(size * (1 - config.refill_fraction))
    order = rng.permutation(n)
    pending = [(int(order[2 * i]), int(order[2 * i + 1])) for i in range(min(busy, n // 2))]
    return State(
        n_items=n,
        budget=n * 10,
        target_reliability=0.99,
        single_wave=False,
        waves=10,
        attempts=len(succeeded) + len(pending),
        succeeded=succeeded,
        pending=pending,
        failed={},
        seed=seed,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--essays", default="100,2000,10000")
    parser.add_argument("--comparisons-per-essay", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = config_from_settings(CjSettings())
    for n in (int(x) for x in args.essays.split(",")):
        state = state_for(n, args.comparisons_per_essay, 3, config)
        first = step(state, config)
        warm = State(
            **{
                **state.__dict__,
                "warm_start": first.fit.scores,
                "warm_prior": first.honest.prior_variance if first.honest.available else None,
            }
        )
        cached = State(**{**warm.__dict__, "warm_honest": first.honest if first.honest.available else None})
        times, cached_times = [], []
        for _ in range(args.repeats):  # interleaved: a step that re-estimates, then one that reuses it
            started = time.perf_counter()
            result = step(warm, config)
            times.append(time.perf_counter() - started)
            started = time.perf_counter()
            step(cached, config)
            cached_times.append(time.perf_counter() - started)
        tracemalloc.start()
        step(warm, config)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        covered = len({x for pair in result.wave for x in pair})
        print(
            f"essays={n} judged={len(state.succeeded)} in flight={len(state.pending)}: step "
            f"{np.median(times) * 1000:.0f} ms re-estimating, {np.median(cached_times) * 1000:.0f} ms reusing "
            f"the estimate (medians of {args.repeats}), {result.decision.action.value} "
            f"{len(result.wave)} pairs over {covered} essays, honest estimate "
            f"{result.honest.estimate:.3f} [{result.honest.lower:.3f}, {result.honest.upper:.3f}], "
            f"peak {peak / 2**20:.0f} MiB"
        )


if __name__ == "__main__":
    main()
