"""A teacher's report of a finished assessment: one self-contained HTML file (inline SVG and CSS,
no scripts, nothing fetched), readable offline and printable.

`collect` reads what the report needs from the CJ server (the assessment, its result, its grade
scale and every judgement, replayed from the start of the assessment's event stream); `render`
turns that into the page. `huleedu report` and the demo both call these two.

Grades and the plot agree by construction: the bands are drawn from the result's grade
boundaries, and each essay whose projected grade (the most probable one, integrating the score's
uncertainty) is not the band its score is drawn in is marked in the plot and the table, with the
reason in a note.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from google.protobuf.timestamp_pb2 import Timestamp
from huleedu.cj.v1 import assessment_pb2
from huleedu.cj.v1 import cj_assessment_service_pb2 as cj_pb
from huleedu.llm.v1 import comparison_pb2

from huleedu_cli.essays import names_from_labels

Z95 = 1.96
LOW_STAKES, HIGH_STAKES = 0.7, 0.9  # the usual floors for using CJ results at all, and for high stakes
STOP_REASONS = {
    assessment_pb2.AssessmentResult.STOP_REASON_TARGET_RELIABILITY: "the target reliability was reached",
    assessment_pb2.AssessmentResult.STOP_REASON_BUDGET_SPENT: "the comparison budget was spent",
    assessment_pb2.AssessmentResult.STOP_REASON_NO_INFORMATIVE_PAIR: "no pair was left that would tell more",
    assessment_pb2.AssessmentResult.STOP_REASON_ALL_PAIRS_JUDGED: "every pair was judged",
}


@dataclass
class ReportData:
    result: assessment_pb2.AssessmentResult
    assessment: assessment_pb2.Assessment = field(default_factory=assessment_pb2.Assessment)
    scale: assessment_pb2.GradeScale | None = None
    judgements: list[assessment_pb2.Judgement] = field(default_factory=list)

    @cached_property
    def names(self) -> dict[str, str]:
        return names_from_labels(dict(self.assessment.labels))

    def name(self, essay_id: str) -> str:
        return self.names.get(essay_id, essay_id)


async def collect(cj, name: str, metadata=(), call_seconds: float = 30.0) -> ReportData:
    """Everything the report shows, from the CJ server (`cj` a CjAssessmentService stub); each unary
    call gets `call_seconds`, the replay of the judgements ten times that."""
    options = {"metadata": metadata, "timeout": call_seconds}
    assessment = (await cj.GetAssessment(cj_pb.GetAssessmentRequest(name=name), **options)).assessment
    result = (await cj.GetAssessmentResult(cj_pb.GetAssessmentResultRequest(name=name), **options)).result
    scales = (await cj.ListGradeScales(cj_pb.ListGradeScalesRequest(), **options)).grade_scales
    scale = next((s for s in scales if s.scale_id == result.grade_scale_id), None)
    judgements = []
    request = cj_pb.StreamComparisonResultsRequest(name=name)
    stream = cj.StreamComparisonResults(request, metadata=metadata, timeout=call_seconds * 10)
    async for event in stream:
        if event.HasField("judgement"):
            judgements.append(event.judgement)
        elif event.HasField("result") or event.HasField("final_assessment"):
            break
    stream.cancel()
    return ReportData(result=result, assessment=assessment, scale=scale, judgements=judgements)


# ---- reliability -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: float
    meaning: str
    interval: tuple[float, float] | None = None


def reliability_figures(reliability: assessment_pb2.Reliability) -> list[Figure]:
    """The figures to show, the one to trust first: the CJ server's honest estimate (the figure
    its stop compares with the target), then split-half and SSR, labelled for what they are."""
    return [
        Figure(
            "honest estimate",
            reliability.estimate,
            "how closely the scores follow the judge's true ordering of the essays (a squared correlation), "
            "measured with comparisons chosen at random and held out from the adaptive pairing, so the pairing "
            "cannot inflate it; a cautious figure: the true one is at least this with probability 3 in 4",
            (reliability.estimate_lower, reliability.estimate_upper),
        ),
        Figure(
            "split-half reliability",
            reliability.split_half_reliability,
            "the judgements split into two halves, each half scored on its own, and the two rankings compared "
            "(Spearman-Brown corrected); each half's pairs were chosen knowing the other's outcomes, so it reads "
            "too high when the judge is weak",
        ),
        Figure(
            "scale separation reliability (SSR)",
            reliability.scale_separation_reliability,
            "how far apart the scores are compared with their uncertainty; adaptive pairing, which picks close "
            "pairs, makes it read too high, so it is shown for comparison only",
        ),
    ]


def verdict(value: float) -> tuple[str, str]:
    """(css class, plain words) for the leading reliability figure, judged as shown (two decimals)."""
    value = round(value, 2) if math.isfinite(value) else value
    if not math.isfinite(value) or value < LOW_STAKES:
        return "warning", (
            f"Too low for grades: below {LOW_STAKES:.1f} another run of the same judging could order these essays "
            "quite differently. Use the ranking and grades only as a first impression, not as results; more "
            "comparisons (a larger budget) raise it."
        )
    if value < HIGH_STAKES:
        return "caution", (
            f"Good enough for low-stakes use (feedback, grouping), between {LOW_STAKES:.1f} and {HIGH_STAKES:.1f}. "
            f"For decisions that matter, aim for {HIGH_STAKES:.1f} or more."
        )
    return "ok", f"High: {HIGH_STAKES:.1f} or more, the usual level for high-stakes use."


# ---- grades and bands ------------------------------------------------------------------------------


def band_grades(result: assessment_pb2.AssessmentResult) -> tuple[list[float], list[str]]:
    """The cut scores and the grades between them, lowest first (empty without grades)."""
    boundaries = sorted(result.grade_boundaries, key=lambda b: b.score)
    if not result.grades_projected or not boundaries:
        return [], []
    return [b.score for b in boundaries], [boundaries[0].lower_grade, *(b.upper_grade for b in boundaries)]


def off_band_reason(essay: assessment_pb2.EssayResult, band: str) -> str:
    projection = essay.grade_projection
    probabilities = {p.grade: p.probability for p in projection.probabilities}
    return (
        f"its score lies in the {band} band, but its 95% interval reaches into neighbouring bands and, with the "
        f"score's uncertainty taken into account, {projection.grade} is more probable "
        f"({projection.confidence:.0%}) than {band} ({probabilities.get(band, 0.0):.0%})"
    )


# ---- rendering ---------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value))


def _time(stamp: Timestamp) -> str:
    if not stamp.seconds:
        return "-"
    return datetime.fromtimestamp(stamp.seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _grade_order(data: ReportData) -> list[str]:
    if data.scale is not None:
        return [g.label for g in data.scale.grades]
    first = data.result.essay_results[0] if data.result.essay_results else None
    return [p.grade for p in first.grade_projection.probabilities] if first else []


def render(data: ReportData, title: str = "") -> str:
    result = data.result
    cuts, grades = band_grades(result)
    off_band = {
        e.essay_id: band
        for e in result.essay_results
        if grades and (band := _band(e.score, cuts, grades)) != e.grade_projection.grade
    }
    title = title or f"Comparative judgement: {result.assessment}"
    sections = [
        f"<h1>{_e(title)}</h1>",
        _metadata(data),
        _reliability(result),
        _plot(data, cuts, grades, off_band),
        _grades_note(result, data, off_band),
        _table(data, off_band),
        _judgements(data),
    ]
    return PAGE.format(title=_e(title), style=STYLE, body="\n".join(s for s in sections if s))


def _band(score: float, cuts: list[float], grades: list[str]) -> str:
    from huleedu_cli.plot import grade_of_score

    return grade_of_score(score, cuts, grades)


def _metadata(data: ReportData) -> str:
    result, assessment = data.result, data.assessment
    scale = f"{data.scale.display_name} ({data.scale.scale_id})" if data.scale else result.grade_scale_id or "-"
    provider = comparison_pb2.Provider.Name(result.provider).removeprefix("PROVIDER_").lower()
    students = sum(not e.is_anchor for e in result.essay_results)
    rows = [
        ("Assessment", result.assessment),
        ("Finished", _time(result.complete_time)),
        ("Started", _time(assessment.create_time)),
        ("Essays", f"{students} student essays and {len(result.essay_results) - students} anchor essays"),
        ("Grade scale", scale),
        ("Judge", f"{provider}, model {result.model or '-'}"),
        (
            "Comparisons",
            f"{result.comparisons_succeeded} judgements ({result.comparisons_attempted} attempted, "
            f"budget {assessment.progress.budget or '-'})",
        ),
        ("Stopped because", STOP_REASONS.get(result.stop_reason, "-")),
        ("Cost", f"${result.cost_usd:.4f}"),
        (
            "Position bias",
            f"the essay shown first won {result.position_bias.first_position_win_rate:.0%} of judgements (50% is none)",
        ),
    ]
    if assessment.batch_id:
        rows.append(("Batch", assessment.batch_id))
    cells = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="meta">{cells}</table>'


def _reliability(result: assessment_pb2.AssessmentResult) -> str:
    figures = reliability_figures(result.reliability)
    lead = figures[0]
    css, words = verdict(lead.value)
    interval = f" (95% interval {lead.interval[0]:.2f} to {lead.interval[1]:.2f})" if lead.interval else ""
    items = "".join(
        f"<li><b>{_e(f.label)}: {f.value:.2f}</b>"
        + (f" ({f.interval[0]:.2f} to {f.interval[1]:.2f})" if f.interval else "")
        + f" — {_e(f.meaning)}.</li>"
        for f in figures
    )
    return f"""<section id="reliability"><h2>How far to trust this</h2>
