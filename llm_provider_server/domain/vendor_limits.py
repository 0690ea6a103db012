"""What each vendor's batch API accepts, as facts in one place, and how a batch job
larger than that is split into several vendor jobs.

OpenAI Batch API: at most 50,000 requests and 200 MB of JSONL input per batch.
Anthropic Message Batches: at most 100,000 requests and 256 MB per batch.
The mock's simulated batch API takes OpenAI's limits.

`CreateBatchJob` accepts 1 to `MAX_JOB_REQUESTS` requests (its contract); a job the
vendor cannot take in one piece becomes consecutive parts, each within both limits,
behind the one `BatchJob` the caller sees.

Batch queues. Neither vendor meters batch work against the per-minute limits of its
synchronous API; each bounds what may wait in its batch queue at once instead:
- OpenAI: "enqueued prompt tokens" per model, the input tokens of every batch of that
  model not yet ended; a batch that would pass the limit fails validation
  (`token_limit_exceeded`), and the room comes back when batches end.
- Anthropic: requests in the Message Batches processing queue, over all models.
`BATCH_QUEUES` says which unit each vendor counts and whether per model; the operator
gives the account's amount (`LPS_OPENAI_BATCH_QUEUE_TOKENS`,
`LPS_ANTHROPIC_BATCH_QUEUE_REQUESTS`). A part then also stays within that amount when
split, and is submitted only when what is already queued leaves room (`queue_has_room`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from llm_provider_server.domain.model import Provider

MAX_JOB_REQUESTS = 10_000
MB = 1024 * 1024


@dataclass(frozen=True)
class VendorLimits:
    max_requests: int
    max_bytes: int
    max_tokens: int = 0  # estimated prompt tokens per vendor job; 0 = no limit


class QueueUnit(StrEnum):
    PROMPT_TOKENS = "prompt_tokens"
    REQUESTS = "requests"


@dataclass(frozen=True)
class BatchQueue:
    """What a vendor's batch queue limit counts, and whether each model has its own."""

    unit: QueueUnit
    per_model: bool


BATCH_QUEUES: dict[Provider, BatchQueue] = {
    Provider.OPENAI: BatchQueue(QueueUnit.PROMPT_TOKENS, per_model=True),
    Provider.ANTHROPIC: BatchQueue(QueueUnit.REQUESTS, per_model=False),
    Provider.MOCK: BatchQueue(QueueUnit.PROMPT_TOKENS, per_model=True),
}


VENDOR_LIMITS: dict[Provider, VendorLimits] = {
    Provider.OPENAI: VendorLimits(max_requests=50_000, max_bytes=200 * MB),
    Provider.ANTHROPIC: VendorLimits(max_requests=100_000, max_bytes=256 * MB),
    Provider.MOCK: VendorLimits(max_requests=50_000, max_bytes=200 * MB),
}


def _lowered(fact: int, override: int) -> int:
    return min(fact, override) if override > 0 else fact


def limits_for(
    provider: Provider, max_requests_override: int = 0, max_bytes_override: int = 0, queue_limit: int = 0
) -> VendorLimits:
    """The vendor's limits, lowered (never raised) by an operator's overrides (0 = none) and by its
    batch queue's amount (a part larger than the whole queue could never be submitted)."""
    facts = VENDOR_LIMITS[provider]
    requests = _lowered(facts.max_requests, max_requests_override)
    tokens = 0
    if queue_limit > 0 and BATCH_QUEUES[provider].unit is QueueUnit.REQUESTS:
        requests = min(requests, queue_limit)
    elif queue_limit > 0:
        tokens = queue_limit
    return VendorLimits(requests, _lowered(facts.max_bytes, max_bytes_override), tokens)


def split(sizes: Sequence[int], limits: VendorLimits, tokens: Sequence[int] = ()) -> list[tuple[int, int]]:
    """Consecutive [start, end) index ranges covering every request, each within the limits
    (`tokens`, each request's estimated prompt tokens, for `max_tokens`).

    Greedy in order: a part closes when one more request would pass any limit. A single
    request larger than the byte limit still gets a part of its own (the vendor then refuses
    that part alone, and only its request fails)."""
    costs = tokens or [0] * len(sizes)
    parts: list[tuple[int, int]] = []
    start, used, spent = 0, 0, 0
    for index, (size, cost) in enumerate(zip(sizes, costs, strict=True)):
        count = index - start
        over_tokens = limits.max_tokens > 0 and spent + cost > limits.max_tokens
        if count and (count + 1 > limits.max_requests or used + size > limits.max_bytes or over_tokens):
            parts.append((start, index))
            start, used, spent = index, 0, 0
        used += size
        spent += cost
    if len(sizes) > start:
        parts.append((start, len(sizes)))
    return parts


def queue_has_room(queued: int, size: int, limit: int) -> bool:
    """May a part of `size` (in the queue's unit) join `queued` within `limit` (0 = no limit)?
    An empty queue takes any part, so one larger than the limit is not held back for ever."""
    return limit <= 0 or queued == 0 or queued + size <= limit
