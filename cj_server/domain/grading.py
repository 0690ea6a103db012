"""Grades from anchor essays, with a probability for every grade.

Scales are ordered lowest first, grades g = 0..G-1. Anchors are compared like any
essay; their grades are data about where the grades lie on the score scale.

Model. Every essay has an ability q (logits); the scale has cuts c_0 <= ... <= c_{G-2}
and an essay is in grade g when c_{g-1} < q <= c_g (c_{-1} = -inf, c_{G-1} = +inf).
The fit gives the abilities' posterior N(theta, S) (Laplace; `bradley_terry.py`). An
anchor of grade g lies in grade g's interval, so with a flat prior on the ordered
cuts the joint posterior of the anchors' abilities q_A and the cuts is

    p(q_A, c | judgements, anchor grades) ~ N(q_A; theta_A, S_AA) prod_a 1[c_{g_a - 1} < q_a <= c_{g_a}]

and an essay i given the anchors is N(theta_i + K_i (q_A - theta_A), S_ii - K_i S_Ai),
K_i = S_iA S_AA^-1 (anchors and essays are correlated: they were compared with each
other). Between two anchored grades h < h' the h' - h cuts lie between the highest
anchor of h and the lowest anchor of h' and, given the anchors, are sorted uniforms
there (the flat prior): the boundary is uncertain by the anchors' own uncertainty and
by where between two anchors it falls. Beyond the anchored range there are no data;
by convention the cut below the lowest anchored grade h_1 is at its anchors' mean
minus half the spacing s = (mean of h_m's anchors - mean of h_1's) / (h_m - h_1) (not
above its lowest anchor), further cuts s apart, and alike above the highest.

Sampling (data augmentation for ordinal data, Albert and Chib 1993): `CHAINS`
chains (fewer with many anchors, so the cost stays bounded), started from a draw of
N(theta_A, S_AA) rearranged into grade order, alternate (1) each anchor from its
normal conditional given the other anchors, truncated to its grade's interval, and
(2) the cuts given the anchors as above; `SWEEPS` sweeps, the first `BURN_IN`
dropped, seed fixed (the result is a function of the data); a sweep costs
O(chains * anchors^2). Anchor scores given
without a covariance are taken as exact (made order-consistent by isotonic
regression over the anchors sorted by grade), and only the cuts are drawn.

Per essay, d_g = c_g - q_i is taken as normal with its exact mean and variance under
the samples:

    E d_g   = E c_g - theta_i - K_i E[q_A - theta_A]
    Var d_g = (S_ii - K_i S_Ai) + Var c_g - 2 K_i Cov(q_A, c_g) + K_i Cov(q_A) K_i^T
    P(grade <= g) = Phi(E d_g / sd d_g) (made non-decreasing in g),  P(g) = its increments.

Without a covariance (above the fit's dense limit) K_i = 0. Anchors are projected
like a student with their score (K = 0), so an anchor that scores like another grade
shows it. The projected grade is the most probable one and its probability the
confidence (HIGH >= 0.8, MEDIUM >= 0.5, else LOW); `boundaries` are E c_g.

Why. The previous rule put each boundary at the midpoint of the neighbouring grades'
anchor means and integrated only the essay's own standard error over it. Over seeds 0-19
of the grading benchmark (100 students, 3 anchors per grade, 20 comparisons per essay,
sigma = 2) it was overconfident: mean confidence 0.674 against an accuracy of 0.633,
0.75 against 0.65 in the 0.7-0.8 bin; the boundary's uncertainty was missing, and a
tail grade's anchor mean lies deep in the tail, so the outer midpoints are biased
outwards. With this model: 0.638 against 0.647 there, and 0.649 against 0.642 on seeds
20-59, which it was not developed on (calibration error over those 4,000 essays 0.027,
0.053 before; perfectly calibrated probabilities show 0.013 on so many). The largest
gap left is the 0.6-0.7 bin (0.64 against 0.58): the flat prior does not know that the
grades are about equally wide. No parameter was fitted to the benchmark
(docs/benchmarks.md).

At least two distinct anchored grades are needed; otherwise no grades are
projected and the result says why. `centres` (each grade's anchor mean made
monotone by isotonic regression, interpolated and extrapolated for grades without
anchors) are kept for display.

Swedish steps (the reference's final grade, scale `swedish_f_to_a`). The displayed
grade refines the projected one by the score's place r = (s - lower_g) / (upper_g - lower_g)
within its grade's interval (the boundaries E c_g): F, D+ and C+ stay as they are; E, D,
C, B and A with r < 0.25 become E-, D-, C-, B-, A-; E and B with r > 0.75 become E+ and B+.
An open interval (the lowest and the highest grade) takes the width of its neighbour, so
A- exists (in the reference an infinite width made r = 0.5 and A- impossible).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy.special import ndtr, ndtri

from cj_server.domain.bradley_terry import eigen_floored


@dataclass(frozen=True)
class GradeScale:
    scale_id: str
    display_name: str
    grades: tuple[str, ...]  # lowest first
    priors: tuple[float, ...] = ()

    def index(self, grade: str) -> int | None:
        try:
            return self.grades.index(grade)
        except ValueError:
            return None


BUILT_IN_SCALES = {
    scale.scale_id: scale
    for scale in (
        GradeScale(
            "swedish_f_to_a",
            "Swedish F-A with D+ and C+ (the reference's anchor scale)",
            ("F", "E", "D", "D+", "C", "C+", "B", "A"),
            (0.02, 0.08, 0.15, 0.20, 0.25, 0.15, 0.10, 0.05),
        ),
        GradeScale("national_1_to_9", "National numeric 1-9", tuple(str(g) for g in range(1, 10))),
        GradeScale("letter_a_to_f", "Letter grades F-A", ("F", "E", "D", "C", "B", "A")),
    )
}


CHAINS = 128  # Gibbs chains, at most (vectorised: one sweep updates every chain at once)
MIN_CHAINS = 16
CHAIN_WORK = 128 * 30 * 30  # chains * anchors^2 kept below this: the cost of a sweep is O(chains * anchors^2)
SWEEPS = 80
BURN_IN = 40
SEED = 0
EXACT_DRAWS = 4096  # draws of the cuts when the anchors' scores are taken as exact


@dataclass(frozen=True)
class Calibration:
    scale: GradeScale
    centres: np.ndarray  # for display: isotonic anchor means per grade
    boundaries: np.ndarray  # len(grades) - 1 cuts, posterior means E c_g, non-decreasing
    cut_variance: np.ndarray  # Var c_g
    anchor_shift: np.ndarray  # E[q_A] - theta_A under the anchors' grades
    anchor_covariance: np.ndarray  # Cov(q_A) under them
    anchor_cut_covariance: np.ndarray  # Cov(q_A, c): (anchors, len(grades) - 1)
    anchor_precision: np.ndarray | None = None  # S_AA^-1; None when the anchors' scores were taken as exact


@dataclass(frozen=True)
class Projection:
    grade: str
    probabilities: dict[str, float]
    confidence: float
    label: str  # HIGH, MEDIUM, LOW
    display_grade: str = ""  # with the Swedish minus and plus steps; the grade on other scales


SWEDISH_SCALE_ID = "swedish_f_to_a"
MINUS_STEPS = frozenset({"E", "D", "C", "B", "A"})
PLUS_STEPS = frozenset({"E", "B"})


def swedish_step(calibration: Calibration, grade_index: int, score: float) -> str:
    """The reference's minus/plus refinement of a Swedish grade by the score's place in its interval."""
    grades = calibration.scale.grades
    grade = grades[grade_index]
    if grade not in MINUS_STEPS and grade not in PLUS_STEPS:
        return grade
    edges = calibration.boundaries
    lower = edges[grade_index - 1] if grade_index > 0 else None
    upper = edges[grade_index] if grade_index < len(edges) else None
    widths = np.diff(edges)
    neighbour = float(widths[0] if grade_index == 0 else widths[-1]) if len(widths) else 1.0
    if lower is None and upper is not None:
        lower = upper - neighbour
    if upper is None and lower is not None:
        upper = lower + neighbour
    if lower is None or upper is None or upper <= lower:
        return grade
    place = (score - lower) / (upper - lower)
    if grade in MINUS_STEPS and place < 0.25:
        return f"{grade}-"
    if grade in PLUS_STEPS and place > 0.75:
        return f"{grade}+"
    return grade


def isotonic(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([float(value), float(weight), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean2, weight2, count2 = blocks.pop()
            mean1, weight1, count1 = blocks.pop()
            total = weight1 + weight2
            blocks.append([(mean1 * weight1 + mean2 * weight2) / total, total, count1 + count2])
    return np.concatenate([np.full(count, mean) for mean, _, count in blocks])


def calibrate(
    scale: GradeScale,
    anchor_grades: list[str],
    anchor_scores: np.ndarray,
    anchor_covariance: np.ndarray | None = None,
) -> Calibration | None:
    """The cuts' posterior from the anchors (module docstring); `anchor_covariance` is S_AA of the fit
    (None: the scores are taken as exact). None when fewer than two grades have anchors."""
    indices = np.array([scale.index(g) for g in anchor_grades], dtype=np.int64)
    anchored = sorted(set(indices.tolist()))
    if len(anchored) < 2:
        return None
    scores = np.asarray(anchor_scores, dtype=float)
    rng = np.random.default_rng(SEED)
    precision = None
    if anchor_covariance is None or not np.any(np.diag(anchor_covariance) > 0):
        consistent = _order_consistent(scores, indices)
        q = np.broadcast_to(consistent, (EXACT_DRAWS, len(scores)))
        cuts = _cuts(q, indices, anchored, len(scale.grades), rng)
    else:
        q, cuts, precision = _gibbs(scores, np.asarray(anchor_covariance, dtype=float), indices, anchored, scale, rng)
    q_centred, cuts_centred = q - q.mean(axis=0), cuts - cuts.mean(axis=0)
    draws = len(q)
    return Calibration(
        scale=scale,
        centres=_centres(scale, indices, scores, anchored),
        boundaries=np.maximum.accumulate(cuts.mean(axis=0)),
        cut_variance=cuts_centred.var(axis=0),
        anchor_shift=q.mean(axis=0) - scores,
        anchor_covariance=q_centred.T @ q_centred / draws,
        anchor_cut_covariance=q_centred.T @ cuts_centred / draws,
        anchor_precision=precision,
    )


def _centres(scale: GradeScale, indices: np.ndarray, scores: np.ndarray, anchored: list[int]) -> np.ndarray:
    means = np.array([scores[indices == g].mean() for g in anchored])
    counts = np.array([(indices == g).sum() for g in anchored], dtype=float)
    means = isotonic(means, counts)
    all_grades = np.arange(len(scale.grades))
    centres = np.asarray(np.interp(all_grades, anchored, means), dtype=float)
    spacing = (means[-1] - means[0]) / (anchored[-1] - anchored[0])
    below, above = all_grades < anchored[0], all_grades > anchored[-1]
    centres[below] = means[0] - spacing * (anchored[0] - all_grades[below])
    centres[above] = means[-1] + spacing * (all_grades[above] - anchored[-1])
    return centres


def _order_consistent(scores: np.ndarray, grades: np.ndarray) -> np.ndarray:
    """The nearest scores (least squares) with every anchor at or below every anchor of a higher grade:
    isotonic regression over the anchors sorted by grade, then by score."""
    order = np.lexsort((scores, grades))
    result = np.empty_like(scores)
    result[order] = isotonic(scores[order], np.ones(len(scores)))
    return result


def _cuts(
    q: np.ndarray, grades: np.ndarray, anchored: list[int], n_grades: int, rng: np.random.Generator
) -> np.ndarray:
    """Cuts given the anchors' abilities (one row per draw): sorted uniforms between neighbouring anchored
    grades, the spacing convention beyond them."""
    draws = len(q)
    cuts = np.empty((draws, n_grades - 1))
    lowest = {h: q[:, grades == h].min(axis=1) for h in anchored}
    highest = {h: q[:, grades == h].max(axis=1) for h in anchored}
    for h, h_next in pairwise(anchored):
        fractions = np.sort(rng.random((draws, h_next - h)), axis=1)
        cuts[:, h:h_next] = highest[h][:, None] + (lowest[h_next] - highest[h])[:, None] * fractions
    first, last = anchored[0], anchored[-1]
    mean_first, mean_last = q[:, grades == first].mean(axis=1), q[:, grades == last].mean(axis=1)
    spacing = (mean_last - mean_first) / (last - first)
    below = np.minimum(mean_first - spacing / 2, lowest[first])
    for j in range(first):
        cuts[:, first - 1 - j] = below - j * spacing
    above = np.maximum(mean_last + spacing / 2, highest[last])
    for j in range(n_grades - 1 - last):
        cuts[:, last + j] = above + j * spacing
    return cuts


def _factor(covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A square root and the inverse of a covariance (singular along the mean when every essay is an anchor)."""
    values, vectors = eigen_floored(covariance)
    return vectors * np.sqrt(values), (vectors / values) @ vectors.T