<p class="{css}" id="reliability-verdict"><b>Reliability {lead.value:.2f}</b> ({_e(lead.label)}){_e(interval)}.
{_e(words)}</p>
<p>Reliability runs from 0 to 1: 1 means the ranking would come out the same if the essays were judged
again, 0 means it would be no better than chance. Figures, the one to trust first:</p><ul>{items}</ul>
<p>Each score has a 95% interval: the essay's true position lies within it with 95% probability.
Two essays whose intervals overlap much may well be in the other order.</p></section>"""


def _grades_note(result: assessment_pb2.AssessmentResult, data: ReportData, off_band: dict[str, str]) -> str:
    if not result.grades_projected:
        return f'<p class="caution" id="grades-note">No grades: {_e(result.grades_note or "no anchors")}</p>'
    parts = [
        "<p>Grades come from the anchor essays of known grade: the boundary between two grades lies midway "
        "between their anchors' scores. Each essay's grade is the most probable one given its score and "
        "its uncertainty; the table gives the probability of every grade.</p>"
    ]
    if off_band:
        items = "".join(
            f"<li>{_e(data.name(e.essay_id))}: {_e(off_band_reason(e, off_band[e.essay_id]))}.</li>"
            for e in result.essay_results
            if e.essay_id in off_band
        )
        parts.append(f'<div class="caution" id="off-band">* Graded outside the band drawn:<ul>{items}</ul></div>')
    return "\n".join(parts)


def _plot(data: ReportData, cuts: list[float], grades: list[str], off_band: dict[str, str]) -> str:
    from huleedu_cli.plot import PlotEssay, render_svg

    essays = [
        PlotEssay(
            label=data.name(e.essay_id) + (f" ({e.anchor_grade})" if e.is_anchor else ""),
            score=e.score,
            standard_error=e.standard_error,
            is_anchor=e.is_anchor,
            off_band=e.essay_id in off_band,
        )
        for e in data.result.essay_results
    ]
    if not essays:
        return ""
    return (
        f'<figure id="plot">{render_svg(essays, cuts, grades)}<figcaption>Scores with 95% intervals, '
        "strongest essay at the top; shaded bands are the grades, dashed lines their boundaries.</figcaption></figure>"
    )


def _table(data: ReportData, off_band: dict[str, str]) -> str:
    result = data.result
    grades = _grade_order(data) if result.grades_projected else []
    head = "".join(f"<th>P({_e(g)})</th>" for g in grades)
    rows = []
    for essay in result.essay_results:
        projection = essay.grade_projection
        probabilities = {p.grade: p.probability for p in projection.probabilities}
        kind = f"anchor, known grade {_e(essay.anchor_grade)}" if essay.is_anchor else "student"
        mark = " *" if essay.essay_id in off_band else ""
        grade = f"{_e(projection.grade)}{mark}" if result.grades_projected else "-"
        cells = "".join(
            f'<td class="{"best" if g == projection.grade else ""}">{probabilities.get(g, 0.0):.0%}</td>'
            for g in grades
        )
        half = Z95 * essay.standard_error
        rows.append(
            f'<tr><td>{essay.rank}</td><td class="name">{_e(data.name(essay.essay_id))}</td><td>{kind}</td>'
            f"<td>{essay.score:+.2f} ({essay.score - half:+.2f} to {essay.score + half:+.2f})</td>"
            f"<td>{grade}</td>{cells}<td>{essay.comparison_count} ({essay.win_count} won)</td></tr>"
        )
    return f"""<h2>Ranks, scores and grades</h2>
