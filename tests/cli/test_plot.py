"""The report's plot: which band a score is drawn in, and grade labels that never overlap."""

from __future__ import annotations

import re

from huleedu_cli.plot import PlotEssay, grade_of_score, render_svg


def test_a_score_is_drawn_in_the_band_between_its_cuts():
    cuts, grades = [-1.0, 0.0, 0.0, 1.0], ["F", "E", "D", "C", "B"]
    assert [grade_of_score(s, cuts, grades) for s in (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0)] == [
        "F",
        "E",
        "E",
        "C",  # D has no width: its anchors scored like C's
        "C",
        "B",
        "B",
    ]


def test_every_grade_gets_one_label_and_the_svg_carries_the_ids_the_browser_test_reads():
    essays = [PlotEssay(f"essay {i}", 1.0 - i * 0.3, 0.4, i == 2, i == 3) for i in range(8)]
    cuts = [-1.0, -0.95, -0.9, 0.0, 0.02, 0.04, 1.0]
    svg = render_svg(essays, cuts, ["F", "E", "D", "D+", "C", "C+", "B", "A"])
    assert svg.startswith("<svg") and "<script" not in svg
    assert sorted(re.findall(r'id="band-label-(\d+)"', svg)) == [str(i) for i in range(8)]
    assert len(re.findall(r'id="essay-label-\d+"', svg)) == 8 and 'id="plot-legend"' in svg


def test_large_classes_are_drawn_without_names():
    essays = [PlotEssay(f"e{i}", i / 100, 0.3, False, False) for i in range(200)]
    svg = render_svg(essays, [0.5], ["C", "B"])
    assert "essay-label-" not in svg and 'id="band-label-1"' in svg
