"""The report as a reader sees it, in headless Chromium (Debian's `chromium`, installed by
`make tools`): it loads without console errors, the plot is there, no two labels overlap, and the
table holds every essay. Under CI=true a missing chromium fails; elsewhere the test is skipped."""

from __future__ import annotations

import itertools

import pytest

from huleedu_cli import report
from tests.cli.chromium import Chromium
from tests.cli.report_fixtures import NAMES, assessment, judgements, swedish_result, swedish_scale
from tests.helpers import require_tool

BOXES = """
(() => {
  const boxes = sel => Array.from(document.querySelectorAll(sel)).map(el => {
    const r = el.getBoundingClientRect();
    return {id: el.id, left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  });
  return {
    svg: boxes('figure#plot svg'),
    bands: boxes('[id^="band-label-"]'),
    essays: boxes('[id^="essay-label-"]'),
    legend: boxes('#plot-legend'),
    axes: boxes('#axes_1 #patch_2'),
    names: Array.from(document.querySelectorAll('#essays tbody td.name')).map(td => td.textContent),
    warning: Array.from(document.querySelectorAll('.warning')).map(el => el.textContent),
  };
})()
"""


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    return [
        (a["id"], b["id"])
        for a, b in itertools.combinations(boxes, 2)
        if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]
    ]


@pytest.fixture(scope="module")
def browser():
    with Chromium(require_tool("chromium", "Debian's chromium package")) as chromium:
        yield chromium


@pytest.mark.parametrize(("students", "split_half"), [(12, 0.82), (40, 0.13)])
def test_a_reader_sees_the_plot_with_readable_labels_and_every_essay(browser, tmp_path, students, split_half):
    result = swedish_result(n_students=students, split_half=split_half)
    data = report.ReportData(result, assessment(), swedish_scale(), judgements(result))
    page = tmp_path / "report.html"
    page.write_text(report.render(data, "Class 9A"), encoding="utf-8")
    browser.events.clear()
    browser.open(page)
    seen = browser.evaluate(BOXES)

    assert browser.console_errors() == []
    (svg,) = seen["svg"]
    assert svg["right"] - svg["left"] > 400 and svg["bottom"] - svg["top"] > 200, "the plot is drawn"
    assert len(seen["bands"]) == 8, "a label for each of the Swedish scale's eight grades"
    assert overlapping(seen["bands"]) == [], "grade labels never overlap, however narrow the band"
    assert len(seen["essays"]) == len(result.essay_results)
    assert overlapping(seen["essays"]) == []
    assert overlapping(seen["bands"] + seen["legend"] + seen["essays"]) == []
    (legend,) = seen["legend"]
    assert legend["top"] > max(b["bottom"] for b in seen["essays"]), "the legend sits below the plot"

    names = [data.name(e.essay_id) for e in result.essay_results]
    assert seen["names"] == names and set(NAMES.values()) <= set(names)
    assert bool(seen["warning"]) == (split_half < 0.7)


def test_judgements_are_folded_on_screen_and_all_printed(browser, tmp_path):
    result = swedish_result()
    page = tmp_path / "report.html"
    page.write_text(report.render(report.ReportData(result, assessment(), swedish_scale(), judgements(result))))
    browser.open(page)
    visible = "Array.from(document.querySelectorAll('details li')).map(li => li.checkVisibility())"
    assert not any(browser.evaluate(visible)), "on screen each essay's judgements are folded"
    browser.call("Emulation.setEmulatedMedia", session=True, media="print")
    try:
        printed = browser.evaluate(visible)
    finally:
        browser.call("Emulation.setEmulatedMedia", session=True, media="")
    assert printed and all(printed), "printed, every judgement is there"
