"""The client's commands: each turns parsed arguments into calls and prints what came back."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from huleedu.cj.v1 import assessment_pb2
from huleedu.cj.v1 import cj_assessment_service_pb2 as cj_pb
from huleedu.llm.v1 import batch_job_pb2, comparison_pb2
from huleedu.llm.v1 import batch_job_service_pb2 as jobs_pb
from huleedu.results.v1 import batch_pb2
from huleedu.results.v1 import result_aggregator_service_pb2 as ras_pb

from huleedu_cli import essays as essay_files
from huleedu_cli import output
from huleedu_cli.client import Clients

BATCHING = {
    "per_request": assessment_pb2.BATCHING_MODE_PER_REQUEST,
    "serial_bundle": assessment_pb2.BATCHING_MODE_SERIAL_BUNDLE,
    "batch_api": assessment_pb2.BATCHING_MODE_PROVIDER_BATCH_API,
}
PROVIDERS = {
    "mock": comparison_pb2.PROVIDER_MOCK,
    "openai": comparison_pb2.PROVIDER_OPENAI,
    "anthropic": comparison_pb2.PROVIDER_ANTHROPIC,
}


def _lowercase_enum(enum: Any, prefix: str) -> dict[str, Any]:
    """Choice name -> value of a generated enum (the stubs type `.items()` values as plain ints)."""
    return {name.removeprefix(prefix).lower(): value for name, value in enum.items() if value}


ASSESSMENT_STATES: dict[str, assessment_pb2.Assessment.State] = _lowercase_enum(
    assessment_pb2.Assessment.State, "STATE_"
)
CLIENT_STATUSES: dict[str, batch_pb2.ClientStatus] = _lowercase_enum(batch_pb2.ClientStatus, "CLIENT_STATUS_")
BATCH_JOB_STATES: dict[str, batch_job_pb2.BatchJob.State] = _lowercase_enum(batch_job_pb2.BatchJob.State, "STATE_")
TRANSIENT_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
FINISHED_BATCH = {
    batch_pb2.CLIENT_STATUS_COMPLETED_SUCCESSFULLY,
    batch_pb2.CLIENT_STATUS_COMPLETED_WITH_FAILURES,
    batch_pb2.CLIENT_STATUS_FAILED,
    batch_pb2.CLIENT_STATUS_CANCELLED,
}
RECONNECTS = 5  # a following client rides out this many dropped streams in a row


def violations(error: grpc.aio.AioRpcError) -> list[str]:
    """The field violations and error reason a server put in the rich status, one line each."""
    try:
        # the stubs type from_call for grpc.Call only; an AioRpcError carries the same code and trailers
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
    except ValueError:
        return []
    lines = []
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            lines += [f"{v.field}: {v.description}" for v in bad_request.field_violations]
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            lines.append(f"reason: {info.reason}")
    return lines


def resource_name(collection: str, name: str) -> str:
    return name if name.startswith(f"{collection}/") else f"{collection}/{name}"


def text_argument(value: str) -> str:
    """`@path` reads the text from a file; anything else is the text itself."""
    if not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise essay_files.InputError(f"{path}: {exc.strerror}") from exc


def write(text: str, destination: Path | None, stream: TextIO | None = None, encoding: str = "utf-8") -> None:
    """To standard output, or to a file (a CSV file gets a byte order mark, so spreadsheets read it as UTF-8)."""
    if destination is None:
        (stream or sys.stdout).write(text)
        return
    try:
        destination.write_text(text, encoding=encoding)
    except OSError as exc:
        raise essay_files.InputError(f"{destination}: {exc.strerror}") from exc
    print(f"written to {destination}", file=sys.stderr)


# ---- assessments -------------------------------------------------------------------------------------


def build_create_request(args: argparse.Namespace, loaded: essay_files.EssaySet) -> cj_pb.CreateAssessmentRequest:
    request = cj_pb.CreateAssessmentRequest(
        essays=[assessment_pb2.Essay(essay_id=e.essay_id, text=e.text) for e in loaded.essays],
        anchors=[assessment_pb2.AnchorEssay(anchor_id=a.essay_id, text=a.text, grade=a.grade) for a in loaded.anchors],
        student_prompt=text_argument(args.prompt),
        instructions=text_argument(args.instructions),
        rubric=text_argument(args.rubric),
        comparison_budget=args.budget,
        target_reliability=args.target_reliability,
        batch_id=args.batch_id,
        labels=essay_files.name_labels(loaded.essays + loaded.anchors),
    )
    if args.grade_scale:
        request.grade_scale_id = args.grade_scale
    if args.batching:
        request.llm_batching_mode = BATCHING[args.batching]
    if args.provider or args.model:
        request.llm_overrides.CopyFrom(
            comparison_pb2.LlmOverrides(
                provider=PROVIDERS.get(args.provider or "", comparison_pb2.PROVIDER_UNSPECIFIED), model=args.model
            )
        )
    # The same essays and options give the same id, so a repeated submit returns the first assessment
    # (deterministic: the labels map would otherwise serialize in any order).
    digest = hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()[:32]
    request.request_id = args.request_id or "cli-" + digest
    return request


async def submit(clients: Clients, args: argparse.Namespace) -> int:
    loaded = await asyncio.to_thread(essay_files.load, args.essays, args.anchors)
    request = build_create_request(args, loaded)
    if args.owner:
        if not args.batch_id:
            raise essay_files.InputError("--owner registers a batch in the result aggregator: give --batch-id too")
        await clients.ras.RegisterBatch(
            ras_pb.RegisterBatchRequest(
                event_id=f"register-{args.batch_id}",
                batch_id=args.batch_id,
                owner=args.owner,
                requested_phases=["cj_assessment"],
                essays=[ras_pb.RegisteredEssay(essay_id=e.essay_id, filename=e.filename) for e in loaded.essays],
            ),
            **clients.call_options(),
        )
        print(f"registered batch {args.batch_id} for {args.owner} in the result aggregator", file=sys.stderr)
    assessment = (await clients.cj.CreateAssessment(request, **clients.call_options())).assessment
    print(
        f"{assessment.name}: {assessment.essay_count} essays, {assessment.anchor_count} anchors, "
        f"budget {assessment.progress.budget} comparisons, batching "
        f"{output.enum_name(assessment_pb2.BatchingMode, assessment.llm_batching_mode, 'BATCHING_MODE_')}",
        file=sys.stderr,
    )
    if not args.follow:  # standard output is the document asked for: the name, or the assessment as JSON
        write(output.to_json(assessment) if args.format == "json" else assessment.name + "\n", args.output)
        return 0
    return await follow(clients, argparse.Namespace(**{**vars(args), "name": assessment.name}))


async def stream_events(
    clients: Clients,
    name: str,
    display: output.ProgressDisplay,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[cj_pb.StreamComparisonResultsResponse]:
    """Every event of the assessment; a dropped stream is resumed from the last sequence seen."""
    after, failures = 0, 0
    while True:
        try:
            stream = clients.cj.StreamComparisonResults(
                cj_pb.StreamComparisonResultsRequest(name=name, after_sequence=after), metadata=clients.metadata
            )
            async for event in stream:
                after, failures = event.sequence, 0
                yield event
            return
        except grpc.aio.AioRpcError as error:
            failures += 1
            if error.code() not in TRANSIENT_CODES or failures > RECONNECTS:
                raise
            display.note(f"stream interrupted ({error.code().name}); resuming after event {after}")
            await sleep(min(2.0**failures * 0.25, 5.0))


async def follow(clients: Clients, args: argparse.Namespace) -> int:
    name = resource_name("assessments", args.name)
    names = await essay_names(clients, name)
    display = output.ProgressDisplay(sys.stderr)
    result, final = None, None
    try:
        async for event in stream_events(clients, name, display):
            kind = event.WhichOneof("event")
            if kind == "judgement" and args.judgements:
                display.note(output.judgement_line(event.judgement, names))
            elif kind == "progress":
                display.show(event.progress)
            elif kind == "result":
                result = event.result
            elif kind == "final_assessment":
                final = event.final_assessment
    except asyncio.CancelledError:  # Ctrl-C: only the following stops, not the assessment
        display.note(f"stopped following; {name} keeps running (huleedu follow {name} picks it up again)")
        raise
    finally:
        display.close()  # the terminal gets its cursor back, however the following ends
    if final is not None and final.state != assessment_pb2.Assessment.STATE_SUCCEEDED:
        print(output.assessment_line(final), file=sys.stderr)
    if result is None:
        return 1
    await write_result(clients, result, args, names)
    return 0


async def write_result(
    clients: Clients, result: assessment_pb2.AssessmentResult, args: argparse.Namespace, names: dict | None = None
) -> None:
    names = await essay_names(clients, result.assessment) if names is None else names
    encoding = "utf-8-sig" if args.format == "csv" else "utf-8"
    write(format_result(result, args.format, names), args.output, encoding=encoding)


async def essay_names(clients: Clients, name: str) -> dict[str, str]:
    """The names the essays were submitted under (kept in the assessment's labels)."""
    request = cj_pb.GetAssessmentRequest(name=name)
    assessment = (await clients.cj.GetAssessment(request, **clients.call_options())).assessment
    return essay_files.names_from_labels(dict(assessment.labels))


def format_result(result: assessment_pb2.AssessmentResult, fmt: str, names: dict[str, str] | None = None) -> str:
    if fmt == "json":
        return output.result_json(result, names or {})
    if fmt == "csv":
        return output.result_csv(result, names or {})
    width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
    return output.result_table(result, names or {}, width=max(width, 40))


async def result(clients: Clients, args: argparse.Namespace) -> int:
    request = cj_pb.GetAssessmentResultRequest(name=resource_name("assessments", args.name))
    response = await clients.cj.GetAssessmentResult(request, **clients.call_options())
    await write_result(clients, response.result, args)
    return 0


async def report(clients: Clients, args: argparse.Namespace) -> int:
    from huleedu_cli import report as reports  # matplotlib loads only for reports

    name = resource_name("assessments", args.name)
    data = await reports.collect(clients.cj, name, clients.metadata, call_seconds=clients.settings.timeout)
    page = await asyncio.to_thread(reports.render, data, args.title)
    write(page, args.output)
    return 0


async def status(clients: Clients, args: argparse.Namespace) -> int:
    request = cj_pb.GetAssessmentRequest(name=resource_name("assessments", args.name))
    assessment = (await clients.cj.GetAssessment(request, **clients.call_options())).assessment
    print(
        output.to_json(assessment) if args.json else output.assessment_line(assessment), end="" if args.json else "\n"
    )
    return 0


async def print_pages(
    clients: Clients,
    call: Callable[..., Awaitable[Any]],
    request_for: Callable[[str], Any],
    field: str,
    line: Callable[[Any], str],
    limit: int,
) -> int:
    """Print one line per item of successive pages (`request_for(page_token)`) until `limit` or the last page."""
    printed, token = 0, ""
    while printed < limit:
        response = await call(request_for(token), **clients.call_options())
        for item in list(getattr(response, field))[: limit - printed]:
            print(line(item))
            printed += 1
        token = response.next_page_token
        if not token:
            break
    return 0


async def list_assessments(clients: Clients, args: argparse.Namespace) -> int:
    states = [ASSESSMENT_STATES[s] for s in args.state]
    return await print_pages(
        clients,
        clients.cj.ListAssessments,
        lambda token: cj_pb.ListAssessmentsRequest(page_size=min(args.limit, 100), page_token=token, states=states),
        "assessments",
        output.assessment_line,
        args.limit,
    )


async def cancel(clients: Clients, args: argparse.Namespace) -> int:
    request = cj_pb.CancelAssessmentRequest(name=resource_name("assessments", args.name))
    print(output.assessment_line((await clients.cj.CancelAssessment(request, **clients.call_options())).assessment))
    return 0


async def grade_scales(clients: Clients, args: argparse.Namespace) -> int:
    response = await clients.cj.ListGradeScales(cj_pb.ListGradeScalesRequest(), **clients.call_options())
    for scale in response.grade_scales:
        print(f"{scale.scale_id:24} {scale.display_name:40} {' '.join(g.label for g in scale.grades)}")
    return 0


# ---- result aggregator -------------------------------------------------------------------------------


async def batch_status(clients: Clients, args: argparse.Namespace) -> int:
    def show(batch: batch_pb2.BatchStatus) -> None:
        print(output.to_json(batch) if args.json else output.batch_status_text(batch), end="", flush=True)

    if not args.watch:
        request = ras_pb.GetBatchStatusRequest(batch_id=args.batch_id)
        show((await clients.ras.GetBatchStatus(request, **clients.call_options())).batch)
        return 0
    async for change in clients.ras.WatchBatchStatus(
        ras_pb.WatchBatchStatusRequest(batch_id=args.batch_id), metadata=clients.metadata
    ):
        show(change.batch)
        if change.batch.client_status in FINISHED_BATCH:
            break
    return 0


async def list_batches(clients: Clients, args: argparse.Namespace) -> int:
    statuses = [CLIENT_STATUSES[s] for s in args.status]
    return await print_pages(
        clients,
        clients.ras.ListBatches,
        lambda token: ras_pb.ListBatchesRequest(
            owner=args.owner, page_size=min(args.limit, 100), page_token=token, statuses=statuses
        ),
        "batches",
        output.batch_line,
        args.limit,
    )


# ---- LPS batch jobs ----------------------------------------------------------------------------------


async def list_batch_jobs(clients: Clients, args: argparse.Namespace) -> int:
    states = [BATCH_JOB_STATES[s] for s in args.state]
    return await print_pages(
        clients,
        clients.jobs.ListBatchJobs,
        lambda token: jobs_pb.ListBatchJobsRequest(page_size=min(args.limit, 100), page_token=token, states=states),
        "batch_jobs",
        output.batch_job_line,
        args.limit,
    )


async def batch_job(clients: Clients, args: argparse.Namespace) -> int:
    request = jobs_pb.GetBatchJobRequest(name=resource_name("batchJobs", args.name))
    job = (await clients.jobs.GetBatchJob(request, **clients.call_options())).batch_job
    print(output.to_json(job) if args.json else output.batch_job_line(job), end="" if args.json else "\n")
    return 0


COMMANDS: dict[str, Callable[[Clients, argparse.Namespace], Awaitable[int]]] = {
    "submit": submit,
    "follow": follow,
    "result": result,
    "report": report,
    "status": status,
    "list": list_assessments,
    "cancel": cancel,
    "grade-scales": grade_scales,
    "batch-status": batch_status,
    "batches": list_batches,
    "batch-jobs": list_batch_jobs,
    "batch-job": batch_job,
}


async def dispatch(clients: Clients, args: argparse.Namespace) -> int:
    return await COMMANDS[args.command](clients, args)
