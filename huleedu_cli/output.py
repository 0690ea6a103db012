"""Turning results, assessments, batch statuses and batch jobs into tables, JSON and CSV.

Pure functions from messages to text, so the demo and the command-line client print the same
way and tests can read what a user would see.
"""

from __future__ import annotations

import csv
import io
from typing import TextIO

from google.protobuf.json_format import MessageToJson
from google.protobuf.message import Message
from huleedu.cj.v1 import assessment_pb2
from huleedu.llm.v1 import batch_job_pb2, comparison_pb2
from huleedu.results.v1 import batch_pb2

Z95 = 1.96  # half-width of a 95% interval in standard errors
CLEAR_LINE = "\r\x1b[K"  # back to the line's start and erase it (ANSI, as every terminal emulator has)


def to_json(message: Message) -> str:
    """The proto3 JSON mapping, with the .proto field names (as grpcurl prints with -format-error)."""
    return MessageToJson(message, preserving_proto_field_name=True, indent=2) + "\n"


def enum_name(enum, value: int, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix).lower()


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * min(done / total, 1.0)) if total > 0 else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def progress_line(progress: assessment_pb2.AssessmentProgress) -> str:
    done = progress.comparisons_succeeded + progress.comparisons_failed
    return (
        f"{progress_bar(done, progress.budget)} {progress.comparisons_succeeded} judged, "
        f"{progress.comparisons_failed} failed, {progress.comparisons_pending} pending, wave {progress.waves}, "
        f"reliability {progress.current_reliability:.2f}"
    )


def result_table(result: assessment_pb2.AssessmentResult) -> str:
    lines = [f"{'rank':>4}  {'essay':24} {'score ± 95%':>15}  {'grade':6} {'p':>5}  kind"]
    for essay in result.essay_results:
        projection = essay.grade_projection
        kind = f"anchor, known grade {essay.anchor_grade}" if essay.is_anchor else "student"
        grade = f"{projection.grade:6} {projection.confidence:5.0%}" if result.grades_projected else f"{'-':6} {'':5}"
        lines.append(
            f"{essay.rank:>4}  {essay.essay_id:24} {essay.score:+6.2f} ± {Z95 * essay.standard_error:5.2f}  "
            f"{grade}  {kind}"
        )
    reliability = result.reliability
    stop = enum_name(assessment_pb2.AssessmentResult.StopReason, result.stop_reason, "STOP_REASON_")
    lines.append(
        f"\nreliability: split-half {reliability.split_half_reliability:.2f}, scale separation "
        f"{reliability.scale_separation_reliability:.2f}; {result.comparisons_succeeded} judgements of "
        f"{result.comparisons_attempted} attempted; first-shown essay won "
        f"{result.position_bias.first_position_win_rate:.0%}; stopped: {stop}"
    )
    if not result.grades_projected and result.grades_note:
        lines.append(f"grades: {result.grades_note}")
    return "\n".join(lines) + "\n"


def result_csv(result: assessment_pb2.AssessmentResult) -> str:
    """One row per essay; a p_<grade> column for each grade of the scale, in scale order."""
    grades = [p.grade for p in result.essay_results[0].grade_projection.probabilities] if result.essay_results else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "rank",
            "student_rank",
            "essay_id",
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
            *(f"p_{grade}" for grade in grades),
        ]
    )
    label = assessment_pb2.GradeProjection.ConfidenceLabel
    for essay in result.essay_results:
        projection = essay.grade_projection
        probabilities = {p.grade: p.probability for p in projection.probabilities}
        half = Z95 * essay.standard_error
        writer.writerow(
            [
                essay.rank,
                essay.student_rank or "",
                essay.essay_id,
                str(essay.is_anchor).lower(),
                essay.anchor_grade,
                f"{essay.score:.4f}",
                f"{essay.standard_error:.4f}",
                f"{essay.score - half:.4f}",
                f"{essay.score + half:.4f}",
                projection.grade,
                f"{projection.confidence:.4f}" if result.grades_projected else "",
                enum_name(label, projection.confidence_label, "CONFIDENCE_LABEL_") if result.grades_projected else "",
                essay.comparison_count,
                essay.win_count,
                *(f"{probabilities.get(grade, 0.0):.4f}" for grade in grades),
            ]
        )
    return out.getvalue()


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


def judgement_line(judgement: assessment_pb2.Judgement) -> str:
    outcome = enum_name(assessment_pb2.Judgement.Outcome, judgement.outcome, "OUTCOME_")
    pair = f"wave {judgement.wave}: {judgement.essay_a_id} vs {judgement.essay_b_id}"
    if judgement.outcome != assessment_pb2.Judgement.OUTCOME_SUCCEEDED:
        return f"{pair}: {outcome} {judgement.error.message}"
    winner = judgement.essay_a_id if judgement.winner == comparison_pb2.WINNER_ESSAY_A else judgement.essay_b_id
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
    """On a terminal the progress bar redraws in place; in a log or pipe, one line per wave."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.interactive = stream.isatty()
        self.last_wave = -1

    def show(self, progress: assessment_pb2.AssessmentProgress) -> None:
        if self.interactive:
            self.stream.write(CLEAR_LINE + progress_line(progress))
        elif progress.waves != self.last_wave:
            self.stream.write(progress_line(progress) + "\n")
        self.last_wave = progress.waves
        self.stream.flush()

    def note(self, line: str) -> None:
        """A line of its own (a judgement, a warning) without breaking the bar."""
        # On a terminal the line replaces the bar, which the next progress event redraws below it.
        self.stream.write((CLEAR_LINE if self.interactive else "") + line + "\n")

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\n")
