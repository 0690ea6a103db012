"""Benchmark: how many comparisons per essay the engine needs, and how honest its reliability is.

Judge: the LPS `latent_bt` profile (sigma, position bias, seed "0"): deterministic per
ordered pair, as an LLM at temperature 0. True reliability = corr(scores, hidden
quality)^2 over the essays. The engine runs with the **server's own configuration**
(`config_from_settings(CjSettings())`, the CJ defaults), asynchronously as the server
runs it: a window of comparisons in flight, each answered after a latency drawn from
U(1, 2) s (`--latency LO,HI` to change it), results applied in arrival order, and `step` called whenever
`worth_stepping` says it can change something (no wave barrier). Policies, on the same
essays:

  adaptive   our engine, as above
  random     a random perfect matching each wave (no repeated ordered pair)
  reference  the reference system: coverage waves (random matching) that stop when
             no score moves more than 0.025 logits between waves, or at the budget

For each policy and k (comparisons per essay, each comparison counting for both of
its essays) it reports, over the repetitions, the mean true reliability, its minimum,
the estimates (SSR, split-half, the honest estimate and its 95% lower bound), the honest
estimate's error (mean, worst run), the share of runs whose truth lies inside its 95%
interval ("covered"), the floor any estimate from the judgements has ("oracle": the error of
(1) of held_out.py at the true tau^2, its spread over runs and its worst run), and the first
k where the mean true reliability reaches 0.90. With `--stop` it also runs the adaptive
engine with its stopping rule at the server's default target and reports where it stopped
and the truth there; `--stop-grid "N,sigma,bias;..."` does only that, over the given cells,
one line per run. `--per-run` also prints each run's true reliability at the reported k
(for paired comparisons between two versions of the engine: the runs are deterministic per
seed). `--wall` runs the adaptive engine to its budget of `--k-max` per essay and reports
the simulated wall time (the time the last judgement arrived, in units of the latency: the
engine's own floor, no server overhead), the submits and the most comparisons any essay got.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/cj_simulation.py --essays 100 --reps 10
     OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/cj_simulation.py --essays 24 --k-max 10 --wall --latency 1.2,2.0
"""

from __future__ import annotations

import argparse
import heapq
from dataclasses import dataclass, field

import numpy as np

from cj_server.domain.bradley_terry import Comparisons, fit
from cj_server.domain.engine import (
    EngineConfig,
    State,
    assess,
    config_from_settings,
    probe_schedule,
    step,
    worth_stepping,
)
from cj_server.domain.grading import BUILT_IN_SCALES
from cj_server.domain.held_out import model_reliability
from cj_server.domain.pairing import AskedPairs, PairingState, next_wave
from cj_server.domain.reliability import scale_separation_reliability, split_half_reliability
from cj_server.domain.stopping import Action
from cj_server.domain.summary import ItemInfo, summarize
from cj_server.settings import CjSettings
from llm_provider_server.domain.mock_judge import latent_quality, latent_winner

REPORT_K = (5, 10, 13, 15, 20, 25, 30)


@dataclass(frozen=True)
class Judge:
    texts: list[str]
    sigma: float
    bias: float

    def __call__(self, a: int, b: int) -> bool:
        winner, _ = latent_winner(self.texts[a], self.texts[b], sigma=self.sigma, bias=self.bias, seed="0")
        return winner.value == "essay_a"

    def quality(self) -> np.ndarray:
        return np.array([latent_quality(t, self.sigma) for t in self.texts])


@dataclass
class Curve:
    # k -> (true, ssr, split, estimate, lower, upper, oracle error)
    points: dict[int, tuple[float, ...]] = field(default_factory=dict)
    stopped_at: float | None = None
    true_at_stop: float | None = None
    reported_at_stop: float | None = None
    stop_reason: str = ""
    trace: list[tuple[float, float]] = field(default_factory=list)  # (k, true reliability of the step's fit)
    outcomes: list = field(default_factory=list)
    wall: float = 0.0  # simulated time of the last judgement applied
    submits: int = 0


def measure(n: int, outcomes, quality, config: EngineConfig) -> tuple[float, ...]:
    """Random designs: the truth, SSR and split-half (no probes, so no honest estimate)."""
    comparisons = Comparisons.from_outcomes(n, outcomes)
    result = fit(comparisons, alpha=config.alpha, fit_position_bias=config.fit_position_bias)
    true = float(np.corrcoef(result.scores, quality)[0, 1] ** 2)
    split = split_half_reliability(comparisons, np.random.default_rng(0), alpha=config.alpha, start=result.scores)
    nan = float("nan")
    return true, scale_separation_reliability(result), split, nan, nan, nan, nan


