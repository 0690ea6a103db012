"""Vendor limits and the split of a batch job into vendor jobs; a job's state from its parts'."""

from __future__ import annotations

import itertools

import pytest

from llm_provider_server.domain.batch_job import JobState, RequestCounts, aggregate_state, sum_counts
from llm_provider_server.domain.model import Provider
from llm_provider_server.domain.vendor_limits import (
    MB,
    VENDOR_LIMITS,
    VendorLimits,
    limits_for,
    queue_has_room,
    split,
)

S = JobState


def test_the_vendors_published_limits():
    assert VENDOR_LIMITS[Provider.OPENAI] == VendorLimits(50_000, 200 * MB)
    assert VENDOR_LIMITS[Provider.ANTHROPIC] == VendorLimits(100_000, 256 * MB)


def test_overrides_only_lower_the_limits():
    assert limits_for(Provider.OPENAI, 1_000, 0) == VendorLimits(1_000, 200 * MB)
    assert limits_for(Provider.OPENAI, 90_000, 500 * MB) == VENDOR_LIMITS[Provider.OPENAI]


@pytest.mark.parametrize(
    ("sizes", "limits", "parts"),
    [
        ([10] * 10, VendorLimits(4, 1_000), [(0, 4), (4, 8), (8, 10)]),
        ([10] * 10, VendorLimits(100, 35), [(0, 3), (3, 6), (6, 9), (9, 10)]),
        ([50, 5, 5], VendorLimits(100, 40), [(0, 1), (1, 3)]),  # an oversized request alone
        ([1] * 5, VendorLimits(5, 5), [(0, 5)]),  # exactly at both limits: one part
        ([], VendorLimits(5, 5), []),
    ],
)
def test_split_covers_every_request_in_order_within_both_limits(sizes, limits, parts):
    assert split(sizes, limits) == parts


def test_split_of_a_large_job_is_linear_and_within_limits():
    sizes = [3_000 + (i * 37) % 2_000 for i in range(10_000)]
    parts = split(sizes, VendorLimits(2_500, 8 * MB))
    assert parts[0][0] == 0 and parts[-1][1] == 10_000
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))
    assert all(end - start <= 2_500 and sum(sizes[start:end]) <= 8 * MB for start, end in parts)


def test_a_batch_queue_limit_lowers_the_part_in_the_vendors_unit():
    """OpenAI's queue counts enqueued prompt tokens, Anthropic's requests: no part may be larger
    than the whole queue."""
    assert limits_for(Provider.OPENAI, 0, 0, 90_000) == VendorLimits(50_000, 200 * MB, max_tokens=90_000)
    assert limits_for(Provider.ANTHROPIC, 0, 0, 2_000) == VendorLimits(2_000, 256 * MB)
    assert limits_for(Provider.ANTHROPIC, 500, 0, 2_000) == VendorLimits(500, 256 * MB)
    assert limits_for(Provider.OPENAI, 0, 0, 0) == VENDOR_LIMITS[Provider.OPENAI]


@pytest.mark.parametrize(
    ("tokens", "max_tokens", "parts"),
    [
        ([3] * 5, 7, [(0, 2), (2, 4), (4, 5)]),
        ([3] * 5, 6, [(0, 2), (2, 4), (4, 5)]),  # exactly at the limit: the part holds
        ([10, 1, 1], 5, [(0, 1), (1, 3)]),  # a request over the limit alone
        ([3] * 5, 0, [(0, 5)]),  # no limit
    ],
)
def test_split_keeps_each_part_within_the_token_limit(tokens, max_tokens, parts):
    assert split([1] * len(tokens), VendorLimits(100, 1_000, max_tokens), tokens) == parts


@pytest.mark.parametrize(
    ("queued", "size", "limit", "room"),
    [
        (0, 10, 0, True),  # no limit
        (5, 5, 10, True),  # exactly full
        (6, 5, 10, False),
        (0, 50, 10, True),  # a part larger than the queue goes when the queue is empty
        (1, 50, 10, False),
    ],
)
def test_a_part_is_submitted_when_the_queue_has_room(queued, size, limit, room):
    assert queue_has_room(queued, size, limit) is room


@pytest.mark.parametrize(
    ("states", "cancel", "expected"),
    [
        ([S.VALIDATING, S.VALIDATING], False, S.VALIDATING),
        ([S.VALIDATING, S.IN_PROGRESS, S.COMPLETED], False, S.VALIDATING),
        ([S.FINALIZING, S.IN_PROGRESS], False, S.IN_PROGRESS),
        ([S.FINALIZING, S.COMPLETED], False, S.FINALIZING),
        ([S.IN_PROGRESS, S.COMPLETED], True, S.CANCELLING),
        ([S.COMPLETED, S.COMPLETED], False, S.COMPLETED),
        ([S.CANCELLED, S.COMPLETED], True, S.CANCELLED),
        ([S.COMPLETED, S.EXPIRED], False, S.COMPLETED),
        ([S.FAILED, S.EXPIRED], False, S.EXPIRED),
        ([S.FAILED, S.FAILED], False, S.FAILED),
    ],
)
def test_a_jobs_state_is_its_slowest_parts(states, cancel, expected):
    assert aggregate_state(states, cancel) is expected


def test_counts_add_up():
    total = sum_counts([RequestCounts(4, 1, 3), RequestCounts(2, 0, 1, 1)])
    assert total == RequestCounts(total=6, processing=1, succeeded=4, errored=1)
