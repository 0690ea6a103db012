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
(bench/cj_simulation.py) at 100 essays or more; the difficulty is tau, and with few essays the
realized sample itself (below).

Why not empirical Bayes on all judgements. The adaptive pairs are near neighbours with
p ~ 1/2; their likelihood hardly identifies the global scale, and the Laplace / PQL
marginal likelihood is biased towards small tau there (at N = 100, sigma = 2 it put
tau^2 at 0.5-2.5 against a truth of 3.6), which understates rho by 0.05-0.3. Random
pairs among the judgements fix that: with the probes below included, the marginal
likelihood of all judgements peaked near the true tau^2 at N = 100 (sigma = 1 and 2, 8 seeds,
k = 10-20: median factor 1.15, at most 2.6, the truth inside its 95% interval in 48 of 48
runs; at N = 30, sigma = 1 in 28 of 36), and expectation propagation (checked against Monte
Carlo integration) peaked at Laplace's grid point or one step (a factor of 1.25) from it in
82 of those 84 runs, two steps in the other 2:
the approximation is not what limits the estimate; how much the judgements say about tau is.

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

The reported figures: a posterior for rho itself. (1) at one tau^2 leaves out two uncertainties a single run
has: tau^2 is only known to within its profile (at 30 essays and a weak judge, a
factor of 10), and given tau^2 the realized corr(theta_hat, q)^2 of *these* essays
still varies with the q the judgements leave open. Measured with the true tau^2 (the
sample variance of the judge's quality), (1)'s error has a standard deviation of 0.06
at N = 30, sigma = 1, k = 10 and 0.015-0.03 at N = 100 (bench/cj_simulation.py runs,
docs/benchmarks.md): no figure computed from the judgements knows one run's truth
closer than that. So the posterior of rho is sampled:

    log tau^2 ~ exp(profile) on the search grid (flat prior on log tau^2; the grid points
                carrying `SAMPLED_MASS` of it, at most `MAX_SAMPLED`),
    q | tau^2 ~ N(theta_hat(tau^2), S(tau^2))  (the fit to all judgements at that tau^2,
                `DRAWS` draws; correlated up to `SEARCH_DENSE_MAX` essays, independent above:
                at N = 500 the two gave the same figures to 0.001 at half the cost),
    rho       = corr(theta_hat, q)^2, theta_hat the reported scores (the fit at the maximum).

`estimate` is the posterior's lower quartile (`ESTIMATE_QUANTILE`): the realized
reliability is at least that with probability 3/4. `lower` and `upper` are its 2.5% and
97.5% quantiles. The draws are seeded by the assessment's seed and the number of
judgements, so a state always gives the same figures.

Why the lower quartile. The estimate is what the stop compares with the target
(stopping.py), and it is looked at after every refresh, so where it errs high the stop
fires there; a median would overstate in half the runs. Measured over the grid N = 30
and 100, sigma = 1-3, position bias 0-1, 8 seeds per cell, k = 10-30 (docs/benchmarks.md):
at sigma = 2-3 and k >= 15 the quartile is 0.00-0.04 below the truth on average and at most
+0.04 above it in a run; with a weak judge (sigma = 1) it is 0.01-0.22 below on average,
and single runs at N <= 100 still overstate by up to +0.15 where the judgements mislead
the scale itself (the marginal likelihood's 95% interval for tau^2 excluding the truth:
no estimate from these judgements can know better; the floor, (1) at the true tau^2, errs
by up to +0.12 there). At the stop, over 117 runs of the same grid with N = 500 added, no
target stop reported more than 0.05 above the truth (before: 2 of 78) and the lowest
truth at a target stop was 0.869; the stop fires 0.1-1.7 comparisons per essay later than
with the previous figure (paired, 80 runs). That figure, (1) at tau^2 0.7 standard errors
below the maximum with an interval from the profile alone, left out the second
uncertainty: its 95% interval held the truth in 62% of runs on average (0-25% at N = 30,
sigma = 3, bias 1); the posterior's holds it in 96%.

Cost: a grid of fits to the training comparisons (each sparse, warm-started, O(n + K)),
one fit to all, and one more fit to all per sampled tau^2 with its draws (O(DRAWS n^2)
with correlated draws, O(DRAWS n) above). With fewer than `MIN_HELD_OUT` probes judged there is no estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cj_server.domain.bradley_terry import DENSE_MAX, Comparisons, Fit, eigen_floored, fit, laplace_log_marginal
from cj_server.domain.pairing import AskedPairs

MIN_HELD_OUT = 12
GRID_RATIO = 1.5  # neighbouring grid values of tau^2 differ by this factor
GRID = (0.05, 50.0)  # tau^2 searched within this range (logits^2)
TAIL_DROP = 3.0  # the search extends until the profile is this far below its maximum on both sides
SAMPLED_MASS = 0.99  # the grid points of tau^2 carrying this share of its posterior are sampled...
MAX_SAMPLED = 6  # ... at most this many, the heaviest
DRAWS = 200  # draws of the abilities per sampled tau^2
ESTIMATE_QUANTILE = 0.25  # the reported estimate: the lower quartile of the posterior of rho
INTERVAL_QUANTILES = (0.025, 0.975)  # the reported interval: 95%, central
SEARCH_DENSE_MAX = 300  # exact covariance in the search fits and the draws up to this n, approximations above


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
    estimate: float  # the lower quartile of the posterior of rho (the module docstring)
    lower: float  # the posterior's 95% central interval
    upper: float
    prior_variance: float  # tau^2 at the maximum of the marginal likelihood (the reported scores' prior)
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
    """The honest reliability and the fit to all judgements at the most likely prior scale."""
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
    draws, weights = _posterior_draws(comparisons, profile, final, fit_position_bias, seed)
    point, low, high = _weighted_quantiles(draws, weights, (ESTIMATE_QUANTILE, *INTERVAL_QUANTILES))
    return HonestReliability(True, point, low, high, best, len(probes), len(comparisons)), final


def posterior_weights(profile: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """The grid points of log tau^2 that carry `SAMPLED_MASS` of its posterior (flat prior on log tau^2,
    the grid evenly spaced), heaviest first, at most `MAX_SAMPLED`; their weights renormalised."""
    xs = np.array([x for x, _ in profile])
    ys = np.array([y for _, y in profile])
    weights = np.exp(ys - ys.max())
    weights /= weights.sum()
    order = np.argsort(-weights, kind="stable")
    kept = int(np.searchsorted(np.cumsum(weights[order]), SAMPLED_MASS)) + 1
    chosen = order[: min(kept, MAX_SAMPLED, len(order))]
    return xs[chosen], weights[chosen] / weights[chosen].sum()


def _posterior_draws(
    comparisons: Comparisons, profile: list[tuple[float, float]], final: Fit, with_bias: bool, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of rho = corr(theta_hat, q)^2 from its posterior: tau^2 from the profile, q | tau^2 from the fit."""
    rng = np.random.default_rng([seed, len(comparisons), 4099])
    reported = final.scores - final.scores.mean()
    draws, weights = [], []
    for log_tau2, weight in zip(*posterior_weights(profile), strict=True):
        at = fit(
            comparisons,
            alpha=math.exp(-log_tau2),
            fit_position_bias=with_bias,
            start=final.scores,
            seed=seed,
            dense_max=SEARCH_DENSE_MAX,
        )
        draws.append(squared_correlations(_draw_abilities(at, rng, DRAWS), reported))
        weights.append(np.full(DRAWS, weight / DRAWS))
    return np.concatenate(draws), np.concatenate(weights)


def _draw_abilities(result: Fit, rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, n) draws from N(theta_hat, S): exact covariance where the fit has one, else independent."""
    z = rng.standard_normal((count, len(result.scores)))
    if result.covariance is None:
        return np.asarray(result.scores + z * result.standard_errors)
    values, vectors = eigen_floored(result.covariance)
    return np.asarray(result.scores + z @ (vectors * np.sqrt(values)).T)


def squared_correlations(abilities: np.ndarray, reported: np.ndarray) -> np.ndarray:
    """corr(reported, q)^2 for each row q of `abilities` (reported centred)."""
    centred = abilities - abilities.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.sum(centred**2, axis=1) * float(np.sum(reported**2)))
    return np.asarray(np.where(norms > 0, (centred @ reported) / np.where(norms > 0, norms, 1.0), 0.0) ** 2)


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, levels: tuple[float, ...]) -> list[float]:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    cumulative /= cumulative[-1]
    return [float(values[order][min(int(np.searchsorted(cumulative, level)), len(values) - 1)]) for level in levels]


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
        # walk uphill from the centre until the maximum is bracketed, then TAIL_DROP below it on both sides
        for point in (centre - step, centre, centre + step):
            self.value(min(max(point, low), high))
        self._extend(step, low, high)
        return sorted(self.values.items())

    def _extend(self, step: float, low: float, high: float) -> None:
        for _ in range(40):
            points = sorted(self.values.items())
            best = max(points, key=lambda item: item[1])
            left, right = points[0], points[-1]
            grow_left = left[0] > low + 1e-9 and (best[0] == left[0] or best[1] - left[1] < TAIL_DROP)
            grow_right = right[0] < high - 1e-9 and (best[0] == right[0] or best[1] - right[1] < TAIL_DROP)
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