<table id="essays"><thead><tr><th>Rank</th><th>Essay</th><th>Kind</th><th>Score (95% interval)</th>
<th>Grade</th>{head}<th>Judgements</th></tr></thead><tbody>
{"".join(rows)}
</tbody></table>"""


def _judgements(data: ReportData) -> str:
    by_essay: dict[str, list[assessment_pb2.Judgement]] = {}
    for judgement in data.judgements:
        if judgement.outcome == assessment_pb2.Judgement.OUTCOME_SUCCEEDED:
            by_essay.setdefault(judgement.essay_a_id, []).append(judgement)
            by_essay.setdefault(judgement.essay_b_id, []).append(judgement)
    failed = sum(j.outcome != assessment_pb2.Judgement.OUTCOME_SUCCEEDED for j in data.judgements)
    blocks = []
    for essay in data.result.essay_results:
        own = by_essay.get(essay.essay_id, [])
        items = "".join(_judgement_item(data, essay.essay_id, j) for j in own)
        won = sum(_winner(j) == essay.essay_id for j in own)
        blocks.append(
            f"<details><summary>{_e(data.name(essay.essay_id))}: {len(own)} judgements, {won} won</summary>"
            f"<ul>{items or '<li>no judgements</li>'}</ul></details>"
        )
    note = f" {failed} attempts failed and were retried or left out." if failed else ""
    return f"""<h2>Judgements and the judge's reasons</h2>
