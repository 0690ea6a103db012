"""Mock-profile parity over 500 requests per profile, on SQLite and PostgreSQL; the parity
command (`python -m llm_provider_server.parity`) against running servers, and its checks.

Each test first asks the server it runs against for its mock mode (GetMockMode),
as the seeds intended, instead of trusting its own configuration. Then it checks
the winner share against the profile's rule within a binomial tolerance (4
standard errors), the token floors, and the latency band at a scaled latency.
"""

from __future__ import annotations

import math
import statistics

import pytest
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb

from llm_provider_server import parity as parity_command
from llm_provider_server.domain.parity import RECORDED, Observed, checks, p95
from tests.llm_provider_server.harness import comparison, lps

N = 500
SCALE = 0.05  # latencies at 5% of the recorded runs' so the suite stays fast

PROFILES = {
    # profile: (P(Essay A), prompt floor, completion floor, latency band in ms before scaling)
    "cj_generic_batch": (1.0, 5, 17, (0, 0)),
    "eng5_anchor_gpt51_low": (35 / 66, 1100, 40, (1200, 2000)),
    "eng5_lower5_gpt51_low": (4 / 10, 1000, 30, (1000, 2000)),
}


@pytest.mark.slow
@pytest.mark.parametrize("profile", list(PROFILES))
async def test_profile_parity(database_url, profile):
    p_a, prompt_floor, completion_floor, (low_ms, high_ms) = PROFILES[profile]
    async with lps(database_url, mock_mode=profile, mock_latency_scale=SCALE, max_concurrency_per_model=32) as h:
        mode = await h.stub.GetMockMode(pb.GetMockModeRequest(), timeout=5)
        assert (mode.use_mock_llm, mode.mock_mode) == (True, profile)
        requests = [
            comparison(
                f"{profile}-{i}",
                a=f"Essay {i} argues that reading matters.",
                b=f"Essay {i + N} argues that sport matters.",
                metadata={"essay_a_id": f"e{i}"},
            )
            for i in range(N)
        ]
        for start in range(0, N, 250):
            await h.submit(*requests[start : start + 250])
        results = await h.collect(N, timeout=120)

    assert len({r.request_id for r in results}) == N
    assert all(r.outcome == comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED for r in results)
    share_a = sum(r.winner == comparison_pb2.WINNER_ESSAY_A for r in results) / N
    tolerance = 4 * math.sqrt(p_a * (1 - p_a) / N)
    assert abs(share_a - p_a) <= tolerance, f"share of Essay A {share_a:.3f}, expected {p_a:.3f} ± {tolerance:.3f}"
    assert min(r.usage.prompt_tokens for r in results) >= prompt_floor
    assert min(r.usage.completion_tokens for r in results) >= completion_floor
    assert all(r.metadata["essay_a_id"].startswith("e") for r in results)
    latencies = [r.latency.ToNanoseconds() / 1e9 for r in results]
    low, high = low_ms / 1000 * SCALE, high_ms / 1000 * SCALE
    assert min(latencies) >= low
    slack = 0.03  # event-loop scheduling under load adds a little to every sleep
    assert statistics.median(latencies) <= high + slack
    if high > low:
        assert low <= statistics.mean(latencies) <= high + slack


# ---- the parity command and its checks ------------------------------------------------------------


def observed(share_a: float, prompt: int, completion: int, latencies_ms: list[float], n: int = 100) -> Observed:
    return Observed(round(share_a * n), n, [prompt] * n, [completion] * n, latencies_ms)


def failed(found) -> set[str]:
    return {c.name for c in found if not c.passed}


def test_checks_pass_on_the_recorded_figures_and_fail_off_them():
    anchor = RECORDED["eng5_anchor_gpt51_low"]
    uniform = [1200 + 8 * i for i in range(100)]  # 1200 + U(0, 800) ms, evenly spread
    assert not failed(checks(anchor, observed(35 / 66, 1100, 40, uniform), 1.0))
    assert failed(checks(anchor, observed(0.8, 1100, 40, uniform), 1.0)) == {"winner share A"}
    assert failed(checks(anchor, observed(35 / 66, 400, 40, uniform), 1.0)) == {"prompt tokens mean"}
    slow = [latency + 150 for latency in uniform]
    assert failed(checks(anchor, observed(35 / 66, 1100, 40, slow), 1.0)) == {"latency mean ms"}
    tail = uniform[:90] + [3000] * 10
    assert "latency p95 ms" in failed(checks(anchor, observed(35 / 66, 1100, 40, tail), 1.0))
    assert not failed(checks(anchor, observed(35 / 66, 1100, 40, [x / 20 for x in uniform]), 0.05))


def test_lower5_needs_b_at_least_as_often_and_generic_nine_in_ten_a():
    lower5, generic = RECORDED["eng5_lower5_gpt51_low"], RECORDED["cj_generic_batch"]
    assert "B wins at least as often as A" in failed(checks(lower5, observed(0.6, 1000, 30, [1500.0]), 1.0))
    assert "winner share A minimum" in failed(checks(generic, observed(0.85, 5, 17, [0.0]), 1.0))
    assert p95(list(range(1, 101))) == 95


@pytest.mark.parametrize("profile", list(PROFILES))
async def test_the_parity_command_passes_against_a_running_server_of_the_profile(database_url, profile, capsys):
    async with lps(database_url, mock_mode=profile, mock_latency_scale=SCALE, max_concurrency_per_model=32) as h:
        verdict, found = await parity_command.run(profile, f"127.0.0.1:{h.port}", 120)
    assert verdict == parity_command.PASSED, [c for c in found if not c.passed]
    assert {c.name for c in found} >= {"winner share A", "prompt tokens mean", "latency mean ms", "latency p95 ms"}


async def test_the_parity_command_skips_a_server_running_another_profile(database_url, capsys):
    async with lps(database_url, mock_mode="cj_generic_batch") as h:
        verdict, found = await parity_command.run("eng5_anchor_gpt51_low", f"127.0.0.1:{h.port}", 10)
        listed = await h.stub.GetMockMode(pb.GetMockModeRequest())
    assert verdict == parity_command.SKIPPED and not found
    assert "runs cj_generic_batch, not eng5_anchor_gpt51_low" in capsys.readouterr().out
    assert listed.mock_mode == "cj_generic_batch", "nothing was switched on the running server"


async def test_the_parity_command_switches_by_starting_its_own_server(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LPS_MOCK_LATENCY_SCALE", "0.02")
    monkeypatch.setenv("LPS_DATABASE_URL", f"sqlite:///{tmp_path / 'own.db'}")
    code = await parity_command.main(["eng5_lower5_gpt51_low", "--requests", "200"])
    out = capsys.readouterr().out
    assert code == 0 and "PASS: parity of eng5_lower5_gpt51_low" in out
