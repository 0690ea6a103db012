"""Grades from anchor essays, with a probability for every grade.

Scales are ordered lowest first. Anchors are compared like any essay; their fitted
scores place the grades on the score scale:

1. centre of grade g = mean score of its anchors; centres made non-decreasing in
   grade order by isotonic regression (pool adjacent violators, weighted by anchor
   count); grades without anchors get centres by linear interpolation between the
   neighbouring anchored grades, or extrapolation by the mean spacing beyond them;
2. boundary between grades g and g+1 = midpoint of their centres; the lowest grade
   extends to -inf and the highest to +inf;
3. an essay with score s and standard error se gets
       P(g) = Phi((upper_g - s) / se) - Phi((lower_g - s) / se),
   its score's uncertainty integrated over each grade's interval. The projected
   grade is the most probable one and its probability is the confidence
   (HIGH >= 0.8, MEDIUM >= 0.5, else LOW).

At least two distinct anchored grades are needed; otherwise no grades are
projected and the result says why.

Swedish steps (the reference's final grade, scale `swedish_f_to_a`). The displayed
grade refines the projected one by the score's place r = (s - lower_g) / (upper_g - lower_g)
within its grade's interval: F, D+ and C+ stay as they are; E, D, C, B and A with
r < 0.25 become E-, D-, C-, B-, A-; E and B with r > 0.75 become E+ and B+. An open
interval (the lowest and the highest grade) takes the width of its neighbour, so A-
exists (in the reference an infinite width made r = 0.5 and A- impossible).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr


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


@dataclass(frozen=True)
class Calibration:
    scale: GradeScale
    centres: np.ndarray
    boundaries: np.ndarray  # len(grades) - 1 cut points, non-decreasing


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


def calibrate(scale: GradeScale, anchor_grades: list[str], anchor_scores: np.ndarray) -> Calibration | None:
    indices = np.array([scale.index(g) for g in anchor_grades])
    anchored = sorted(set(indices.tolist()))
    if len(anchored) < 2:
        return None
    means = np.array([anchor_scores[indices == g].mean() for g in anchored])
    counts = np.array([(indices == g).sum() for g in anchored], dtype=float)
    means = isotonic(means, counts)
    all_grades = np.arange(len(scale.grades))
    centres = np.interp(all_grades, anchored, means)
    spacing = (means[-1] - means[0]) / (anchored[-1] - anchored[0])
    below, above = all_grades < anchored[0], all_grades > anchored[-1]
    centres[below] = means[0] - spacing * (anchored[0] - all_grades[below])
    centres[above] = means[-1] + spacing * (all_grades[above] - anchored[-1])
    return Calibration(scale, centres, (centres[:-1] + centres[1:]) / 2)


def project(calibration: Calibration, score: float, standard_error: float) -> Projection:
    se = max(standard_error, 1e-6)
    edges = np.concatenate([[-np.inf], calibration.boundaries, [np.inf]])
    cumulative = ndtr((edges - score) / se)
    probabilities = np.clip(np.diff(cumulative), 0.0, 1.0)
    probabilities = probabilities / probabilities.sum()
    best = int(np.argmax(probabilities))
    confidence = float(probabilities[best])
    label = "HIGH" if confidence >= 0.8 else "MEDIUM" if confidence >= 0.5 else "LOW"
    grades = calibration.scale.grades
    display = swedish_step(calibration, best, score) if calibration.scale.scale_id == SWEDISH_SCALE_ID else grades[best]
    return Projection(
        grades[best], {g: float(p) for g, p in zip(grades, probabilities, strict=True)}, confidence, label, display
    )
