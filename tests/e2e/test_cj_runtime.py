"""The CJ runtime with the servers as real processes: two CJ replicas on one PostgreSQL, one
killed with SIGKILL mid-assessment; kill -9 of LPS and then of CJ mid-assessment, each
restarted; and an assessment of 1,000 essays run to completion. In every case each judgement
is counted once: CJ's rows, LPS's results, the streamed judgements and the counters agree."""

from __future__ import annotations

import asyncio
import signal
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from huleedu.cj.v1 import assessment_pb2
from huleedu.cj.v1 import cj_assessment_service_pb2 as pb
from huleedu.cj.v1 import cj_assessment_service_pb2_grpc as pb_grpc
from sqlalchemy.ext.asyncio import create_async_engine

from stack.processes import ServerProcess
from tests.helpers import free_port, wait_for

A = assessment_pb2.Assessment
J = assessment_pb2.Judgement


def essays(count: int) -> list[assessment_pb2.Essay]:
    return [assessment_pb2.Essay(essay_id=f"e{i}", text=f"Essay e{i}: an answer of its own.") for i in range(count)]


def lps_process(workdir: Path, port: int = 0, latency_ms: float = 20) -> ServerProcess:
    env = {
        "LPS_PORT": str(port),
        "LPS_METRICS_PORT": "-1",
        "LPS_DATABASE_URL": f"sqlite:///{workdir / 'lps.db'}",
        "LPS_MOCK_MODE": "latent_bt",
        "LPS_MOCK_LATENCY_MS": str(latency_ms),
        # Requests a killed LPS had claimed are claimed again after this (default 300 s).
        "LPS_CLAIM_LEASE_SECONDS": "3",
    }
    return ServerProcess("llm_provider_server", env, cwd=workdir)


def cj_process(workdir: Path, database_url: str, lps: str, **extra: str) -> ServerProcess:
    env = {
        "CJ_PORT": "0",
        "CJ_METRICS_PORT": "0",
        "CJ_DATABASE_URL": database_url,
        "CJ_LPS_TARGET": lps,
        "CJ_LEASE_SECONDS": "2",
        "CJ_SWEEP_INTERVAL_SECONDS": "0.5",
        "CJ_STREAM_POLL_SECONDS": "0.1",
        "CJ_COMPARISON_DEADLINE_SECONDS": "5",
        **extra,
    }
    return ServerProcess("cj_server", env, cwd=workdir)


def stub(process: ServerProcess) -> pb_grpc.CjAssessmentServiceStub:
    return pb_grpc.CjAssessmentServiceStub(grpc.insecure_channel(process.target))


def get(process: ServerProcess, name: str) -> A:
    return stub(process).GetAssessment(pb.GetAssessmentRequest(name=name), timeout=10).assessment


def succeeded_at_least(process: ServerProcess, name: str, count: int) -> bool:
    return get(process, name).progress.comparisons_succeeded >= count


def follow(process: ServerProcess, name: str, timeout: float = 300) -> list[pb.StreamComparisonResultsResponse]:
    request = pb.StreamComparisonResultsRequest(name=name)
    return list(stub(process).StreamComparisonResults(request, timeout=timeout))