def measure_engine(state: State, quality, config: EngineConfig) -> tuple[float, ...]:
    """The engine's own figures for the state: its fit (the reported scores) and its estimates."""
    result, honest = assess(state, config, probe_schedule(state, config))
    comparisons = Comparisons.from_outcomes(state.n_items, state.succeeded)
    true = float(np.corrcoef(result.scores, quality)[0, 1] ** 2)
    split = split_half_reliability(comparisons, np.random.default_rng(0), alpha=result.alpha, start=result.scores)
    nan = float("nan")
    estimate, lower, upper = (honest.estimate, honest.lower, honest.upper) if honest.available else (nan, nan, nan)
    return true, scale_separation_reliability(result), split, estimate, lower, upper, oracle_error(comparisons, quality)


def oracle_error(comparisons: Comparisons, quality: np.ndarray) -> float:
    """The floor of any estimate from the judgements: (1) of held_out.py at the *true* tau^2 (the sample
    variance of the judge's quality) minus the truth of that fit. What is left is the uncertainty of the
    realized sample itself, which no figure computed from the judgements can remove."""
    at_truth = fit(comparisons, alpha=1.0 / float(np.var(quality)), fit_position_bias=True)
    return model_reliability(at_truth) - float(np.corrcoef(at_truth.scores, quality)[0, 1] ** 2)


def adaptive(
    judge: Judge,
    k_max: int,
    seed: int,
    config: EngineConfig,
    target: float | None,
    latency: tuple[float, float] = (1.0, 2.0),
) -> Curve:
    """The engine as the server runs it: windowed, asynchronous, no wave barrier."""
    n = len(judge.texts)
    quality = judge.quality()
    rng = np.random.default_rng(seed + 77)
    budget = n * k_max // 2
    curve = Curve()
    outcomes = curve.outcomes
    in_flight: list[tuple[float, int, int]] = []
    now, waves, attempts, scores, prior, honest, next_k = 0.0, 0, 0, None, None, None, 2
    while True:
        state = State(
            n_items=n,
            budget=budget,
            target_reliability=target if target is not None else 0.9999,
            single_wave=False,
            waves=waves,
            attempts=attempts,
            succeeded=outcomes,
            pending=[(a, b) for _, a, b in in_flight],
            failed={},
            seed=seed,
            warm_start=scores,
            warm_prior=prior,
            warm_honest=honest,
        )
        planned = step(state, config)
        scores = planned.fit.scores if planned.fit is not None else None
        if target is not None and planned.fit is not None:
            truth = float(np.corrcoef(planned.fit.scores, quality)[0, 1] ** 2)
            curve.trace.append((2 * len(outcomes) / n, truth))
        prior = planned.honest.prior_variance if planned.honest.available else prior
        honest = planned.honest if planned.honest.available else honest
        if planned.decision.action in (Action.FINALIZE, Action.FAIL):
            curve.wall, curve.submits = now, waves
            if target is not None and planned.fit is not None:
                curve.stopped_at = 2 * len(outcomes) / n
                curve.true_at_stop = float(np.corrcoef(planned.fit.scores, quality)[0, 1] ** 2)
                curve.reported_at_stop = planned.reliability
                curve.stop_reason = planned.decision.stop_reason.value
            return curve
        if planned.wave:
            waves += 1
            attempts += len(planned.wave)
            for a, b in planned.wave:
                heapq.heappush(in_flight, (now + rng.uniform(*latency), a, b))
        while in_flight:
            now, a, b = heapq.heappop(in_flight)
            outcomes.append((a, b, judge(a, b)))
            if target is None and 2 * len(outcomes) >= next_k * n:
                pending = [(x, y) for _, x, y in in_flight]
                changes = {"succeeded": list(outcomes), "pending": pending, "warm_honest": None}
                snapshot = State(**{**state.__dict__, **changes})
                curve.points[next_k] = measure_engine(snapshot, quality, config)
                next_k += 1
            if worth_stepping(len(in_flight), n, config):
                break


