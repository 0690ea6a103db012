"""`python -m stack.demo`: the whole product on the embedded default.

Starts the three servers as real processes (SQLite, a mock judge, no network), checks
that each answers, registers a class batch in the result aggregator, assesses ten
sample essays together with six anchor essays of known grades, shows the judgements
arriving, prints ranks, scores with uncertainty, grades and reliability, shows the
batch status the dashboard would read, and writes the same HTML report as `huleedu report`.

The default judge is the mock profile `essay_features` (longer, more varied, better
linked essays win), whose verdicts look plausible for the sample essays. With
`--provider openai` or `--provider anthropic` (and OPENAI_API_KEY or ANTHROPIC_API_KEY
in the environment) the same demo runs against a real model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from huleedu.cj.v1 import assessment_pb2
from huleedu.cj.v1 import cj_assessment_service_pb2 as cj_pb
from huleedu.cj.v1 import cj_assessment_service_pb2_grpc as cj_grpc
from huleedu.llm.v1 import comparison_pb2
from huleedu.results.v1 import batch_pb2
from huleedu.results.v1 import result_aggregator_service_pb2 as ras_pb
from huleedu.results.v1 import result_aggregator_service_pb2_grpc as ras_grpc

from huleedu_cli import output, report
from huleedu_cli.essays import NAME_LABEL_PREFIX
from stack.processes import stack_envs, start_stack, stop_stack

SAMPLES = Path(__file__).with_name("sample_essays.json")
PROVIDERS = {
    "openai": (comparison_pb2.PROVIDER_OPENAI, "OPENAI_API_KEY"),
    "anthropic": (comparison_pb2.PROVIDER_ANTHROPIC, "ANTHROPIC_API_KEY"),
}


def server_envs(workdir: Path, provider: str) -> dict[str, dict[str, str]]:
    if provider == "mock":
        return stack_envs(workdir, {"LPS_MOCK_MODE": "essay_features", "LPS_MOCK_LATENCY_SCALE": "0.1"})
    return stack_envs(workdir, {"LPS_USE_MOCK_LLM": "false", "LPS_DEFAULT_PROVIDER": provider})


async def healthy(target: str) -> bool:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        # types-grpcio-health-checking declares HealthStub without its methods
        response = await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)  # type: ignore[attr-defined]
        return response.status == health_pb2.HealthCheckResponse.SERVING


async def assess(cj_target: str, ras_target: str, provider: str, report_path: Path) -> bool:
    samples = json.loads(await asyncio.to_thread(SAMPLES.read_text))
    batch_id = f"demo-{int(time.time())}"
    async with grpc.aio.insecure_channel(ras_target) as ras_channel, grpc.aio.insecure_channel(cj_target) as cj_channel:
        ras = ras_grpc.ResultAggregatorServiceStub(ras_channel)
        cj = cj_grpc.CjAssessmentServiceStub(cj_channel)
        await ras.RegisterBatch(
            ras_pb.RegisterBatchRequest(
                event_id=f"register-{batch_id}",
                batch_id=batch_id,
                owner="teacher-demo",
                requested_phases=["cj_assessment"],
                essays=[
                    ras_pb.RegisteredEssay(essay_id=e["id"], filename=f"{e['id']}.docx") for e in samples["essays"]
                ],
            ),
            timeout=10,
        )
        print(f"registered batch {batch_id} in the result aggregator ({len(samples['essays'])} essays)")
        overrides = comparison_pb2.LlmOverrides(provider=PROVIDERS[provider][0]) if provider != "mock" else None
        created = (
            await cj.CreateAssessment(
                cj_pb.CreateAssessmentRequest(
                    request_id=batch_id,
                    batch_id=batch_id,
                    student_prompt=samples["assignment"],
                    instructions=samples["instructions"],
                    grade_scale_id=samples["grade_scale_id"],
                    essays=[assessment_pb2.Essay(essay_id=e["id"], text=e["text"]) for e in samples["essays"]],
                    anchors=[
                        assessment_pb2.AnchorEssay(anchor_id=a["id"], text=a["text"], grade=a["grade"])
                        for a in samples["anchors"]
                    ],
                    llm_overrides=overrides,
                    # The essays' names, as `huleedu submit` keeps them (the proto has no name field).
                    labels={NAME_LABEL_PREFIX + e["id"]: e["name"] for e in samples["essays"] if "name" in e},
                ),
                timeout=30,
            )
        ).assessment
        print(
            f"assessment {created.name}: {created.essay_count} essays + {created.anchor_count} anchors, "
            f"budget {created.progress.budget} judgements\n"
        )
        result, final = None, None
        display = output.ProgressDisplay(sys.stdout)
        async for event in cj.StreamComparisonResults(
            cj_pb.StreamComparisonResultsRequest(name=created.name), timeout=1800
        ):
            if event.HasField("progress"):
                display.show(event.progress)
            elif event.HasField("result"):
                result = event.result
            elif event.HasField("final_assessment"):
                final = event.final_assessment
        display.close()
        print()
        if result is None:
            print(f"the assessment ended without a result: {final.error.message if final else 'unknown'}")
            return False
        data = await report.collect(cj, created.name)
        print_result(result, data.names)
        status = await wait_for_batch(ras, batch_id)
        print(
            f"\nresult aggregator: batch {batch_id} is {batch_pb2.ClientStatus.Name(status.client_status)}, "
            f"{status.completed_essay_count}/{status.essay_count} essays complete, "
            f"CJ reliability {status.cj_reliability:.2f}"
        )
        page = await asyncio.to_thread(report.render, data, f"Comparative judgement: {batch_id}")
        await asyncio.to_thread(report_path.write_text, page, encoding="utf-8")
        print(f"report written to {report_path}")
        return status.client_status == batch_pb2.CLIENT_STATUS_COMPLETED_SUCCESSFULLY


def print_result(result: assessment_pb2.AssessmentResult, names: dict[str, str]) -> None:
    print(output.result_table(result, names), end="")


async def wait_for_batch(ras, batch_id: str):
    """The outbox delivers within a second or two; wait for the batch to show it."""
    for _ in range(100):
        status = (await ras.GetBatchStatus(ras_pb.GetBatchStatusRequest(batch_id=batch_id), timeout=5)).batch
        if status.client_status != batch_pb2.CLIENT_STATUS_PENDING_CONTENT and status.cj_assessment:
            return status
        await asyncio.sleep(0.1)
    return status


async def run(workdir: Path, provider: str, report_path: Path) -> bool:
    processes = await asyncio.to_thread(start_stack, workdir, server_envs(workdir, provider))
    ok = False
    try:
        for module, process in processes.items():
            answers = await healthy(process.target)
            print(f"{module:20s} on {process.target:16s} health: {'SERVING' if answers else 'NOT SERVING'}")
        print()
        ok = await assess(processes["cj_server"].target, processes["ras_server"].target, provider, report_path)
    finally:
        codes = await asyncio.to_thread(stop_stack, processes)
        print(f"\nservers stopped with SIGTERM, exit codes: {codes}")
    return ok and not any(codes.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", choices=["mock", *PROVIDERS], default="mock")
    parser.add_argument("--workdir", type=Path, help="where the SQLite files go (default: a temporary folder)")
    parser.add_argument("--report", type=Path, default=Path("cj-report.html"), help="the HTML report to write")
    args = parser.parse_args()
    if args.provider != "mock" and not os.environ.get(PROVIDERS[args.provider][1]):
        sys.exit(f"--provider {args.provider} needs {PROVIDERS[args.provider][1]} in the environment")
    with tempfile.TemporaryDirectory(prefix="huleedu-demo-") as scratch:
        workdir = (args.workdir or Path(scratch)).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        ok = asyncio.run(run(workdir, args.provider, args.report.resolve()))
    print("\ndemo finished" if ok else "\nTHE DEMO DID NOT FINISH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
