"""The mock provider: the deterministic mock judge, and a simulated batch API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from llm_provider_server.domain import mock_batch, mock_judge
from llm_provider_server.domain.batch_job import BatchPoll, ItemResult, JobRecord, RequestCounts
from llm_provider_server.domain.mock_batch import ItemState, MockBatchTiming
from llm_provider_server.domain.model import Outcome, Provider, ProviderFailure, Verdict
from llm_provider_server.providers.base import JudgeCall
from service_core.errors import InvariantBroken


def decide(config: mock_judge.MockConfig, call: JudgeCall) -> mock_judge.MockCall:
    return mock_judge.judge(
        config,
        prompt_text=call.prompt.canonical,
        prompt_sha256=call.prompt.sha256,
        essay_a=call.spec.essay_a,
        essay_b=call.spec.essay_b,
        request_id=call.spec.request_id,
        attempt=call.attempt,
        model=call.model.model_id,
    )


class MockProvider:
    provider = Provider.MOCK

    def __init__(
        self,
        config: mock_judge.MockConfig,
        timing: MockBatchTiming,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.config = config
        self.sleep = sleep
        self.calls = 0  # provider calls made, for tests that count them
        self.batch = MockBatchAdapter(config, timing, clock)

    async def judge(self, call: JudgeCall) -> Verdict:
        self.calls += 1
        decision = decide(self.config, call)
        if decision.latency_seconds > 0:
            await self.sleep(decision.latency_seconds)
        if decision.failure is not None:
            raise decision.failure
        if decision.verdict is None:
            raise InvariantBroken("the mock judge decided neither a verdict nor a failure")
        return decision.verdict

    async def close(self) -> None:
        return None


class MockBatchAdapter:
    """Batch lifecycle from `mock_batch.snapshot`: state depends only on the job's
    timestamps, so a restarted server resumes polling where it left off."""

    def __init__(self, config: mock_judge.MockConfig, timing: MockBatchTiming, clock: Callable[[], float]):
        self.config = config
        self.timing = timing
        self.clock = clock
        self.submitted = 0
        self.cancels: list[str] = []  # vendor job ids a cancel was sent to, for tests

    @staticmethod
    def request_bytes(call: JudgeCall) -> int:
        return len(call.prompt.canonical.encode()) + 200

    def _snapshot(self, job: JobRecord) -> mock_batch.MockBatchSnapshot:
        if job.submitted_at is None:
            raise InvariantBroken(f"mock batch job {job.job_id} is polled before it was submitted")
        return mock_batch.snapshot(
            submitted_at=job.submitted_at,
            count=job.item_count,
            now=self.clock(),
            timing=self.timing,
            cancel_at=job.cancel_at,
        )

    async def submit(self, job: JobRecord, calls: list[JudgeCall]) -> str:
        self.submitted += 1
        return f"mockbatch_{job.job_id}"

    async def poll(self, job: JobRecord) -> BatchPoll:
        snap = self._snapshot(job)
        items = snap.items
        counts = RequestCounts(
            total=len(items),
            processing=items.count(ItemState.PENDING),
            succeeded=items.count(ItemState.DONE),
            cancelled=items.count(ItemState.CANCELLED),
            expired=items.count(ItemState.EXPIRED),
        )
        return BatchPoll(state=snap.state, counts=counts, output_ready=snap.output_ready)

    async def fetch(self, job: JobRecord, calls: list[JudgeCall]) -> dict[str, ItemResult]:
        items = self._snapshot(job).items
        results: dict[str, ItemResult] = {}
        for call, state in zip(calls, items, strict=True):
            if state is ItemState.DONE:
                decision = decide(self.config, call)
                results[call.spec.request_id] = (
                    ItemResult(Outcome.SUCCEEDED, verdict=decision.verdict)
                    if decision.failure is None
                    else ItemResult(
                        Outcome.FAILED,
                        failure=ProviderFailure(
                            decision.failure.code,
                            decision.failure.message,
                            retryable=False,
                            http_status=decision.failure.http_status,
                        ),
                    )
                )
            elif state is ItemState.CANCELLED:
                results[call.spec.request_id] = ItemResult(Outcome.CANCELLED)
            else:
                results[call.spec.request_id] = ItemResult(Outcome.EXPIRED)
        return results

    async def cancel(self, job: JobRecord) -> None:
        # The simulation is driven by the part's cancel time (when this cancel was sent).
        self.cancels.append(job.provider_job_id or "")
