"""What each vendor's batch API accepts, as facts in one place, and how a batch job
larger than that is split into several vendor jobs.

OpenAI Batch API: at most 50,000 requests and 200 MB of JSONL input per batch.
Anthropic Message Batches: at most 100,000 requests and 256 MB per batch.
The mock's simulated batch API takes OpenAI's limits.

`CreateBatchJob` accepts 1 to `MAX_JOB_REQUESTS` requests (its contract); a job the
vendor cannot take in one piece becomes consecutive parts, each within both limits,
behind the one `BatchJob` the caller sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llm_provider_server.domain.model import Provider

MAX_JOB_REQUESTS = 10_000
MB = 1024 * 1024


@dataclass(frozen=True)
class VendorLimits:
    max_requests: int
    max_bytes: int


VENDOR_LIMITS: dict[Provider, VendorLimits] = {
    Provider.OPENAI: VendorLimits(max_requests=50_000, max_bytes=200 * MB),
    Provider.ANTHROPIC: VendorLimits(max_requests=100_000, max_bytes=256 * MB),
    Provider.MOCK: VendorLimits(max_requests=50_000, max_bytes=200 * MB),
}


def limits_for(provider: Provider, max_requests_override: int = 0, max_bytes_override: int = 0) -> VendorLimits:
    """The vendor's limits, lowered (never raised) by an operator's overrides (0 = none)."""
    facts = VENDOR_LIMITS[provider]
    requests = min(facts.max_requests, max_requests_override) if max_requests_override > 0 else facts.max_requests
    size = min(facts.max_bytes, max_bytes_override) if max_bytes_override > 0 else facts.max_bytes
    return VendorLimits(max_requests=requests, max_bytes=size)


def split(sizes: Sequence[int], limits: VendorLimits) -> list[tuple[int, int]]:
    """Consecutive [start, end) index ranges covering every request, each within the limits.

    Greedy in order: a part closes when one more request would pass either limit. A single
    request larger than the byte limit still gets a part of its own (the vendor then refuses
    that part alone, and only its request fails)."""
    parts: list[tuple[int, int]] = []
    start, used = 0, 0
    for index, size in enumerate(sizes):
        count = index - start
        if count and (count + 1 > limits.max_requests or used + size > limits.max_bytes):
            parts.append((start, index))
            start, used = index, 0
        used += size
    if len(sizes) > start:
        parts.append((start, len(sizes)))
    return parts
