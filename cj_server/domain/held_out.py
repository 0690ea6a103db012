"""An honest reliability under adaptive pairing: the ability scale measured on held-out random pairs.

What is estimated. The true reliability of the reported scores theta_hat is
rho = corr(theta_hat, q)^2 over the essays, q the judge's hidden quality. Under the
Bradley-Terry model with abilities q_i ~ N(0, tau^2), the posterior mean theta_hat
and the posterior covariance S satisfy Cov(theta_hat, q) = Var(theta_hat), so

    rho = Var(theta_hat) / Var(q) = sum_i theta_hat_i^2 / (sum_i theta_hat_i^2 + tr(C S C))     (1)

(centred scores; the denominator is the expected sample variance of q). (1) uses only
the posterior, and a posterior is not biased by an adaptive design: the pairs were
chosen from past outcomes only, so the likelihood of the outcomes is the same as for a
fixed design (the design is ignorable). What adaptivity does break is everything that
treats the design as random: split-half (each half's pairs were chosen from the other
half's outcomes) and SSR with a fixed, over-wide prior (close pairs inflate the MAP
spread). Measured against the truth, (1) is within a few hundredths *when tau is right*
(bench/cj_simulation.py); the whole difficulty is tau.

Why not empirical Bayes on all judgements. The adaptive pairs are near neighbours with
p ~ 1/2; their likelihood hardly identifies the global scale, and the Laplace / PQL
marginal likelihood is biased towards small tau there (at N = 100, sigma = 2 it put
tau^2 at 0.5-2.5 against a truth of 3.6), which understates rho by 0.05-0.3.

Held-out random pairs. A share h (`held_out_share`) of the comparisons is drawn from
a probe schedule fixed in advance from the assessment's seed: successive random
perfect matchings, each with a random order. They are never chosen adaptively (the
adaptive pairing never picks a probe pair in either order), so whether a probe is
judged does not depend on any outcome. Random pairs span the whole scale, so their
outcomes measure it. For a candidate tau^2 the model is fitted to the other
(training) comparisons with prior N(0, tau^2 I); each probe (a, b) with outcome y is
predicted with the fit's uncertainty integrated (probit approximation):

    P(y = 1) = sigma(m / sqrt(1 + pi v / 8)),  m = theta_a - theta_b + beta,  v = Var(theta_a - theta_b)

and the probes' held-out log likelihood sum_r log P(y_r) is the exact factor
p(probes | training, tau^2) of the marginal likelihood (cross-validation of the prior
scale: the probes are not in the fit, so there is no overfitting). Alone it is noisy
with a hundred or so probes, and in simulation it overstated rho by 0.03-0.08 on
average (a few probes too many agreeing with the ranking lift it towards large tau).
So tau^2 maximises the whole marginal likelihood

    log p(y | tau^2) = log p(training | tau^2) + log p(probes | training, tau^2),

the first factor by the Laplace approximation at the training fit's mode
(`bradley_terry.laplace_log_marginal`; up to `DENSE_MAX` essays, where P can be
factorised; above, the probes' factor alone). The Laplace factor is biased towards
small tau (see above) and the probes pull it back: the combination came out
conservative in simulation (a few hundredths below the truth on average, below it in
every run of the test grid). The search is a grid in log tau^2 (ratio `GRID_RATIO`),
local around the previous step's value when it is given, refined by a parabola
through the best three points.

The reported figures are (1) from fits to *all* judgements (the reported scores are the
fit at the maximum). The log likelihood profile over log tau^2 gives intervals for
tau^2: where it is 1.92 below its maximum (95%, chi2_1) and where it is `POINT_DROP`
(0.25) below; rho is increasing in tau^2, so (1) maps them to intervals for rho. The
reported `estimate` is (1) at the lower end of the 0.25 interval: tau^2 about 0.7
standard errors (sqrt(2 * 0.25)) of log tau^2 below the maximum, a one-sided 76% lower
bound for tau^2. `lower` and `upper` are (1) at the 95% interval's ends.

Why that point. The estimate is what the stop compares with the target (stopping.py),
and it is looked at after every refresh, so where it errs high the stop fires there.
Over seeds, at N = 60 and 15 comparisons per essay (estimate - truth): the maximum
itself is unbiased at sigma = 2 (mean -0.006) but overstates a weak judge in single
runs (sigma = 1: +0.05 to +0.07 in 3 of 8); 0.25 below it, the mean is -0.02 at sigma =
2 and no run overstated by more than +0.025 at sigma = 1 or 2; the 68% end (0.5, the
previous choice) is -0.03 at sigma = 2 and the stop fires later. Selected by the stop
(it fires where the estimate first looks high), it still overstated by +0.053 and
+0.059 in 2 of 78 target stops of the bench grid (docs/benchmarks.md), truths 0.857
and 0.853 against 0.90. The 95% `lower` is reported, not stopped on: 0.05-0.1 below the
truth at sigma = 2, a stop on it (with a split-half check, before) fired 5-10
comparisons per essay after the truth crossed the target.

Cost: a grid of fits to the training comparisons (each sparse, warm-started, O(n + K))
and one fit to all. With fewer than `MIN_HELD_OUT` probes judged there is no estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cj_server.domain.bradley_terry import DENSE_MAX, Comparisons, Fit, fit, laplace_log_marginal
from cj_server.domain.pairing import AskedPairs

MIN_HELD_OUT = 12
GRID_RATIO = 1.5  # neighbouring grid values of tau^2 differ by this factor
GRID = (0.05, 50.0)  # tau^2 searched within this range (logits^2)
INTERVAL_DROP = 1.92  # chi2_1(0.95) / 2: the 95% profile interval
POINT_DROP = 0.25  # the reported estimate: (1) at the lower end of the interval this far below the maximum
SEARCH_DENSE_MAX = 300  # exact covariance in the search fits up to this n, the fit's approximation above


@dataclass(frozen=True)
class ProbeSchedule:
    """The held-out random pairs of an assessment: `rounds` random perfect matchings fixed by the seed.
    `due` returns them unordered-as-drawn; the engine shows them in the order that balances positions."""

    n: int
    pairs: np.ndarray  # (m, 2) ordered (first, second), in the order they are to be asked
    ordered: AskedPairs  # the same pairs, for lookups
    either_order: AskedPairs  # both orders, to keep them out of adaptive pairing

    @classmethod
    def build(cls, n: int, seed: int, rounds: int) -> ProbeSchedule:
        rows = []
        for r in range(max(rounds, 0)):
            rng = np.random.default_rng([seed, 7919, r])
            order = rng.permutation(n)
            half = n // 2
            first, second = order[:half], order[half : 2 * half]
            swap = rng.random(half) < 0.5
            rows.append(np.column_stack([np.where(swap, second, first), np.where(swap, first, second)]))
        pairs = np.concatenate(rows) if rows else np.zeros((0, 2), dtype=np.int64)
        if len(pairs):  # a pair drawn in two rounds is asked once
            _, first_seen = np.unique(pairs.min(axis=1) * n + pairs.max(axis=1), return_index=True)
            pairs = pairs[np.sort(first_seen)]
        ordered = AskedPairs.of(n, pairs[:, 0], pairs[:, 1])
        both = AskedPairs.of(n, np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]]))
        return cls(n, pairs, ordered, both)

    @staticmethod
    def rounds_for(n_items: int, budget: int, share: float) -> int:
        """Enough matchings for `share` of the budget, and one more."""
        if share <= 0 or n_items < 2:
            return 0
        return math.ceil(share * budget / max(n_items // 2, 1)) + 1

    def is_probe(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Either order: a probe is shown in the order that balances positions (a design-only choice)."""
        return self.either_order.contains(first, second)

    def due(self, asked: AskedPairs, capacity: np.ndarray | None, count: int) -> list[tuple[int, int]]:
        """The next `count` probe pairs not yet asked whose essays have room (in schedule order)."""
        if count <= 0 or len(self.pairs) == 0:
            return []
        first, second = self.pairs[:, 0], self.pairs[:, 1]
        open_ = ~asked.contains(first, second) & ~asked.contains(second, first)
        room = None if capacity is None else capacity.astype(np.int64).copy()
        chosen: list[tuple[int, int]] = []
        for a, b in self.pairs[open_]:
            if room is not None:
                if room[a] <= 0 or room[b] <= 0:
                    continue
                room[a] -= 1
                room[b] -= 1
            chosen.append((int(a), int(b)))
            if len(chosen) >= count:
                break
        return chosen


