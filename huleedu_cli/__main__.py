"""`huleedu`: the command-line client for running CJ, LPS and RAS servers.

    huleedu submit essays/ --anchors anchors/ --grade-scale eng5_np_legacy --follow
    huleedu submit class.csv --batch-id 9a-2026 --owner teacher-1
    huleedu follow assessments/abc --judgements
    huleedu result assessments/abc --format csv --output results.csv
    huleedu report assessments/abc -o report.html
    huleedu list --state running
    huleedu cancel assessments/abc
    huleedu grade-scales
    huleedu batch-status 9a-2026 [--watch]
    huleedu batches --owner teacher-1
    huleedu batch-jobs [--state in_progress] / huleedu batch-job batchJobs/xyz

Targets come from --cj/--lps/--ras or HULEEDU_CJ_TARGET, HULEEDU_LPS_TARGET and
HULEEDU_RAS_TARGET (defaults: the servers' default ports on 127.0.0.1); a bearer token from
--token or HULEEDU_TOKEN, the deadline of each call from --timeout or HULEEDU_TIMEOUT. Exit
codes: 0 success, 1 the work failed or was cancelled, 2 bad input or a refused call.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import grpc

from huleedu_cli import commands
from huleedu_cli.client import Clients, ClientSettings, SettingsError
from huleedu_cli.essays import InputError

OPTIONS = {
    "cj_target": "--cj",
    "lps_target": "--lps",
    "ras_target": "--ras",
    "token": "--token",
    "timeout": "--timeout",
}


def positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {value}")
    return number


def non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected zero or a positive whole number, got {value}")
    return number


def build_parser(defaults: ClientSettings | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="huleedu",
        description="Command-line client for the HuleEdu comparative judgement services.",
        epilog="Targets and token also come from HULEEDU_CJ_TARGET, HULEEDU_LPS_TARGET, HULEEDU_RAS_TARGET, "
        "HULEEDU_TOKEN, HULEEDU_TIMEOUT.",
    )
    defaults = defaults or ClientSettings()
    parser.add_argument("--cj", default=defaults.cj_target, help="CJ server (default %(default)s)")
    parser.add_argument("--lps", default=defaults.lps_target, help="LLM provider server (default %(default)s)")
    parser.add_argument("--ras", default=defaults.ras_target, help="result aggregator (default %(default)s)")
    parser.add_argument("--token", default=defaults.token, help="bearer token sent with every call")
    parser.add_argument("--timeout", default=defaults.timeout, help="seconds per unary call")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    submit = sub.add_parser("submit", help="submit an assessment of essays from a folder or CSV file")
    submit.add_argument("essays", type=Path, help="a folder of .txt/.md files, or a CSV with essay_id,text[,grade]")
    submit.add_argument("--anchors", type=Path, help="anchor essays: a folder with one subfolder per grade, or a CSV")
    submit.add_argument("--grade-scale", default="", help="grade scale id (see `huleedu grade-scales`)")
    submit.add_argument("--instructions", default="", help="judging instructions, or @file to read them from a file")
    submit.add_argument("--prompt", default="", help="the assignment the students answered, or @file")
    submit.add_argument("--rubric", default="", help="the rubric, or @file")
    submit.add_argument("--budget", type=non_negative_int, default=0, help="most comparisons (default: the server's)")
    submit.add_argument("--target-reliability", type=float, default=0.0, help="stop at this reliability")
    submit.add_argument("--batching", choices=sorted(commands.BATCHING), help="how LPS runs the comparisons")
    submit.add_argument("--provider", choices=sorted(commands.PROVIDERS), help="LLM provider override")
    submit.add_argument("--model", default="", help="LLM model override")
    submit.add_argument("--request-id", default="", help="idempotency key (default: derived from the essays)")
    submit.add_argument("--batch-id", default="", help="report to the result aggregator under this batch")
    submit.add_argument("--owner", default="", help="with --batch-id: register the batch in RAS for this owner")
    submit.add_argument("--follow", action="store_true", help="follow the assessment until it ends")
    add_result_options(submit)

    follow = sub.add_parser("follow", help="show judgements and progress until the assessment ends")
    follow.add_argument("name", help="assessments/{id} (or just the id)")
    add_result_options(follow)

    result = sub.add_parser("result", help="fetch the result of a finished assessment")
    result.add_argument("name", help="assessments/{id} (or just the id)")
    add_result_options(result)

    report = sub.add_parser("report", help="write a printable HTML report of a finished assessment")
    report.add_argument("name", help="assessments/{id} (or just the id)")
    report.add_argument("--output", "-o", type=Path, default=Path("report.html"), help="default %(default)s")
    report.add_argument("--title", default="", help="the report's heading (default: the assessment's name)")

    status = sub.add_parser("status", help="state and progress of one assessment")
    status.add_argument("name", help="assessments/{id} (or just the id)")
    status.add_argument("--json", action="store_true", help="print the assessment as JSON")

    listing = sub.add_parser("list", help="list assessments, newest first")
    listing.add_argument("--state", action="append", choices=sorted(commands.ASSESSMENT_STATES), default=[])
    listing.add_argument("--limit", type=positive_int, default=50, help="at most this many (default %(default)s)")

    cancel = sub.add_parser("cancel", help="cancel an assessment and its outstanding comparisons")
    cancel.add_argument("name", help="assessments/{id} (or just the id)")

    sub.add_parser("grade-scales", help="list the grade scales the CJ server knows")

    batch = sub.add_parser("batch-status", help="a batch's status in the result aggregator")
    batch.add_argument("batch_id")
    batch.add_argument("--watch", action="store_true", help="print each change until the batch is finished")
    batch.add_argument("--json", action="store_true", help="print the status as JSON")

    batches = sub.add_parser("batches", help="list batches in the result aggregator")
    batches.add_argument("--owner", default="")
    batches.add_argument("--status", action="append", choices=sorted(commands.CLIENT_STATUSES), default=[])
    batches.add_argument("--limit", type=positive_int, default=50, help="at most this many (default %(default)s)")

    jobs = sub.add_parser("batch-jobs", help="list LPS batch jobs (provider-native batches)")
    jobs.add_argument("--state", action="append", choices=sorted(commands.BATCH_JOB_STATES), default=[])
    jobs.add_argument("--limit", type=positive_int, default=50, help="at most this many (default %(default)s)")

    job = sub.add_parser("batch-job", help="one LPS batch job")
    job.add_argument("name", help="batchJobs/{id} (or just the id)")
    job.add_argument("--json", action="store_true", help="print the job as JSON")
    return parser


def add_result_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table", help="how to print the result")
    parser.add_argument("--output", "-o", type=Path, help="write the result to this file instead of standard output")
    if parser.prog.split()[-1] != "result":
        parser.add_argument("--judgements", action="store_true", help="print each judgement as it lands")


def describe_rpc_error(error: grpc.aio.AioRpcError) -> str:
    lines = [f"error: {error.code().name}: {error.details()}"]
    lines += [f"  {violation}" for violation in commands.violations(error)]
    return "\n".join(lines)


async def run(args: argparse.Namespace, settings: ClientSettings) -> int:
    async with Clients(settings) as clients:
        return await commands.dispatch(clients, args)


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, ClientSettings]:
    """The arguments and the settings they give, every value checked (SettingsError says which is wrong)."""
    args = build_parser(ClientSettings.from_env()).parse_args(argv)
    values = {"cj_target": args.cj, "lps_target": args.lps, "ras_target": args.ras}
    settings = ClientSettings.checked({**values, "token": args.token, "timeout": args.timeout}, sources=OPTIONS)
    return args, settings


def main(argv: list[str] | None = None) -> None:
    try:
        args, settings = parse(argv)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    try:
        code = asyncio.run(run(args, settings))
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        code = 2
    except grpc.aio.AioRpcError as error:
        print(describe_rpc_error(error), file=sys.stderr)
        code = 1 if error.code() in commands.TRANSIENT_CODES else 2
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
