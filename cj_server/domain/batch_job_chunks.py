"""A provider_batch_api wave as CreateBatchJob calls the LLM provider server accepts.

`CreateBatchJob` takes at most 10,000 requests (its contract) in one gRPC message; a larger wave
(2,000 essays at 20 comparisons per essay is 20,000) goes as consecutive calls, each within
that count and a byte budget below the message size. The LPS splits each call further to the
vendor's own batch limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

BATCH_JOB_MAX_REQUESTS = 10_000
FRAMING_BYTES = 8  # a repeated field's tag and length prefix, generously


class Sized(Protocol):
    def ByteSize(self) -> int: ...


T = TypeVar("T", bound=Sized)


def batch_job_chunks(
    requests: Sequence[T], max_bytes: int, max_requests: int = BATCH_JOB_MAX_REQUESTS
) -> list[list[T]]:
    """Consecutive chunks covering `requests` in order, each within both limits (a single request
    larger than `max_bytes` still gets a chunk of its own)."""
    chunks: list[list[T]] = [[]]
    size = 0
    for request in requests:
        length = request.ByteSize() + FRAMING_BYTES
        if chunks[-1] and (len(chunks[-1]) >= max_requests or size + length > max_bytes):
            chunks.append([])
            size = 0
        chunks[-1].append(request)
        size += length
    return chunks
