"""The interface every provider adapter implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from llm_provider_server.domain.batch_job import BatchPoll, ItemResult, JobRecord
from llm_provider_server.domain.manifest import ModelInfo
from llm_provider_server.domain.model import ComparisonSpec, Provider, Verdict
from llm_provider_server.domain.prompt import RenderedPrompt


@dataclass(frozen=True)
class JudgeCall:
    spec: ComparisonSpec
    prompt: RenderedPrompt
    model: ModelInfo
    attempt: int


class BatchAdapter(Protocol):
    async def submit(self, job: JobRecord, calls: list[JudgeCall]) -> str:
        """Create the vendor job; returns the vendor's job id."""

    def request_bytes(self, call: JudgeCall) -> int:
        """What the request adds to the vendor's batch input, for splitting to its byte limit."""

    async def poll(self, job: JobRecord) -> BatchPoll: ...

    async def fetch(self, job: JobRecord, calls: list[JudgeCall]) -> dict[str, ItemResult]:
        """Outcome per request id, for every call (unfinished ones as expired or cancelled)."""

    async def cancel(self, job: JobRecord) -> None: ...


class ProviderAdapter(Protocol):
    # read-only members, so an adapter may narrow them (a class whose `batch` is always present)
    @property
    def provider(self) -> Provider: ...

    @property
    def batch(self) -> BatchAdapter | None: ...

    async def judge(self, call: JudgeCall) -> Verdict:
        """One verdict, or raise ProviderFailure."""

    async def close(self) -> None: ...