@dataclass(frozen=True)
class HonestReliability:
    available: bool
    estimate: float  # (1) at the held-out tau^2
    lower: float  # 95% profile interval
    upper: float
    prior_variance: float  # tau^2
    held_out: int  # probes judged
    judged: int = 0  # judgements (all) the estimate was made from


NOT_AVAILABLE = HonestReliability(False, 0.0, 0.0, 1.0, 0.0, 0)


def model_reliability(result: Fit) -> float:
    """(1): sum theta_hat^2 / (sum theta_hat^2 + sum SE^2) over the centred scores."""
    explained = float(np.sum(result.scores**2))
    error = float(np.sum(result.standard_errors**2))
    return explained / (explained + error) if explained + error > 0 else 0.0


def held_out_log_likelihood(training: Fit, probes: Comparisons) -> float:
    a, b = probes.first, probes.second
    margin = training.scores[a] - training.scores[b] + training.position_bias
    variance = training.difference_variance(a, b)
    if not training.exact:  # the conditional approximation omits the (small, for random pairs) covariance
        variance = training.standard_errors[a] ** 2 + training.standard_errors[b] ** 2
    z = margin / np.sqrt(1.0 + np.pi * variance / 8.0)
    signed = np.where(probes.first_won, z, -z)
    return float(-np.logaddexp(0.0, -signed).sum())


