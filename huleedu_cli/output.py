"""Turning results, assessments, batch statuses and batch jobs into tables, JSON and CSV.

Pure functions from messages to text, so the demo and the command-line client print the same
way and tests can read what a user would see.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TextIO

from google.protobuf.json_format import MessageToDict, MessageToJson
from google.protobuf.message import Message
from huleedu.cj.v1 import assessment_pb2
from huleedu.llm.v1 import batch_job_pb2, comparison_pb2
from huleedu.results.v1 import batch_pb2
from rich import box
from rich.console import Console, JustifyMethod
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table

Z95 = 1.96  # half-width of a 95% interval in standard errors
WIDE_TERMINAL = 90  # columns from which the bar also shows failed and pending counts
LOG_STEP_PERCENT = 5  # in a log, a progress line each time this much more of the budget is done


def to_json(message: Message) -> str:
    """The proto3 JSON mapping, with the .proto field names (as grpcurl prints with -format-error)."""
    return MessageToJson(message, preserving_proto_field_name=True, indent=2) + "\n"


def enum_name(enum, value: int, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix).lower()


def progress_line(progress: assessment_pb2.AssessmentProgress) -> str:
    """One line of progress for a log (a terminal gets the redrawn bar instead)."""
    done = progress.comparisons_succeeded + progress.comparisons_failed
    share = f"{done / progress.budget:4.0%} " if progress.budget else ""
    return (
        f"{share}{progress.comparisons_succeeded}/{progress.budget} judged, "
        f"{progress.comparisons_failed} failed, {progress.comparisons_pending} pending, wave {progress.waves}, "
        f"reliability {progress.current_reliability:.2f}"
    )


def _name(names: dict[str, str], essay_id: str) -> str:
    return names.get(essay_id, essay_id)


def _render(renderable, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, no_color=True, highlight=False, emoji=False).print(renderable)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"


def reliability_summary(result: assessment_pb2.AssessmentResult) -> str:
    from huleedu_cli.report import reliability_figures, verdict

    figures = reliability_figures(result.reliability)
    shown = ", ".join(f"{f.label.replace(' reliability', '')} {f.value:.2f}" for f in figures)
    css, words = verdict(figures[0].value)
    warning = f"\nwarning: {words}" if css == "warning" else ""
    return f"reliability: {shown} (the first is the one to trust; SSR reads high under adaptive pairing){warning}"


def result_table(result: assessment_pb2.AssessmentResult, names: dict[str, str] | None = None, width: int = 100) -> str:
    names = names or {}
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (("rank", "right"), ("essay", "left"), ("score ± 95%", "right"))
    for header, justify in columns:
        table.add_column(header, justify=justify, overflow="fold")
    table.add_column("grade")
    table.add_column("p", justify="right")
    table.add_column("kind", overflow="fold")
    for essay in result.essay_results:
        projection = essay.grade_projection
        kind = f"anchor, known grade {essay.anchor_grade}" if essay.is_anchor else "student"
        graded = result.grades_projected
        table.add_row(
            str(essay.rank),
            _name(names, essay.essay_id),
            f"{essay.score:+6.2f} ± {Z95 * essay.standard_error:5.2f}",
            projection.grade if graded else "-",
            f"{projection.confidence:.0%}" if graded else "",
            kind,
        )
    stop = enum_name(assessment_pb2.AssessmentResult.StopReason, result.stop_reason, "STOP_REASON_")
    lines = [
        _render(table, width).rstrip("\n"),
        "",
        f"{result.comparisons_succeeded} judgements of {result.comparisons_attempted} attempted; first-shown essay "
        f"won {result.position_bias.first_position_win_rate:.0%}; stopped: {stop}",
        reliability_summary(result),
    ]
    if not result.grades_projected and result.grades_note:
        lines.append(f"grades: {result.grades_note}")
    return "\n".join(lines) + "\n"


def result_json(result: assessment_pb2.AssessmentResult, names: dict[str, str] | None = None) -> str:
    """The result in the proto3 JSON mapping, each essay with its `essay_name` (the name it was submitted under)."""
    document = MessageToDict(result, preserving_proto_field_name=True)
    for essay in document.get("essay_results", []):
        essay["essay_name"] = _name(names or {}, essay.get("essay_id", ""))
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def result_csv(result: assessment_pb2.AssessmentResult, names: dict[str, str] | None = None) -> str:
    """One row per essay; a p_<grade> column for each grade of the scale, in scale order; the assessment's
    reliability on every row (the first figure is the one to trust)."""
    from huleedu_cli.report import reliability_figures

    names = names or {}
    grades = [p.grade for p in result.essay_results[0].grade_projection.probabilities] if result.essay_results else []
    lead = reliability_figures(result.reliability)[0]
    reliability = [
        f"{lead.value:.4f}",
        lead.label,
        f"{result.reliability.split_half_reliability:.4f}",
        f"{result.reliability.scale_separation_reliability:.4f}",
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(f"p_{grade}" for grade in grades), *RELIABILITY_COLUMNS])
    label = assessment_pb2.GradeProjection.ConfidenceLabel
    for essay in result.essay_results:
        projection = essay.grade_projection
        probabilities = {p.grade: p.probability for p in projection.probabilities}
        half = Z95 * essay.standard_error
        graded = result.grades_projected
        writer.writerow(
            [
                essay.rank,
                essay.student_rank or "",
                essay.essay_id,
                _name(names, essay.essay_id),
                str(essay.is_anchor).lower(),
                essay.anchor_grade,
                f"{essay.score:.4f}",
                f"{essay.standard_error:.4f}",
                f"{essay.score - half:.4f}",
                f"{essay.score + half:.4f}",
                projection.grade,
                f"{projection.confidence:.4f}" if graded else "",
                enum_name(label, projection.confidence_label, "CONFIDENCE_LABEL_") if graded else "",
                essay.comparison_count,
                essay.win_count,
                *(f"{probabilities.get(grade, 0.0):.4f}" for grade in grades),
                *reliability,
            ]
        )
    return out.getvalue()


CSV_COLUMNS = (
    "rank",
    "student_rank",
    "essay_id",
    "essay_name",
    "is_anchor",
    "anchor_grade",
    "score",
    "standard_error",
    "ci95_low",
    "ci95_high",
    "grade",
    "grade_confidence",
    "confidence_label",
    "comparisons",
    "wins",
)
RELIABILITY_COLUMNS = ("reliability", "reliability_measure", "split_half_reliability", "scale_separation_reliability")


def assessment_line(assessment: assessment_pb2.Assessment) -> str:
    state = enum_name(assessment_pb2.Assessment.State, assessment.state, "STATE_")
    progress = assessment.progress
    line = (
        f"{assessment.name:40} {state:10} {assessment.essay_count:>4} essays {assessment.anchor_count:>3} anchors  "
        f"{progress.comparisons_succeeded:>5}/{progress.budget:<5} judged  "
        f"reliability {progress.current_reliability:.2f}"
    )
    if assessment.batch_id:
        line += f"  batch {assessment.batch_id}"
    if assessment.error.message:
        line += f"  error: {assessment.error.message}"
    return line


def judgement_line(judgement: assessment_pb2.Judgement, names: dict[str, str] | None = None) -> str:
    names = names or {}
    first, second = _name(names, judgement.essay_a_id), _name(names, judgement.essay_b_id)
    outcome = enum_name(assessment_pb2.Judgement.Outcome, judgement.outcome, "OUTCOME_")
    pair = f"wave {judgement.wave}: {first} vs {second}"
    if judgement.outcome != assessment_pb2.Judgement.OUTCOME_SUCCEEDED:
        return f"{pair}: {outcome} {judgement.error.message}"
    winner = first if judgement.winner == comparison_pb2.WINNER_ESSAY_A else second
    return f"{pair}: {winner} wins ({judgement.confidence:.2f})"


def batch_status_text(batch: batch_pb2.BatchStatus) -> str:
    status = enum_name(batch_pb2.ClientStatus, batch.client_status, "CLIENT_STATUS_")
    lines = [
        f"batch {batch.batch_id} (owner {batch.owner}): {status}, {batch.completed_essay_count}/{batch.essay_count} "
        f"essays complete, {batch.failed_essay_count} failed, {batch.progress_percent:.0f}%"
        + (f", current phase {batch.current_phase}" if batch.current_phase else ""),
    ]
    for phase in batch.phases:
        phase_status = enum_name(batch_pb2.PhaseStatus, phase.status, "PHASE_STATUS_")
        lines.append(
            f"  {phase.phase:16} {phase_status:10} {phase.completed_count} completed, {phase.failed_count} failed, "
            f"{phase.pending_count} pending"
        )
    if batch.cj_assessment:
        lines.append(f"  CJ assessment {batch.cj_assessment}, reliability {batch.cj_reliability:.2f}")
    for essay in batch.essays:
        if essay.HasField("assessment"):
            a = essay.assessment
            lines.append(f"  {essay.essay_id:24} rank {a.rank:>3}  score {a.score:+6.2f}  grade {a.grade or '-'}")
    return "\n".join(lines) + "\n"


def batch_line(batch: batch_pb2.BatchStatus) -> str:
    status = enum_name(batch_pb2.ClientStatus, batch.client_status, "CLIENT_STATUS_")
    return (
        f"{batch.batch_id:30} {batch.owner:16} {status:24} {batch.completed_essay_count:>4}/{batch.essay_count:<4} "
        f"{batch.current_phase}"
    )


def batch_job_line(job: batch_job_pb2.BatchJob) -> str:
    state = enum_name(batch_job_pb2.BatchJob.State, job.state, "STATE_")
    counts = job.request_counts
    return (
        f"{job.name:40} {state:11} {job.model:28} total {counts.total}, succeeded {counts.succeeded}, "
        f"errored {counts.errored}, processing {counts.processing}, ${job.cost_usd:.4f}"
    )


class ProgressDisplay:
    """On a terminal a progress bar (rich) that fits the terminal's width and redraws in place, with
    notes scrolling above it; in a log or pipe, one line each time the share done changes."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.interactive = stream.isatty()
        self.last_logged: int | None = None
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if self.interactive:
            self._bar = Progress(
                BarColumn(bar_width=None),
                TextColumn("{task.completed}/{task.total} judged"),
                TextColumn("{task.fields[detail]}"),
                console=Console(file=stream, highlight=False),
                transient=False,
                auto_refresh=False,
            )

    def show(self, progress: assessment_pb2.AssessmentProgress) -> None:
        done = progress.comparisons_succeeded + progress.comparisons_failed
        if self._bar is not None:
            detail = f"reliability {progress.current_reliability:.2f}"
            if self._bar.console.width >= WIDE_TERMINAL:  # narrower terminals get the bar, the count, reliability
                detail = f"{progress.comparisons_failed} failed, {progress.comparisons_pending} pending, {detail}"
            if self._task is None:
                self._bar.start()
                self._task = self._bar.add_task("", total=max(progress.budget, 1), detail=detail)
            self._bar.update(self._task, completed=done, total=max(progress.budget, 1), detail=detail, refresh=True)
            return
        step = 100 * done // progress.budget // LOG_STEP_PERCENT if progress.budget else done
        if step != self.last_logged:
            self.stream.write(progress_line(progress) + "\n")
            self.stream.flush()
            self.last_logged = step

    def note(self, line: str) -> None:
        """A line of its own (a judgement, a warning) above the bar."""
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