def random_waves(judge: Judge, k_max: int, seed: int, config: EngineConfig, stability_stop: bool) -> Curve:
    n = len(judge.texts)
    quality = judge.quality()
    rng = np.random.default_rng(seed)
    asked = AskedPairs.none(n)
    outcomes, curve, previous = [], Curve(), None
    while len(outcomes) < n * k_max // 2:
        state = PairingState.prior(n, 1.0, asked)  # equal weights: random
        wave = next_wave(state, rng, max_pairs=n // 2)
        asked = asked.with_pairs(wave)
        outcomes = outcomes + [(a, b, judge(a, b)) for a, b in wave]
        k = round(2 * len(outcomes) / n)
        curve.points[k] = measure(n, outcomes, quality, config)
        scores = fit(Comparisons.from_outcomes(n, outcomes), alpha=config.alpha, uncertainty=False).scores
        stable = previous is not None and np.max(np.abs(scores - previous)) <= 0.025
        if stability_stop and stable and curve.stopped_at is None:
            curve.stopped_at = k
        previous = scores
    return curve


def report(results: dict[str, list[Curve]], k_max: int) -> None:
    print(
        "policy     k  true_mean true_min  SSR    split  estimate lower  est-true(mean, max)  "
        "covered  oracle-true(sd, max)"
    )
    for policy, curves in results.items():
        reached = None
        for k in range(2, k_max + 1):
            rows = [c.points[k] for c in curves if k in c.points]
            if len(rows) < len(curves):
                continue
            columns = [np.array(col) for col in zip(*rows, strict=True)]
            true = float(np.mean(columns[0]))
            if reached is None and true >= 0.90:
                reached = k
            if k in REPORT_K:
                ssr, split = float(np.mean(columns[1])), float(np.mean(columns[2]))
                error = columns[3] - columns[0]
                within = (columns[4] <= columns[0]) & (columns[0] <= columns[5])
                covered = float(np.mean(within)) if not np.isnan(columns[4]).any() else float("nan")
                print(
                    f"{policy:10s} {k:2d}  {true:.3f}     {columns[0].min():.3f}    {ssr:.3f}  {split:.3f}  "
                    f"{np.mean(columns[3]):.3f}    {np.mean(columns[4]):.3f}  "
                    f"{np.mean(error):+.3f} {np.max(error):+.3f}        {covered:.2f}     "
                    f"{np.std(columns[6]):.3f} {np.max(columns[6]):+.3f}"
                )
        print(f"{policy:10s} first k with mean true reliability >= 0.90: {reached}")


def grades(students: int, per_grade: int, k: int, seed: int, sigma: float, config: EngineConfig) -> GradeRun:
    """Anchors of known grade among the essays; after k comparisons per essay, the students' grade
    probabilities (the server's summary) and their true grades."""
    scale = BUILT_IN_SCALES["letter_a_to_f"]
    cuts = np.quantile(np.random.default_rng(99).normal(0, sigma, 100_000), np.linspace(0, 1, 7)[1:-1])
    pool = [f"Graded essay {seed}-{i}." for i in range(40 * students)]
    quality = np.array([latent_quality(t, sigma) for t in pool])
    true_grade = np.searchsorted(cuts, quality)
    texts = pool[:students]
    anchors = [
        int(i) + students
        for g in range(len(scale.grades))
        for i in np.flatnonzero(true_grade[students:] == g)[:per_grade]
    ]
    items = texts + [pool[i] for i in anchors]
    judge = Judge(items, sigma, 0.0)
    n = len(items)
    curve = adaptive(judge, k, seed, config, None)  # the engine, to the budget
    outcomes = curve.outcomes
    state = State(n, n * k // 2, 0.9999, False, 0, len(outcomes), outcomes, [], {}, seed=seed)
    result, honest = assess(state, config, probe_schedule(state, config))
    info = [ItemInfo(f"s{i}", False, "") for i in range(students)] + [
        ItemInfo(f"a{i}", True, scale.grades[true_grade[j]]) for i, j in enumerate(anchors)
    ]
    summary = summarize(info, outcomes, result, 0.0, scale, honest)
    by_id = {e.essay_id: e for e in summary.essays}
    probabilities = np.array(
        [[by_id[f"s{i}"].projection.probabilities[g] for g in scale.grades] for i in range(students)]
    )
    return GradeRun(probabilities, true_grade[:students])


@dataclass(frozen=True)
class GradeRun:
    probabilities: np.ndarray  # (students, grades): the result's P(grade)
    truth: np.ndarray  # true grade indices


def calibration_error(probabilities: np.ndarray, truth: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the projected (most probable) grade: mean |accuracy - confidence|
    over equal-width confidence bins, weighted by their share of the essays."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == truth
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(
        sum(
            abs(correct[index == b].mean() - confidence[index == b].mean()) * np.mean(index == b)
            for b in np.unique(index)
        )
    )


def calibration_floor(probabilities: np.ndarray, draws: int = 200) -> float:
    """The calibration error that perfectly calibrated probabilities show on this many essays: the mean over
    truths drawn from the probabilities themselves (the error's sampling noise, not miscalibration)."""
    rng = np.random.default_rng(0)
    cumulative = np.cumsum(probabilities, axis=1)
    errors = [
        calibration_error(probabilities, (rng.random(len(probabilities))[:, None] > cumulative).sum(axis=1))
        for _ in range(draws)
    ]
    return float(np.mean(errors))


def report_grades(runs: list[GradeRun]) -> None:
    kappas = np.array(
        [quadratic_kappa(r.probabilities.argmax(axis=1), r.truth, r.probabilities.shape[1]) for r in runs]
    )
    probabilities = np.concatenate([r.probabilities for r in runs])
    truth = np.concatenate([r.truth for r in runs])
    onehot = np.eye(probabilities.shape[1])[truth]
    brier = float(np.mean(np.sum((probabilities - onehot) ** 2, axis=1)))
    per_run = np.mean([calibration_error(r.probabilities, r.truth) for r in runs])
    per_run_floor = np.mean([calibration_floor(r.probabilities, 50) for r in runs])
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == truth
    print(f"quadratic weighted kappa: mean {kappas.mean():.3f}, min {kappas.min():.3f}, runs {np.round(kappas, 3)}")
    print(f"Brier score {brier:.3f}; mean confidence {confidence.mean():.3f}, accuracy {correct.mean():.3f}")
    print(
        f"calibration error (10 bins): per run {per_run:.3f} (perfectly calibrated: {per_run_floor:.3f}); "
        f"all {len(truth)} essays {calibration_error(probabilities, truth):.3f} "
        f"(perfectly calibrated: {calibration_floor(probabilities):.3f})"
    )
    print("confidence bin: essays, mean confidence, accuracy (binomial se)")
    index = np.minimum((confidence * 10).astype(int), 9)
    for b in np.unique(index):
        chosen = index == b
        mean = confidence[chosen].mean()
        print(
            f"  {b / 10:.1f}-{(b + 1) / 10:.1f}: {chosen.sum():5d}  {mean:.3f}  {correct[chosen].mean():.3f} "
            f"({np.sqrt(mean * (1 - mean) / chosen.sum()):.3f})"
        )


def quadratic_kappa(a: np.ndarray, b: np.ndarray, categories: int) -> float:
    observed = np.zeros((categories, categories))
    np.add.at(observed, (a, b), 1)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    weights = (np.subtract.outer(np.arange(categories), np.arange(categories)) ** 2) / (categories - 1) ** 2
    return float(1 - (weights * observed).sum() / (weights * expected).sum())


def stop_grid(cells: str, reps: int, k_max: int, target: float, config: EngineConfig) -> None:
    """The stopping rule over a grid of judges: per run, where it stopped and why, the truth there, the
    reported estimate it stopped on, and where the truth of the engine's fit first reached the target."""
    print("N    sigma bias  seed reason              k_stop true   reported k_truth_crossed")
    for cell in cells.split(";"):
        n, sigma, bias = (float(x) for x in cell.split(","))
        for rep in range(reps):
            judge = Judge([f"Simulated essay {rep}-{i}." for i in range(int(n))], sigma, bias)
            curve = adaptive(judge, k_max, rep, config, target)
            crossed = next((f"{k:.2f}" for k, truth in curve.trace if truth >= target), "-")
            print(
                f"{int(n):<4d} {sigma:<5.1f} {bias:<5.1f} {rep:<4d} {curve.stop_reason:19s} {curve.stopped_at:6.2f} "
                f"{curve.true_at_stop:.3f}  {curve.reported_at_stop:.3f}    {crossed}",
                flush=True,
            )


def wall(n: int, reps: int, k_max: int, sigma: float, latency: tuple[float, float], config: EngineConfig) -> None:
    """The engine's own wall time to a budget of k_max comparisons per essay, each call taking
    U(lo, hi): per run, the time the last judgement arrived, the submits, the most comparisons an
    essay got; then the median against k * mean latency (issue 8's measure) and 1.2 times that."""
    print(f"essays={n} k={k_max} latency U{latency} s; engine = the server's configuration")
    print("seed wall_s submits most_per_essay")
    walls = []
    for rep in range(reps):
        judge = Judge([f"Simulated essay {rep}-{i}." for i in range(n)], sigma, 0.0)
        curve = adaptive(judge, k_max, rep, config, None, latency)
        pairs = np.array([(a, b) for a, b, _ in curve.outcomes])
        most = int(np.bincount(pairs.ravel(), minlength=n).max())
        walls.append(curve.wall)
        print(f"{rep:<4d} {curve.wall:6.2f} {curve.submits:7d} {most:14d}", flush=True)
    mean_latency = sum(latency) / 2
    print(
        f"median wall {np.median(walls):.2f} s; k x mean latency = {k_max * mean_latency:.2f} s, "
        f"1.2x = {1.2 * k_max * mean_latency:.2f} s"
    )


def per_run(results: dict[str, list[Curve]]) -> None:
    """Each run's true reliability at the reported k, for paired comparisons between versions."""
    for policy, curves in results.items():
        for seed, curve in enumerate(curves):
            values = " ".join(f"k{k}={curve.points[k][0]:.4f}" for k in REPORT_K if k in curve.points)
            print(f"{policy:10s} seed {seed:<3d} {values}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--essays", type=int, default=100)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--k-max", type=int, default=25)
    parser.add_argument("--sigma", type=float, default=2.0)
    parser.add_argument("--bias", type=float, default=0.0)
    parser.add_argument("--policies", default="adaptive,random,reference")
    parser.add_argument("--stop", action="store_true", help="also run the engine with its stopping rule")
    parser.add_argument("--stop-grid", default="", help='cells "N,sigma,bias;...": the stopping rule per run')
    parser.add_argument("--grades", type=int, default=0, help="anchors per grade: run the grading benchmark instead")
    parser.add_argument("--latency", default="1,2", help="LO,HI: each call takes U(LO, HI) seconds")
    parser.add_argument("--wall", action="store_true", help="the engine's wall time to the budget, instead")
    parser.add_argument("--per-run", action="store_true", help="also each run's true reliability at the reported k")
    parser.add_argument("--seed", type=int, default=0, help="first seed of the grading benchmark's runs")
    args = parser.parse_args()
    settings = CjSettings()
    config = config_from_settings(settings)
    lo, hi = (float(x) for x in args.latency.split(","))
    if args.wall:
        wall(args.essays, args.reps, args.k_max, args.sigma, (lo, hi), config)
        return
    if args.stop_grid:
        stop_grid(args.stop_grid, args.reps, args.k_max, settings.default_target_reliability, config)
        return
    if args.grades:
        runs = [
            grades(args.essays, args.grades, args.k_max, rep + args.seed, args.sigma, config)
            for rep in range(args.reps)
        ]
        print(
            f"students={args.essays} anchors per grade={args.grades} k={args.k_max} sigma={args.sigma} "
            f"reps={args.reps} seeds {args.seed}-{args.seed + args.reps - 1} "
            "(letter_a_to_f, true grades by population quantiles)"
        )
        report_grades(runs)
        return
    policies = args.policies.split(",")
    results: dict[str, list[Curve]] = {p: [] for p in policies}
    stops: list[Curve] = []
    for rep in range(args.reps):
        texts = [f"Simulated essay {rep}-{i}." for i in range(args.essays)]
        judge = Judge(texts, args.sigma, args.bias)
        if "adaptive" in policies:
            results["adaptive"].append(adaptive(judge, args.k_max, rep, config, None, (lo, hi)))
        if "random" in policies:
            results["random"].append(random_waves(judge, args.k_max, rep, config, False))
        if "reference" in policies:
            results["reference"].append(random_waves(judge, args.k_max, rep + 1000, config, True))
        if args.stop:
            stops.append(adaptive(judge, args.k_max, rep, config, settings.default_target_reliability, (lo, hi)))
    print(
        f"essays={args.essays} reps={args.reps} sigma={args.sigma} bias={args.bias} judge=latent_bt "
        f"(deterministic per ordered pair); engine = the server's configuration"
    )
    report(results, args.k_max)
    if args.per_run:
        per_run(results)
    if "reference" in results:
        fired = [c.stopped_at for c in results["reference"] if c.stopped_at is not None]
        print(f"reference stability stop (max |d theta| <= 0.025) fired in {len(fired)} of {args.reps} runs: {fired}")
    if stops:
        print(f"stop at target {settings.default_target_reliability}: k, true, reported (the stop's figure)")
        for curve in stops:
            print(f"  {curve.stopped_at:.1f}  {curve.true_at_stop:.3f}  {curve.reported_at_stop:.3f}")


if __name__ == "__main__":
    main()