def estimate(
    comparisons: Comparisons,
    held_out: np.ndarray,
    *,
    fit_position_bias: bool,
    previous_prior_variance: float | None = None,
    start: np.ndarray | None = None,
    dense_max: int | None = None,
    seed: int = 0,
) -> tuple[HonestReliability, Fit | None]:
    """The honest reliability and the fit to all judgements at the held-out prior scale."""
    probes = comparisons.subset(held_out)
    if len(probes) < MIN_HELD_OUT or comparisons.n_items < 3:
        return NOT_AVAILABLE, None
    training = comparisons.subset(~held_out)
    search = _Search(training, probes, fit_position_bias, start, seed)
    profile = search.run(previous_prior_variance)
    best = _parabola_peak(profile)
    dense = DENSE_MAX if dense_max is None else dense_max
    final = fit(
        comparisons, alpha=1.0 / best, fit_position_bias=fit_position_bias, start=start, seed=seed, dense_max=dense
    )
    point = _profile_interval(profile, best, POINT_DROP)[0] if POINT_DROP > 0 else best
    low, high = _profile_interval(profile, best, INTERVAL_DROP)
    values: dict[float, float] = {}
    for tau2 in (point, low, high):
        if tau2 not in values:
            refit = fit(
                comparisons,
                alpha=1.0 / tau2,
                fit_position_bias=fit_position_bias,
                start=final.scores,
                seed=seed,
                dense_max=dense,
            )
            values[tau2] = model_reliability(refit)
    honest = HonestReliability(True, values[point], values[low], values[high], best, len(probes), len(comparisons))
    return honest, final


class _Search:
    def __init__(
        self, training: Comparisons, probes: Comparisons, with_bias: bool, start: np.ndarray | None, seed: int
    ):
        self.training, self.probes, self.with_bias, self.seed = training, probes, with_bias, seed
        self.start = start
        self.values: dict[float, float] = {}  # log tau^2 -> held-out log likelihood

    def value(self, log_tau2: float) -> float:
        key = round(log_tau2, 9)
        if key not in self.values:
            result = fit(
                self.training,
                alpha=math.exp(-log_tau2),
                fit_position_bias=self.with_bias,
                start=self.start,
                dense_max=SEARCH_DENSE_MAX,
                seed=self.seed,
            )
            self.start = result.scores
            value = held_out_log_likelihood(result, self.probes)
            if self.training.n_items <= DENSE_MAX:  # the rest of the marginal likelihood, p(training | tau^2)
                value += laplace_log_marginal(self.training, result)
            self.values[key] = value
        return self.values[key]

    def run(self, previous: float | None) -> list[tuple[float, float]]:
        step = math.log(GRID_RATIO)
        low, high = math.log(GRID[0]), math.log(GRID[1])
        centre = math.log(previous) if previous else math.log(2.0)
        centre = min(max(centre, low), high)
        # walk uphill from the centre until the maximum is bracketed, then 1.92 below it on both sides
        for point in (centre - step, centre, centre + step):
            self.value(min(max(point, low), high))
        self._extend(step, low, high)
        return sorted(self.values.items())

    def _extend(self, step: float, low: float, high: float) -> None:
        for _ in range(40):
            points = sorted(self.values.items())
            best = max(points, key=lambda item: item[1])
            left, right = points[0], points[-1]
            grow_left = left[0] > low + 1e-9 and (best[0] == left[0] or best[1] - left[1] < 1.92)
            grow_right = right[0] < high - 1e-9 and (best[0] == right[0] or best[1] - right[1] < 1.92)
            if not grow_left and not grow_right:
                return
            if grow_left:
                self.value(max(left[0] - step, low))
            if grow_right:
                self.value(min(right[0] + step, high))


def _parabola_peak(profile: list[tuple[float, float]]) -> float:
    """tau^2 at the maximum of the parabola through the best grid point and its neighbours."""
    xs = np.array([x for x, _ in profile])
    ys = np.array([y for _, y in profile])
    k = int(np.argmax(ys))
    if 0 < k < len(xs) - 1:
        x0, x1, x2 = xs[k - 1 : k + 2]
        y0, y1, y2 = ys[k - 1 : k + 2]
        denominator = (x0 - x1) * (x0 - x2) * (x1 - x2)
        a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denominator
        b = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / denominator
        if a < 0:
            return float(math.exp(min(max(-b / (2 * a), x0), x2)))
    return float(math.exp(xs[k]))


def _profile_interval(profile: list[tuple[float, float]], best: float, drop: float) -> tuple[float, float]:
    """tau^2 where the held-out log likelihood is `drop` below its maximum, by linear interpolation."""
    xs = np.array([x for x, _ in profile])
    ys = np.array([y for _, y in profile])
    top = float(ys.max())
    threshold = top - drop
    k = int(np.argmax(ys))
    low, high = xs[0], xs[-1]
    for i in range(k, 0, -1):
        if ys[i - 1] < threshold:
            low = xs[i - 1] + (threshold - ys[i - 1]) * (xs[i] - xs[i - 1]) / (ys[i] - ys[i - 1])
            break
    for i in range(k, len(xs) - 1):
        if ys[i + 1] < threshold:
            high = xs[i] + (ys[i] - threshold) * (xs[i + 1] - xs[i]) / (ys[i] - ys[i + 1])
            break
    return float(math.exp(min(low, math.log(best)))), float(math.exp(max(high, math.log(best))))