def metric(process: ServerProcess, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{process.metrics_port}/metrics", timeout=5).read().decode()
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")]
    return sum(values)


def query(url: str, sql: str, **params) -> list[tuple]:
    async def run() -> list[tuple]:
        engine = create_async_engine(url.replace("sqlite:///", "sqlite+aiosqlite:///"))
        try:
            async with engine.connect() as connection:
                return [tuple(r) for r in (await connection.execute(sa.text(sql), params)).all()]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def assert_counted_once(cj_url: str, lps_url: str, name: str, events, final: A, result) -> None:
    """CJ's answered rows, LPS's results, the streamed judgements and the counters agree."""
    assessment_id = name.split("/")[1]
    rows = query(
        cj_url,
        "SELECT comparison_id, status, result_seq FROM cj_comparisons WHERE assessment_id = :a",
        a=assessment_id,
    )
    answered = [r for r in rows if r[1] in ("succeeded", "failed")]
    succeeded = [r for r in rows if r[1] == "succeeded"]
    assert sorted(r[2] for r in answered) == list(range(1, len(answered) + 1)), "each result applied once"
    judgements = [e.judgement for e in events if e.HasField("judgement")]
    assert len(judgements) == len(answered)
    assert sum(j.outcome == J.OUTCOME_SUCCEEDED for j in judgements) == len(succeeded)
    assert final.progress.comparisons_succeeded == len(succeeded) == result.comparisons_succeeded
    assert final.progress.comparisons_failed == len(answered) - len(succeeded)
    lps = {
        r[0]: r[1]
        for r in query(lps_url, "SELECT request_id, outcome FROM lps_results WHERE request_id LIKE :p", p="cj:%")
    }
    assert all(f"cj:{r[0]}" in lps for r in answered), "every CJ judgement is an LPS result"
    assert sum(1 for r in succeeded if lps[f"cj:{r[0]}"] == "succeeded") == len(succeeded)


@pytest.mark.postgres
def test_two_replicas_share_an_assessment_and_one_is_killed_mid_assessment(tmp_path, postgres_url):
    lps = lps_process(tmp_path).start()
    replicas = [cj_process(tmp_path, postgres_url, lps.target).start()]
    replicas.append(cj_process(tmp_path, postgres_url, lps.target).start())  # after the first migrated
    try:
        created = stub(replicas[1]).CreateAssessment(
            pb.CreateAssessmentRequest(request_id="replicas-1", essays=essays(40), comparison_budget=400), timeout=30
        )
        name = created.assessment.name
        assert wait_for(lambda: succeeded_at_least(replicas[0], name, 60), timeout=120)
        holders = [r for r in replicas if metric(r, "cj_lease_takeovers_total") >= 1]
        assert len(holders) == 1, "one replica advances the assessment"
        [holder] = holders
        survivor = next(r for r in replicas if r is not holder)
        assert holder.stop(signal.SIGKILL) == -signal.SIGKILL
        events = follow(survivor, name)
        final = get(survivor, name)
        result = stub(survivor).GetAssessmentResult(pb.GetAssessmentResultRequest(name=name), timeout=10).result
        assert metric(survivor, "cj_lease_takeovers_total") >= 1, "the survivor took the assessment over"
    finally:
        for process in [*replicas, lps]:
            process.stop()
    assert final.state == A.STATE_SUCCEEDED
    assert_counted_once(postgres_url, f"sqlite:///{tmp_path / 'lps.db'}", name, events, final, result)


def test_kill_9_of_lps_then_of_cj_mid_assessment(tmp_path):
    cj_url = f"sqlite:///{tmp_path / 'cj.db'}"
    port = free_port()
    lps = lps_process(tmp_path, port).start()
    cj = cj_process(tmp_path, cj_url, lps.target).start()
    try:
        created = stub(cj).CreateAssessment(
            pb.CreateAssessmentRequest(request_id="crash-1", essays=essays(30), comparison_budget=300), timeout=30
        )
        name = created.assessment.name
        assert wait_for(lambda: succeeded_at_least(cj, name, 40), timeout=120)
        assert lps.stop(signal.SIGKILL) == -signal.SIGKILL
        time.sleep(1.0)  # CJ's sends and its result stream fail meanwhile
        lps = lps_process(tmp_path, port).start()
        before = get(cj, name).progress.comparisons_succeeded
        assert wait_for(lambda: succeeded_at_least(cj, name, before + 40), timeout=120), "re-sent within seconds"
        assert cj.stop(signal.SIGKILL) == -signal.SIGKILL
        cj = cj_process(tmp_path, cj_url, lps.target).start()
        events = follow(cj, name)
        final = get(cj, name)
        result = stub(cj).GetAssessmentResult(pb.GetAssessmentResultRequest(name=name), timeout=10).result
    finally:
        cj.stop()
        lps.stop()
    assert final.state == A.STATE_SUCCEEDED
    assert_counted_once(cj_url, f"sqlite:///{tmp_path / 'lps.db'}", name, events, final, result)


def test_an_assessment_of_1000_essays_runs_to_completion(tmp_path):
    cj_url = f"sqlite:///{tmp_path / 'cj.db'}"
    lps = lps_process(tmp_path, latency_ms=0).start()
    cj = cj_process(tmp_path, cj_url, lps.target).start()
    try:
        created = stub(cj).CreateAssessment(
            pb.CreateAssessmentRequest(request_id="n1000", essays=essays(1000), comparison_budget=1500), timeout=60
        )
        name = created.assessment.name
        events = follow(cj, name, timeout=600)
        final = get(cj, name)
        result = stub(cj).GetAssessmentResult(pb.GetAssessmentResultRequest(name=name), timeout=10).result
    finally:
        cj.stop()
        lps.stop()
    assert final.state == A.STATE_SUCCEEDED and len(result.essay_results) == 1000
    assert final.progress.comparisons_submitted <= 1500
    assert_counted_once(cj_url, f"sqlite:///{tmp_path / 'lps.db'}", name, events, final, result)
