"""The report's plot: every essay's score with its 95% interval over the grade bands, as inline SVG.

Drawn with matplotlib (no pyplot state; the Agg renderer measures text). Text is drawn as glyph
outlines, so the page shows exactly the shapes whose sizes were measured here, in any browser and
on paper. Grade labels sit above the plot in rows: a label goes into the lowest row where it
overlaps no other label, so labels never overlap however narrow a band is. Elements the browser
test looks for carry ids: `band-label-<i>`, `essay-label-<i>`, `plot-legend`.
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass
from functools import lru_cache

from matplotlib import font_manager, rc_context
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory
from unidecode import unidecode

Z95 = 1.96
FONT = "DejaVu Sans"  # ships with matplotlib, so the plot looks the same on every machine
WIDTH_IN = 7.4  # fits an A4 or Letter page in portrait
ROW_IN = 0.24  # one essay per row
LABEL_ROW_IN = 0.22  # one row of grade labels
MAX_NAMED_ROWS = 80  # beyond this the rows are too many to name; the table names them
MAX_NAME_CHARS = 34
BAND_COLOURS = ("#dbe9f6", "#f3f3f3")  # alternate bands, light enough to print in grey
STUDENT, ANCHOR, MISMATCH = "#1f4e9c", "#6b6b6b", "#c0392b"


@dataclass(frozen=True)
class PlotEssay:
    label: str
    score: float
    standard_error: float
    is_anchor: bool
    off_band: bool  # graded other than the band its score is drawn in (the report says why)


def grade_of_score(score: float, cuts: list[float], grades: list[str]) -> str:
    """The band a score is drawn in: grades[i] spans [cuts[i-1], cuts[i]) (lowest grade first)."""
    return grades[bisect.bisect_right(cuts, score)]


def _drawable(label: str) -> str:
    """The label, transliterated if the plot's font has no glyph for one of its characters (the table
    shows every name as written; a browser would draw the same missing glyph as a box)."""
    covered = _font_characters()
    if all(ord(c) in covered for c in label):
        return label
    return unidecode(label).strip() or "?"


@lru_cache(maxsize=1)
def _font_characters() -> frozenset[int]:
    font = font_manager.get_font(font_manager.findfont(font_manager.FontProperties(family=FONT)))
    return frozenset(font.get_charmap())


def _shorten(label: str) -> str:
    label = _drawable(label)
    return label if len(label) <= MAX_NAME_CHARS else label[: MAX_NAME_CHARS - 1] + "…"


def _x_range(essays: list[PlotEssay], cuts: list[float]) -> tuple[float, float]:
    lows = [e.score - Z95 * e.standard_error for e in essays] + cuts
    highs = [e.score + Z95 * e.standard_error for e in essays] + cuts
    low, high = min(lows), max(highs)
    pad = max((high - low) * 0.04, 0.1)
    return low - pad, high + pad


def _text_width_in(renderer, text: str, size: float) -> float:
    properties = font_manager.FontProperties(family=FONT, size=size)
    width, _, _ = renderer.get_text_width_height_descent(text, properties, ismath=False)
    return width / renderer.dpi


def render_svg(essays: list[PlotEssay], cuts: list[float], grades: list[str]) -> str:
    """SVG of the essays (best first, top down) over the grade bands (`grades` lowest first, `cuts` between)."""
    with rc_context({"svg.fonttype": "path", "svg.hashsalt": "huleedu-report", "font.size": 9, "font.family": FONT}):
        return _render(essays, cuts, grades)


def _render(essays: list[PlotEssay], cuts: list[float], grades: list[str]) -> str:
    named = len(essays) <= MAX_NAMED_ROWS
    labels = [_shorten(e.label) + (" *" if e.off_band else "") for e in essays]
    figure = Figure(figsize=(WIDTH_IN, 1.0))
    canvas = FigureCanvasAgg(figure)
    renderer = canvas.get_renderer()
    left = (max(_text_width_in(renderer, t, 9) for t in labels) + 0.25) if named else 0.6
    rows_height = max(len(essays), 3) * ROW_IN if named else 4.0
    bottom_in, legend_in = 0.55, 0.5
    # Grade label rows are known only after measuring; measure at the final width first.
    low, high = _x_range(essays, cuts)
    plot_width = WIDTH_IN - left - 0.2
    label_rows = _label_rows(renderer, cuts, grades, low, high, plot_width) if grades else []
    top_in = 0.15 + LABEL_ROW_IN * (max(label_rows, default=-1) + 1)
    height = bottom_in + legend_in + rows_height + top_in
    figure.set_size_inches(WIDTH_IN, height)
    axes = figure.add_axes(
        (left / WIDTH_IN, (bottom_in + legend_in) / height, plot_width / WIDTH_IN, rows_height / height)
    )
    axes.set_xlim(low, high)
    axes.set_ylim(len(essays) - 0.5, -0.5)
    _draw_bands(axes, cuts, grades, low, high, label_rows)
    _draw_essays(axes, essays, labels, named)
    axes.set_xlabel("score (logits): further right is a stronger essay")
    axes.grid(axis="x", color="#cccccc", linewidth=0.5)
    axes.set_axisbelow(True)
    _legend(figure, essays, bool(grades))
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    svg = out.getvalue()
    return svg[svg.index("<svg") :]


def _band_spans(cuts: list[float], grades: list[str], low: float, high: float) -> list[tuple[float, float]]:
    edges = [low, *[min(max(c, low), high) for c in cuts], high]
    return [(edges[i], edges[i + 1]) for i in range(len(grades))]


def _label_rows(renderer, cuts, grades, low, high, plot_width_in) -> list[int]:
    """For each grade label, the lowest row in which it overlaps no label placed before it."""
    scale = plot_width_in / (high - low)
    gap = 0.06  # inches between labels in one row
    rows: list[list[tuple[float, float]]] = []
    assigned = []
    for grade, (start, end) in zip(grades, _band_spans(cuts, grades, low, high), strict=True):
        centre = ((start + end) / 2 - low) * scale
        half = _text_width_in(renderer, grade, 9) / 2 + gap / 2
        box = (centre - half, centre + half)
        row = next((i for i, taken in enumerate(rows) if all(box[1] <= a or box[0] >= b for a, b in taken)), len(rows))
        if row == len(rows):
            rows.append([])
        rows[row].append(box)
        assigned.append(row)
    return assigned


def _draw_bands(axes, cuts, grades, low, high, label_rows) -> None:
    above = blended_transform_factory(axes.transData, axes.transAxes)
    rows_height = axes.get_position().height * axes.figure.get_figheight()
    for index, (grade, (start, end)) in enumerate(zip(grades, _band_spans(cuts, grades, low, high), strict=True)):
        if end > start:
            axes.axvspan(start, end, color=BAND_COLOURS[index % 2], zorder=0, linewidth=0)
        row = label_rows[index]
        y = 1.0 + (0.06 + LABEL_ROW_IN * row) / rows_height
        text = axes.text((start + end) / 2, y, grade, transform=above, ha="center", va="bottom", fontsize=9)
        text.set_gid(f"band-label-{index}")
        text.set_clip_on(False)
    for cut in cuts:
        axes.axvline(cut, color="#888888", linestyle=(0, (3, 2)), linewidth=0.8, zorder=1)


def _draw_essays(axes, essays: list[PlotEssay], labels: list[str], named: bool) -> None:
    groups = {
        "student": (STUDENT, "o", lambda e: not e.is_anchor and not e.off_band),
        "anchor": (ANCHOR, "D", lambda e: e.is_anchor and not e.off_band),
        "off-band student": (MISMATCH, "o", lambda e: not e.is_anchor and e.off_band),
        "off-band anchor": (MISMATCH, "D", lambda e: e.is_anchor and e.off_band),
    }
    for colour, marker, belongs in groups.values():  # one artist per group, however many essays
        rows = [row for row, essay in enumerate(essays) if belongs(essay)]
        if not rows:
            continue
        axes.errorbar(
            [essays[row].score for row in rows],
            rows,
            xerr=[Z95 * essays[row].standard_error for row in rows],
            fmt=marker,
            color=colour,
            markersize=4.5 if named else 2.5,
            elinewidth=1.2 if named else 0.6,
            capsize=2 if named else 0,
            zorder=3,
        )
    if named:
        axes.set_yticks(range(len(essays)), labels)
        for row, tick in enumerate(axes.get_yticklabels()):
            tick.set_gid(f"essay-label-{row}")
    else:
        axes.set_yticks([])
        axes.set_ylabel("essays, strongest at the top (names in the table)")


def _legend(figure: Figure, essays: list[PlotEssay], banded: bool) -> None:
    handles: list[Artist] = [
        Line2D([], [], color=STUDENT, marker="o", markersize=4.5, label="student essay: score and 95% interval"),
    ]
    if any(e.is_anchor for e in essays):
        handles.append(Line2D([], [], color=ANCHOR, marker="D", markersize=4.5, label="anchor essay (known grade)"))
    if banded:
        handles.append(Patch(facecolor=BAND_COLOURS[0], edgecolor="#888888", label="grade band (from the anchors)"))
    if any(e.off_band for e in essays):
        handles.append(
            Line2D([], [], color=MISMATCH, marker="o", markersize=4.5, label="* graded outside its band (see note)")
        )
    legend = figure.legend(handles=handles, loc="lower center", ncols=2, frameon=False, fontsize=8)
    legend.set_gid("plot-legend")
