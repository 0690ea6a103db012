"""What the client prints: CSV columns a spreadsheet can read, and progress that suits a terminal or a log."""

from __future__ import annotations

import csv
import io
import json

from huleedu.cj.v1 import assessment_pb2
from huleedu.llm.v1 import comparison_pb2

from huleedu_cli.output import ProgressDisplay, judgement_line, result_csv, result_json, result_table


class Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def result() -> assessment_pb2.AssessmentResult:
    def projection(grade: str, p_high: float) -> assessment_pb2.GradeProjection:
        return assessment_pb2.GradeProjection(
            grade=grade,
            confidence=max(p_high, 1 - p_high),
            probabilities=[
                assessment_pb2.GradeProbability(grade="F", probability=1 - p_high),
                assessment_pb2.GradeProbability(grade="A", probability=p_high),
            ],
        )

    return assessment_pb2.AssessmentResult(
        grades_projected=True,
        essay_results=[
            assessment_pb2.EssayResult(
                essay_id="ann",
                rank=1,
                student_rank=1,
                score=1.0,
                standard_error=0.5,
                grade_projection=projection("A", 0.8),
            ),
            assessment_pb2.EssayResult(
                essay_id="key-f",
                is_anchor=True,
                anchor_grade="F",
                rank=2,
                score=-1.0,
                standard_error=0.25,
                grade_projection=projection("F", 0.1),
            ),
        ],
    )


def test_csv_has_an_interval_and_a_probability_column_per_grade():
    rows = list(csv.DictReader(io.StringIO(result_csv(result()))))
    assert [r["essay_id"] for r in rows] == ["ann", "key-f"]
    assert (rows[0]["ci95_low"], rows[0]["ci95_high"]) == ("0.0200", "1.9800")
    assert (rows[0]["p_F"], rows[0]["p_A"]) == ("0.2000", "0.8000")
    assert rows[1]["is_anchor"] == "true" and rows[1]["anchor_grade"] == "F" and rows[1]["student_rank"] == ""


def test_table_marks_anchors_and_says_when_grades_are_not_projected():
    table = result_table(result())
    assert "anchor, known grade F" in table and "80%" in table
    ungraded = result()
    ungraded.grades_projected, ungraded.grades_note = False, "no anchors: scores and ranks only"
    assert "grades: no anchors: scores and ranks only" in result_table(ungraded)


def progress(wave: int, done: int, budget: int = 10) -> assessment_pb2.AssessmentProgress:
    return assessment_pb2.AssessmentProgress(waves=wave, comparisons_succeeded=done, budget=budget)


class Terminal(Stream):
    """A terminal of a given width (rich reads COLUMNS when the stream is not the real terminal)."""


def test_on_a_terminal_the_bar_fits_the_width_and_notes_scroll_above_it(monkeypatch):
    for columns in (40, 80, 200):
        monkeypatch.setenv("COLUMNS", str(columns))
        terminal = Stream(tty=True)
        display = ProgressDisplay(terminal)
        display.show(progress(1, 1, budget=500))
        display.note("wave 1: a vs b: a wins (4.00)")
        display.show(progress(2, 250, budget=500))
        display.close()
        text = terminal.getvalue()
        visible = [line.split("\r")[-1] for line in text.replace("\x1b[2K", "").split("\n")]
        plain = [_strip_ansi(line) for line in visible]
        assert all(len(line) <= columns for line in plain), (columns, plain)
        assert any("250/500 judged" in line for line in plain)
        assert plain.index(next(line for line in plain if "a wins" in line)) < len(plain) - 1


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_in_a_log_one_line_each_time_the_share_done_moves_on():
    log = Stream(tty=False)
    display = ProgressDisplay(log)
    for done in range(101):
        display.show(progress(done // 10, done, budget=100))
    display.note("wave 1: a vs b: a wins (4.00)")
    display.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 100 // 5 + 1 + 1, "a line per 5% step (0% included) and the note"
    assert lines[-2].startswith("100% 100/100 judged") and lines[-1].startswith("wave 1: a vs b")
    assert "\x1b" not in log.getvalue(), "no terminal control codes in a log"


def test_exports_carry_names_probabilities_and_the_reliability():
    names = {"ann": "Ann Ødegaard"}
    graded = result()
    graded.reliability.split_half_reliability, graded.reliability.scale_separation_reliability = 0.84, 0.93
    graded.reliability.estimate = 0.81
    rows = list(csv.DictReader(io.StringIO(result_csv(graded, names))))
    assert [r["essay_name"] for r in rows] == ["Ann Ødegaard", "key-f"]
    assert rows[0]["reliability"] == "0.8100" and rows[0]["reliability_measure"] == "honest estimate"
    assert rows[0]["scale_separation_reliability"] == "0.9300"
    document = json.loads(result_json(graded, names))
    assert [e["essay_name"] for e in document["essay_results"]] == ["Ann Ødegaard", "key-f"]
    assert document["reliability"]["estimate"] == 0.81
    assert [p["grade"] for p in document["essay_results"][0]["grade_projection"]["probabilities"]] == ["F", "A"]


def test_table_shows_names_and_warns_when_reliability_is_too_low_for_grades():
    low = result()
    low.reliability.estimate = 0.13
    table = result_table(low, {"ann": "Ann Ødegaard"})
    assert "Ann Ødegaard" in table and "warning: Too low for grades" in table
    low.reliability.estimate = 0.95
    assert "warning" not in result_table(low)


def test_judgements_are_shown_with_the_essays_names():
    judgement = assessment_pb2.Judgement(
        essay_a_id="Soren_Odegaard",
        essay_b_id="Zhang_Wei",
        outcome=assessment_pb2.Judgement.OUTCOME_SUCCEEDED,
        winner=comparison_pb2.WINNER_ESSAY_B,
        confidence=4.0,
        wave=3,
    )
    line = judgement_line(judgement, {"Soren_Odegaard": "Søren Ødegaard", "Zhang_Wei": "张伟"})
    assert line == "wave 3: Søren Ødegaard vs 张伟: 张伟 wins (4.00)"
