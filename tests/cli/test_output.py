"""What the client prints: CSV columns a spreadsheet can read, and progress that suits a terminal or a log."""

from __future__ import annotations

import csv
import io

from huleedu.cj.v1 import assessment_pb2

from huleedu_cli.output import CLEAR_LINE, ProgressDisplay, result_csv, result_table


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


def progress(wave: int, done: int) -> assessment_pb2.AssessmentProgress:
    return assessment_pb2.AssessmentProgress(waves=wave, comparisons_succeeded=done, budget=10)


def test_progress_redraws_on_a_terminal_and_logs_one_line_per_wave_otherwise():
    terminal, log = Stream(tty=True), Stream(tty=False)
    for display in (ProgressDisplay(terminal), ProgressDisplay(log)):
        display.show(progress(1, 1))
        display.show(progress(1, 2))
        display.note("wave 1: a vs b: a wins (4.00)")
        display.show(progress(2, 3))
        display.close()
    assert terminal.getvalue().count(CLEAR_LINE) == 4 and "\n" not in terminal.getvalue().split("a wins")[0]
    lines = log.getvalue().splitlines()
    assert len(lines) == 3 and "wave 1" in lines[0] and lines[1].startswith("wave 1: a vs b") and "wave 2" in lines[2]
    assert CLEAR_LINE not in log.getvalue()
