"""The LPS's domain records (llm_provider_server/domain/model.py)."""

from __future__ import annotations

import pytest

from llm_provider_server.domain.model import ComparisonSpec, ProviderFailure, RequestStatus, TokenUsage


def test_only_queued_and_processing_requests_are_not_terminal():
    assert {s for s in RequestStatus if not s.is_terminal} == {RequestStatus.QUEUED, RequestStatus.PROCESSING}


def test_total_tokens_counts_prompt_and_completion_not_the_cache_split():
    usage = TokenUsage(prompt_tokens=1200, completion_tokens=80, cache_read_tokens=1000, cache_write_tokens=0)
    assert usage.total_tokens == 1280


def test_a_provider_failure_reads_as_its_code_and_message_and_is_raisable():
    failure = ProviderFailure("RATE_LIMITED", "slow down", True, retry_after_seconds=3.0, http_status=429)
    assert str(failure) == "RATE_LIMITED: slow down"
    with pytest.raises(ProviderFailure) as caught:
        raise failure
    assert caught.value.retryable and caught.value.retry_after_seconds == 3.0


def test_specs_do_not_share_their_metadata():
    first, second = ComparisonSpec("r1", "a", "b", "cj"), ComparisonSpec("r2", "a", "b", "cj")
    first.metadata["k"] = "v"
    assert second.metadata == {}
