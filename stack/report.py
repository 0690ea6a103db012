"""An HTML report of an assessment result: a table and a plot of scores with 95% error bars
and the grade boundaries, as inline SVG (no plotting library needed)."""

from __future__ import annotations

import html

from huleedu.cj.v1 import assessment_pb2


def _plot(result: assessment_pb2.AssessmentResult, width: int = 760) -> str:
    essays = list(result.essay_results)
    row, top, left, right = 22, 30, 150, 30
    height = top + row * len(essays) + 40
    low = min([e.score - 1.96 * e.standard_error for e in essays] + [b.score for b in result.grade_boundaries])
    high = max([e.score + 1.96 * e.standard_error for e in essays] + [b.score for b in result.grade_boundaries])
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return left + (value - low) / span * (width - left - right)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="12">'
    ]
    for boundary in result.grade_boundaries:
        bx = x(boundary.score)
        parts.append(
            f'<line x1="{bx:.1f}" y1="{top - 10}" x2="{bx:.1f}" y2="{height - 30}" stroke="#c44" '
            f'stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{bx:.1f}" y="{top - 14}" fill="#c44" text-anchor="middle">'
            f"{html.escape(boundary.lower_grade)}|{html.escape(boundary.upper_grade)}</text>"
        )
    for index, essay in enumerate(essays):
        y = top + row * index + row / 2
        colour = "#777" if essay.is_anchor else "#1f4e9c"
        label = f"{essay.essay_id} ({essay.anchor_grade})" if essay.is_anchor else essay.essay_id
        lo, hi = x(essay.score - 1.96 * essay.standard_error), x(essay.score + 1.96 * essay.standard_error)
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{html.escape(label)}</text>')
        parts.append(
            f'<line x1="{lo:.1f}" y1="{y:.1f}" x2="{hi:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(f'<circle cx="{x(essay.score):.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
    parts.append(
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 8}" text-anchor="middle">'
        f"score (logits), 95% intervals; dashed lines: grade boundaries</text></svg>"
    )
    return "\n".join(parts)


def render(result: assessment_pb2.AssessmentResult, title: str) -> str:
    rows = []
    for essay in result.essay_results:
        projection = essay.grade_projection
        grade = f"{projection.grade} ({projection.confidence:.0%})" if essay.HasField("grade_projection") else "-"
        kind = f"anchor ({html.escape(essay.anchor_grade)})" if essay.is_anchor else "student"
        rows.append(
            f"<tr><td>{essay.rank}</td><td>{html.escape(essay.essay_id)}</td><td>{kind}</td>"
            f"<td>{essay.score:+.2f} ± {1.96 * essay.standard_error:.2f}</td><td>{grade}</td>"
            f"<td>{essay.comparison_count}</td></tr>"
        )
    reliability = result.reliability
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}td,th{{padding:.2em .8em;text-align:left}}
tr:nth-child(even){{background:#f4f4f4}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{result.comparisons_succeeded} judgements ({result.comparisons_attempted} attempted).
Split-half reliability {reliability.split_half_reliability:.2f}; scale separation reliability
{reliability.scale_separation_reliability:.2f}; mean standard error {reliability.mean_standard_error:.2f}.
First-shown essay won {result.position_bias.first_position_win_rate:.0%} of judgements.
{html.escape(result.grades_note)}</p>
{_plot(result)}
<h2>Ranks, scores and grades</h2>
<table><tr><th>Rank</th><th>Essay</th><th></th><th>Score ± 95%</th><th>Grade (probability)</th>
<th>Comparisons</th></tr>
{"".join(rows)}
</table></body></html>
"""
