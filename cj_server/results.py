"""The result consumer: the subscription to the LLM provider server's results.

A reader task puts delivered results on a queue; the applier takes whatever has arrived
(up to `result_batch_size`), applies it in one transaction and acknowledges it in one call.
Application is idempotent: a comparison takes its first outcome only (`status = pending`
under the assessment's row lock), so a redelivered or duplicate result changes nothing and
is acknowledged again. Any replica may apply any assessment's results; the replica holding
the assessment's lease notices them through the assessment's counters.

`run` is one subscription, supervised by the server's `service_core.background.Supervisor`: the
stream ending (the LLM provider server restarting or unreachable) or a batch failing to apply
raises, and the supervisor resubscribes by its one restart-and-logging rule. Nothing is lost:
what was not acknowledged is delivered again. On stop the batch being applied is finished and
acknowledged, then the subscription closes.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from huleedu.llm.v1 import comparison_pb2

from cj_server import converters
from cj_server.domain.errors import NeighbourUnavailable
from cj_server.domain.records import Arrived
from cj_server.lps_client import LpsClient
from cj_server.metrics import CjMetrics
from cj_server.settings import CjSettings
from cj_server.store import SUCCEEDED, CjStore


@dataclass(frozen=True)
class _End:
    """The end of a subscription, put on the queue: stop was asked, or the stream ended (cleanly,
    or with the error it ended with)."""

    stopped: bool = False
    error: Exception | None = None

    def finish(self) -> None:
        """Return on stop; raise otherwise, so the supervisor resubscribes."""
        if self.stopped:
            return
        raise self.error or NeighbourUnavailable("the result stream from the LLM provider server ended")


# Results as they arrive from the stream, then the end of the subscription.
ResultQueue = asyncio.Queue[comparison_pb2.ComparisonResult | _End]


class ResultConsumer:
    def __init__(
        self,
        settings: CjSettings,
        store: CjStore,
        lps: LpsClient,
        metrics: CjMetrics,
        on_applied: Callable[[str], None],
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.store = store
        self.lps = lps
        self.metrics = metrics
        self.on_applied = on_applied
        self.clock = clock

    async def run(self, stop: asyncio.Event) -> None:
        """One subscription: apply and acknowledge until stopped; raises when the stream ends."""
        queue: ResultQueue = asyncio.Queue()
        reader = asyncio.create_task(self._read(queue), name="cj-results-reader")
        stopping = asyncio.create_task(_mark_stop(queue, stop), name="cj-results-stop")
        try:
            await self._apply_from(queue)
        finally:
            for task in (reader, stopping):
                task.cancel()
            await asyncio.gather(reader, stopping, return_exceptions=True)

    async def _read(self, queue: ResultQueue) -> None:
        try:
            async for result in self.lps.results(self.settings.result_max_in_flight):
                queue.put_nowait(result)
        except Exception as error:  # the applier raises it, for the supervisor
            queue.put_nowait(_End(error=error))
            return
        queue.put_nowait(_End())

    async def _apply_from(self, queue: ResultQueue) -> None:
        while True:
            first = await queue.get()
            if isinstance(first, _End):
                first.finish()
                return
            batch, end = [first], None
            while len(batch) < self.settings.result_batch_size and not queue.empty():
                item = queue.get_nowait()
                if isinstance(item, _End):
                    end = item  # the stream ended or stop was asked: finish this batch first
                    break
                batch.append(item)
            arrived = [converters.arrived(r) for r in batch]
            await self.apply(arrived)
            await self.lps.ack([a.request_id for a in arrived])
            if end is not None:
                end.finish()
                return

    async def apply(self, batch: Sequence[Arrived]) -> int:
        """Apply a batch of delivered results in one transaction; the number that changed
        something (the rest were duplicates or not CJ's)."""
        now = self.clock()
        by_assessment: dict[str, dict[str, Arrived]] = defaultdict(dict)
        orphans = 0
        for a in batch:
            if a.assessment_id and a.comparison_id:
                by_assessment[a.assessment_id].setdefault(a.comparison_id, a)  # the first outcome stands
            else:
                orphans += 1
        applied_total, changed = 0, []
        async with self.store.transaction() as connection:
            for assessment_id in sorted(by_assessment):  # one lock order for every replica
                results = by_assessment[assessment_id]
                values = {cid: a.values(now, converters.error_json(a)) for cid, a in results.items()}
                row, applied = await self.store.apply_results(connection, assessment_id, values)
                if row is None:
                    orphans += len(results)
                    continue
                if not applied:
                    continue
                essay_ids = await self.store.essay_ids(
                    assessment_id, [i for c in applied for i in (c.first_idx, c.second_idx)], connection
                )
                events = [
                    (
                        converters.judgement_event(
                            results[c.comparison_id].payload,
                            essay_ids[c.first_idx],
                            essay_ids[c.second_idx],
                            c.wave,
                            c.attempt,
                            now,
                        ),
                        False,
                    )
                    for c in applied
                ]
                events.append((converters.progress_event(row), False))
                await self.store.append_events(connection, assessment_id, events, now)
                for c in applied:
                    self.metrics.judgements.labels("succeeded" if c.status == SUCCEEDED else "failed").inc()
                applied_total += len(applied)
                changed.append(assessment_id)
        self.metrics.result_batch.observe(len(batch))
        if orphans:
            self.metrics.judgements.labels("orphan").inc(orphans)
        duplicates = len(batch) - orphans - applied_total
        if duplicates:
            self.metrics.judgements.labels("duplicate").inc(duplicates)
        if changed:
            await self.store.notify()
            for assessment_id in changed:
                self.on_applied(assessment_id)
        return applied_total


async def _mark_stop(queue: ResultQueue, stop: asyncio.Event) -> None:
    await stop.wait()
    queue.put_nowait(_End(stopped=True))