def _gibbs(
    scores: np.ndarray,
    covariance: np.ndarray,
    grades: np.ndarray,
    anchored: list[int],
    scale: GradeScale,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draws of the anchors' abilities and the cuts from their joint posterior (module docstring)."""
    n_anchors, n_grades = len(scores), len(scale.grades)
    chains = max(MIN_CHAINS, min(CHAINS, CHAIN_WORK // max(n_anchors * n_anchors, 1)))
    root, precision = _factor(covariance)
    diagonal = np.diag(precision)
    conditional_sd = 1.0 / np.sqrt(diagonal)
    draws = scores + rng.standard_normal((chains, n_anchors)) @ root.T
    q = np.empty_like(draws)
    q[:, np.argsort(grades, kind="stable")] = np.sort(draws, axis=1)  # grade order: a consistent start
    first, last = anchored[0], anchored[-1]
    cuts = _cuts(q, grades, anchored, n_grades, rng)
    kept_q, kept_cuts = [], []
    unbounded = np.full(chains, np.inf)
    for sweep in range(SWEEPS):
        for j in range(n_anchors):
            residual = q - scores
            mean = scores[j] - (residual @ precision[j] - diagonal[j] * residual[:, j]) / diagonal[j]
            g = grades[j]
            low = cuts[:, g - 1] if g > first else -unbounded
            high = cuts[:, g] if g < last else unbounded
            q[:, j] = truncated_normal(rng, mean, conditional_sd[j], low, high)
        cuts = _cuts(q, grades, anchored, n_grades, rng)
        if sweep >= BURN_IN:
            kept_q.append(q.copy())
            kept_cuts.append(cuts)
    return np.concatenate(kept_q), np.concatenate(kept_cuts), precision


def truncated_normal(
    rng: np.random.Generator, mean: np.ndarray, sd: float, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """One draw per element of N(mean, sd^2) truncated to [low, high], by the inverse CDF on the side of
    the mean where it is accurate (an interval above the mean is drawn as its mirror image)."""
    a, b = (low - mean) / sd, (high - mean) / sd
    flip = a > 0
    a, b = np.where(flip, -b, a), np.where(flip, -a, b)
    pa, pb = ndtr(a), ndtr(b)
    u = pa + (pb - pa) * (rng.random(len(mean)) + 2.0**-54)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = ndtri(np.minimum(u, 1.0 - 2.0**-53))
    z = np.where(np.isfinite(z), z, np.where(np.isfinite(b), b, a))  # both ends far in a tail: the nearer end
    z = np.clip(z, a, b)
    return np.asarray(mean + sd * np.where(flip, -z, z))


def project_many(
    calibration: Calibration, scores: np.ndarray, variances: np.ndarray, cross: np.ndarray | None = None
) -> list[Projection]:
    """Projections of essays with posterior means `scores`, variances `variances` and covariances `cross`
    with the anchors (rows; None or zero rows: independent of them), as in the module docstring."""
    scores, variances = np.asarray(scores, dtype=float), np.asarray(variances, dtype=float)
    mean = calibration.boundaries[None, :] - scores[:, None]
    variance = variances[:, None] + calibration.cut_variance[None, :]
    if cross is not None and calibration.anchor_precision is not None:
        gain = cross @ calibration.anchor_precision  # K_i
        mean = mean - (gain @ calibration.anchor_shift)[:, None]
        explained = np.einsum("ij,ij->i", gain, cross) - np.einsum(
            "ij,jk,ik->i", gain, calibration.anchor_covariance, gain
        )
        variance = variance - explained[:, None] - 2.0 * gain @ calibration.anchor_cut_covariance
    cumulative = np.maximum.accumulate(ndtr(mean / np.sqrt(np.maximum(variance, 1e-12))), axis=1)
    ones = np.ones((len(scores), 1))
    probabilities = np.clip(np.diff(np.hstack([0.0 * ones, cumulative, ones]), axis=1), 0.0, 1.0)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return [_projection(calibration, float(s), p) for s, p in zip(scores, probabilities, strict=True)]


def project(calibration: Calibration, score: float, standard_error: float) -> Projection:
    """One essay independent of the anchors (its score and standard error)."""
    return project_many(calibration, np.array([score]), np.array([standard_error**2]))[0]


def _projection(calibration: Calibration, score: float, probabilities: np.ndarray) -> Projection:
    best = int(np.argmax(probabilities))
    confidence = float(probabilities[best])
    label = "HIGH" if confidence >= 0.8 else "MEDIUM" if confidence >= 0.5 else "LOW"
    grades = calibration.scale.grades
    display = swedish_step(calibration, best, score) if calibration.scale.scale_id == SWEDISH_SCALE_ID else grades[best]
    return Projection(
        grades[best], {g: float(p) for g, p in zip(grades, probabilities, strict=True)}, confidence, label, display
    )
