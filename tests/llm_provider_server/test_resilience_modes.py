"""Circuit breaker, rate limits and per-provider timeouts apply the same way in per_request and
serial_bundle (and batch_api when it runs calls itself), against the fake vendors."""

from __future__ import annotations

import asyncio

import pytest
from google.rpc import error_details_pb2
from huleedu.llm.v1 import comparison_pb2

from tests.llm_provider_server.fake_vendors import FakeVendors, Scripted, assert_paced
from tests.llm_provider_server.harness import comparison, lps

R = comparison_pb2.ComparisonResult
MODES = ["per_request", "serial_bundle"]
CHAT = "/v1/chat/completions"


def real(vendor: FakeVendors, **overrides) -> dict:
    return vendor.lps_settings(provider_timeout_seconds=5.0, **overrides)


def reason(result: R) -> str:
    info = error_details_pb2.ErrorInfo()
    result.error.details[0].Unpack(info)
    return info.reason


@pytest.mark.parametrize("mode", MODES)
async def test_an_open_breaker_holds_work_in_every_mode(tmp_path, vendor, mode):
    """A vendor answering 503: the breaker opens after 3 failures and no further call is made while
    it is open, whatever the mode; the held requests stay queued with their attempts unspent."""
    vendor.next(*(Scripted(status=503) for _ in range(200)))
    settings = real(
        vendor,
        queue_processing_mode=mode,
        breaker_failure_threshold=3,
        breaker_recovery_seconds=60,
        max_attempts=10,
        max_concurrency_per_model=2,
        bundle_max_items=20,
    )
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        await h.submit(*(comparison(f"r{i}") for i in range(20)))
        for _ in range(100):
            if h.sample("llm_provider_circuit_breaker_state", {"provider": "openai"}) == 1:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # many dispatch rounds and sweeps while open
        calls = vendor.count(CHAT)
        depth = await h.app.store.queue_depth()
        spent = [(await h.get(f"r{i}")).attempts for i in range(20)]
    assert 3 <= calls <= 3 + 2, f"{calls} calls to a failing vendor"
    assert depth["queued"] + depth["processing"] == 20, "nothing failed or lost while the breaker is open"
    assert sum(spent) == calls, "attempts count calls made, not claims held back"


@pytest.mark.parametrize("mode", MODES)
async def test_the_per_provider_timeout_ends_a_slow_call_in_every_mode(tmp_path, vendor, mode):
    vendor.next(Scripted(delay=3.0), Scripted(delay=3.0))
    settings = real(vendor, queue_processing_mode=mode, openai_timeout_seconds=0.4, max_attempts=1)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        await h.submit(comparison("slow"))
        [result] = await h.collect(1, timeout=30)
    assert result.outcome == R.OUTCOME_FAILED and reason(result) == "PROVIDER_TIMEOUT"
    assert result.attempts == 1


@pytest.mark.parametrize("mode", MODES)
async def test_requests_per_minute_hold_in_every_mode(tmp_path, vendor, mode):
    settings = real(vendor, queue_processing_mode=mode, openai_requests_per_minute=600, bundle_max_items=25)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        await h.submit(*(comparison(f"r{i}") for i in range(25)))
        await h.collect(25)
    times = sorted(t for t, _, path in vendor.calls if path == CHAT)
    assert len(times) == 25
    assert_paced(times, per_second=10, burst=10)


@pytest.mark.parametrize("mode", MODES)
async def test_tokens_per_minute_hold_in_every_mode(tmp_path, vendor, mode):
    """Each call is estimated at its prompt's length / 4 plus max_tokens (here 1,000, so the
    estimate dominates); a budget of 120,000 a minute is 2,000 a second: about two calls a second."""
    overrides = comparison_pb2.LlmOverrides(provider=comparison_pb2.PROVIDER_OPENAI, max_tokens=1000)
    settings = real(vendor, queue_processing_mode=mode, openai_tokens_per_minute=120_000, bundle_max_items=8)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings) as h:
        await h.submit(*(comparison(f"r{i}", overrides=overrides) for i in range(8)))
        await h.collect(8)
    times = sorted(t for t, _, path in vendor.calls if path == CHAT)
    assert len(times) == 8
    # The fake vendor reports 1,260 tokens used per call, so each call holds the budget ~0.6 s.
    assert times[-1] - times[0] >= 0.6 * (8 - 2) - 0.1, "eight calls cannot start faster than the budget allows"
