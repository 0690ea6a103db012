"""Mock-profile parity over 500 requests per profile, on SQLite and PostgreSQL.

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
