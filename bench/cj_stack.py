"""Benchmark: whole assessments through the three servers as processes, end to end.

LPS runs the zero-latency `latent_bt` mock judge (or, with --eng5, the seed latency
profile `eng5_anchor_gpt51_low`: 1.2-2.0 s per call, unscaled); RAS runs beside them. For
each backend (SQLite files, or fresh PostgreSQL databases) and each N it creates one
assessment of N essays with a budget of `--per-essay` comparisons per essay (each counting
for both its essays) and a target reliability no run reaches, follows it to its final event
and reports:

  wall s          create -> final event
  judgements/s    applied judgements / wall
  submits         times CJ sent new pairs (the old engine's waves)
  CJ CPU ms/j     CJ's user+system CPU over the run / applied judgements (LPS's beside it)
  peak RSS MB     VmHWM of each server (LPS, CJ, RAS) at the end

Backends: sqlite, postgres (all three servers), cj-postgres (CJ on PostgreSQL, LPS and RAS on
SQLite).

The servers inherit OPENBLAS_NUM_THREADS=1 / OMP_NUM_THREADS=1 from this script.

Run: .venv/bin/python bench/cj_stack.py --sizes 30,100,500,2000 --backends sqlite,postgres
     .venv/bin/python bench/cj_stack.py --eng5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import grpc
from huleedu.cj.v1 import assessment_pb2
from huleedu.cj.v1 import cj_assessment_service_pb2 as pb
from huleedu.cj.v1 import cj_assessment_service_pb2_grpc as pb_grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stack.processes import PREFIXES, ServerProcess, start_stack, stop_stack

POSTGRES = os.environ.get("HULEEDU_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(process: ServerProcess) -> float:
    assert process.process is not None
    fields = Path(f"/proc/{process.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mb(process: ServerProcess) -> float:
    assert process.process is not None
    for line in Path(f"/proc/{process.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def database_urls(backend: str, workdir: Path) -> tuple[dict[str, str], list[str]]:
    """`sqlite`, `postgres` (all three servers), or `cj-postgres` (CJ on PostgreSQL, LPS and RAS
    on SQLite: CJ's own cost on PostgreSQL without LPS's commits in the way)."""
    urls = {m: f"sqlite:///{workdir / f'{m}.db'}" for m in PREFIXES}
    if backend == "sqlite":
        return urls, []
    names: list[str] = []
    base = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    for module in ["cj_server"] if backend == "cj-postgres" else list(PREFIXES):
        name = f"bench_{module}_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        urls[module], names = f"{base}/{name}", [*names, name]
    return urls, names


def envs(urls: dict[str, str], eng5: bool, cj_extra: dict[str, str]) -> dict[str, dict[str, str]]:
    out = {
        module: {f"{prefix}_PORT": "0", f"{prefix}_METRICS_PORT": "-1", f"{prefix}_DATABASE_URL": urls[module]}
        for module, prefix in PREFIXES.items()
    }
    lps = out["llm_provider_server"]
    if eng5:
        lps.update(LPS_MOCK_MODE="eng5_anchor_gpt51_low", LPS_MAX_CONCURRENCY_PER_MODEL="64")
    else:
        lps.update(LPS_MOCK_MODE="latent_bt", LPS_MOCK_LATENCY_MS="0", LPS_MAX_CONCURRENCY_PER_MODEL="64")
    out["cj_server"].update(CJ_MAX_ESSAYS="20000", CJ_STREAM_POLL_SECONDS="0.1", **cj_extra)
    return out


def run_one(backend: str, n: int, per_essay: float, eng5: bool, cj_extra: dict[str, str]) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix=f"cj-stack-{backend}-{n}-"))
    urls, databases = database_urls(backend, workdir)
    processes = start_stack(workdir, envs(urls, eng5, cj_extra))
    try:
        cj = processes["cj_server"]
        stub = pb_grpc.CjAssessmentServiceStub(
            grpc.insecure_channel(cj.target, options=[("grpc.max_send_message_length", 64 << 20)])
        )
        essays = [assessment_pb2.Essay(essay_id=f"e{i}", text=f"Essay e{i}: an answer of its own.") for i in range(n)]
        budget = round(n * per_essay / 2)
        lps = processes["llm_provider_server"]
        cpu_before, lps_before = cpu_seconds(cj), cpu_seconds(lps)
        started = time.perf_counter()
        created = stub.CreateAssessment(
            pb.CreateAssessmentRequest(
                request_id=f"bench-{n}", essays=essays, comparison_budget=budget, target_reliability=0.999
            ),
            timeout=120,
        ).assessment
        for _event in stub.StreamComparisonResults(pb.StreamComparisonResultsRequest(name=created.name), timeout=3600):
            pass
        wall = time.perf_counter() - started
        cj_cpu, lps_cpu = cpu_seconds(cj) - cpu_before, cpu_seconds(lps) - lps_before
        final = stub.GetAssessment(pb.GetAssessmentRequest(name=created.name), timeout=30).assessment
        judgements = final.progress.comparisons_succeeded + final.progress.comparisons_failed
        rss = {m: peak_rss_mb(p) for m, p in processes.items()}
        return {
            "n": n,
            "state": assessment_pb2.Assessment.State.Name(final.state),
            "judgements": judgements,
            "waves": final.progress.waves,
            "wall": wall,
            "rate": judgements / wall,
            "cpu_ms": 1000 * cj_cpu / max(judgements, 1),
            "lps_cpu_ms": 1000 * lps_cpu / max(judgements, 1),
            "rss_lps": rss["llm_provider_server"],
            "rss_cj": rss["cj_server"],
            "rss_ras": rss["ras_server"],
        }
    finally:
        stop_stack(processes)
        for name in databases:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="30,100,500,2000")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--per-essay", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--eng5", action="store_true", help="24 essays, 120 comparisons, seed latency profile")
    parser.add_argument("--cj-env", action="append", default=[], help="CJ_SETTING=value for the CJ server")
    args = parser.parse_args()
    cj_extra = dict(item.split("=", 1) for item in args.cj_env)
    sizes = [24] if args.eng5 else [int(s) for s in args.sizes.split(",")]
    print(
        "| backend | N | state | judgements | submits | wall s | judgements/s | CJ CPU ms/j | LPS CPU ms/j "
        "| peak RSS MB LPS / CJ / RAS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        for n in sizes:
            runs = [run_one(backend, n, args.per_essay, args.eng5, cj_extra) for _ in range(args.repeat)]
            r = {k: statistics.median(x[k] for x in runs) if k != "state" else runs[0][k] for k in runs[0]}
            print(
                f"| {backend} | {n} | {r['state']} | {r['judgements']:.0f} | {r['waves']:.0f} | {r['wall']:.1f} "
                f"| {r['rate']:.1f} | {r['cpu_ms']:.1f} | {r['lps_cpu_ms']:.1f} "
                f"| {r['rss_lps']:.0f} / {r['rss_cj']:.0f} / {r['rss_ras']:.0f} |",
                flush=True,
            )
            if args.eng5:
                k = 2 * r["judgements"] / n
                print(
                    f"  eng5: k x mean latency (1.6 s) = {k * 1.6:.1f} s, target <= 1.2x = {k * 1.92:.1f} s; "
                    f"sequential waves need >= k waves x slowest call (~2.0 s) = {k * 2.0:.1f} s"
                )


if __name__ == "__main__":
    main()
