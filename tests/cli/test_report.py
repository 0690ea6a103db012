"""The teacher's report as HTML: what it holds and that its grades agree with its plot."""

from __future__ import annotations

import re

from huleedu.cj.v1 import assessment_pb2

from huleedu_cli import report
from huleedu_cli.plot import grade_of_score
from tests.cli.report_fixtures import CUTS, NAMES, SWEDISH, assessment, judgements, swedish_result, swedish_scale


def render(result: assessment_pb2.AssessmentResult | None = None) -> str:
    result = result or swedish_result()
    data = report.ReportData(
        result=result, assessment=assessment(), scale=swedish_scale(), judgements=judgements(result)
    )
    return report.render(data, "Class 9A")


def test_the_report_is_one_self_contained_file():
    page = render()
    assert page.startswith("<!doctype html>") and '<meta charset="utf-8">' in page
    assert "<script" not in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page), "nothing fetched"
    assert page.count("<svg") == 1 and "@media print" in page


def test_the_table_holds_every_essay_by_name_with_every_grade_probability():
    result = swedish_result()
    page = render(result)
    table = page[page.index('<table id="essays">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == len(result.essay_results) + 1
    for essay_id, name in NAMES.items():
        assert f'<td class="name">{name}</td>' in table, essay_id
    assert all(f"<th>P({grade})</th>" in table for grade in SWEDISH)
    assert '<td class="name">s05</td>' in table, "an essay without a name shows its id"


def test_metadata_names_date_scale_judge_comparisons_stop_reason_and_cost():
    page = render()
    for text in (
        "2027-01-15 08:00 UTC",
        "Swedish F-A with D+ and C+ (swedish_f_to_a)",
        "mock, model mock-judge-v1",
        "40 judgements (42 attempted, budget 48)",
        "the comparison budget was spent",
        "$0.0123",
    ):
        assert text in page, text


def test_each_essays_judgements_and_justifications_are_expandable_and_escaped():
    page = render()
    assert page.count("<details>") == len(swedish_result().essay_results)
    assert "argues more clearly than" in page and "&lt;and&gt;" in page and "<and>" not in page
    assert "1 attempts failed" in page


def test_reliability_is_explained_with_the_honest_figure_first():
    page = render()
    verdict = page[page.index('id="reliability-verdict"') :]
    assert verdict.index("Reliability 0.82") < verdict.index("honest estimate") < verdict.index("split-half")
    assert verdict.index("split-half") < verdict.index("scale separation")
    assert "the pairing cannot inflate it" in page and "reads too high when the judge is weak" in page
    assert "Good enough for low-stakes use" in page


def test_low_reliability_shows_a_visible_warning():
    page = render(swedish_result(split_half=0.13))
    assert '<p class="warning" id="reliability-verdict"><b>Reliability 0.13</b>' in page
    assert "Too low for grades" in page
    assert "Too low for grades" not in render(swedish_result(split_half=0.95))


def test_an_essay_graded_outside_its_band_is_marked_and_explained():
    result = swedish_result()
    narrow = next(e for e in result.essay_results if e.essay_id == "s-narrow")
    assert grade_of_score(narrow.score, list(CUTS), list(SWEDISH)) == "B" != narrow.grade_projection.grade
    page = render(result)
    note = page[page.index('id="off-band"') :]
    assert "s-narrow: its score lies in the B band" in note
    row = next(r for r in page.split("<tr>") if '<td class="name">s-narrow</td>' in r)
    assert f"<td>{narrow.grade_projection.grade} *</td>" in row


def test_every_other_essay_is_graded_as_the_band_it_is_drawn_in():
    result = swedish_result()
    page = render(result)
    for essay in result.essay_results:
        band = grade_of_score(essay.score, list(CUTS), list(SWEDISH))
        row = next(
            r
            for r in page.split("<tr>")
            if f'<td class="name">{report.ReportData(result, assessment()).name(essay.essay_id)}</td>' in r
        )
        assert (f"<td>{band}</td>" in row) == (band == essay.grade_projection.grade), essay.essay_id


def test_without_anchors_the_report_says_why_there_are_no_grades():
    result = swedish_result()
    result.grades_projected, result.grades_note = False, "no anchors: scores and ranks only"
    del result.grade_boundaries[:]
    page = render(result)
    assert "No grades: no anchors: scores and ranks only" in page and "<th>P(A)</th>" not in page


def test_the_honest_estimate_leads_with_its_interval():
    reliability = assessment_pb2.Reliability(
        estimate=0.78,
        estimate_lower=0.7,
        estimate_upper=0.85,
        split_half_reliability=0.8,
        scale_separation_reliability=0.9,
    )
    figures = report.reliability_figures(reliability)
    assert [f.label for f in figures] == [
        "honest estimate",
        "split-half reliability",
        "scale separation reliability (SSR)",
    ]
    assert (figures[0].value, figures[0].interval) == (0.78, (0.7, 0.85))