<p>Each essay's judgements, with the judge's justification (open an essay to read them; printed, all are
open).{_e(note)}</p>
{"".join(blocks)}"""


def _winner(judgement: assessment_pb2.Judgement) -> str:
    return judgement.essay_a_id if judgement.winner == comparison_pb2.WINNER_ESSAY_A else judgement.essay_b_id


def _judgement_item(data: ReportData, essay_id: str, judgement: assessment_pb2.Judgement) -> str:
    other = judgement.essay_b_id if judgement.essay_a_id == essay_id else judgement.essay_a_id
    verdict_text = "won against" if _winner(judgement) == essay_id else "lost to"
    shown = "first" if judgement.essay_a_id == essay_id else "second"
    reason = judgement.justification or "(no justification given)"
    return (
        f"<li><b>{verdict_text} {_e(data.name(other))}</b> (shown {shown}, judge's confidence "
        f"{judgement.confidence:.1f} of 5): {_e(reason)}</li>"
    )


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:60em;
padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left;vertical-align:top}
#essays{font-size:.85em}#essays th{border-bottom:1px solid #888}#essays tbody tr:nth-child(even){background:#f4f4f4}
#essays td.best{font-weight:bold}.meta th{font-weight:normal;color:#555}
.warning{border:2px solid #c0392b;background:#fdecea;padding:.6em}
.caution{border:1px solid #d4a017;background:#fff8e1;padding:.6em}.ok{border:1px solid #2e7d32;padding:.6em}
figure{margin:1em 0}figure svg{width:100%;height:auto}figcaption{font-size:.85em;color:#555}
details{margin:.2em 0}summary{cursor:pointer}details ul{font-size:.9em}
@media print{body{margin:0;max-width:none}#essays tr{break-inside:avoid}figure{break-inside:avoid}
details::details-content{content-visibility:visible;display:block}}
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{style}</style></head><body>
{body}
</body></html>
"""
