"""The result consumer: the subscription to the LLM provider server's results.

A reader task puts delivered results on a queue; the applier takes whatever has arrived
(up to `result_batch_size`), applies it in one transaction and acknowledges it in one call.
Application is idempotent: a comparison takes its first outcome only (`status = pending`
under the assessment's row lock), so a redelivered or duplicate result changes nothing and
is acknowledged again. Any replica may apply any assessment's results; the replica holding
the assessment's lease notices them through the assessment's counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from huleedu.llm.v1 import comparison_pb2

from cj_server import converters
from cj_server.domain.errors import NeighbourError
from cj_server.domain.records import Arrived
from cj_server.lps_client import LpsClient
from cj_server.metrics import CjMetrics
from cj_server.settings import CjSettings
from cj_server.store import SUCCEEDED, CjStore

# Results as they arrive from the stream; None marks the stream's end.
ResultQueue = asyncio.Queue[comparison_pb2.ComparisonResult | None]

log = logging.getLogger("cj_server.results")


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
        """Subscribe, apply, acknowledge; reconnect when the stream ends, until stopped."""
        while not stop.is_set():
            queue: ResultQueue = asyncio.Queue()
            reader = asyncio.create_task(self._read(queue))
            try:
                await self._apply_from(queue, reader, stop)
            except NeighbourError as error:
                log.warning("acknowledging results failed (%s); the stream will redeliver", error.message)
            except Exception:  # a database error: nothing was acknowledged, so LPS redelivers
                log.exception("applying results failed; resubscribing")
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

    async def _read(self, queue: ResultQueue) -> None:
        try:
            async for result in self.lps.results(self.settings.result_max_in_flight):
                queue.put_nowait(result)
        except NeighbourError as error:
            log.warning("result stream from the LLM provider server ended (%s); reconnecting", error.code)
        finally:
            queue.put_nowait(None)

    async def _apply_from(self, queue: ResultQueue, reader: asyncio.Task[None], stop: asyncio.Event) -> None:
        while not stop.is_set():
            first = await queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.settings.result_batch_size and not queue.empty():
                item = queue.get_nowait()
                if item is None:
                    queue.put_nowait(None)  # the stream ended: finish this batch first
                    break
                batch.append(item)
            arrived = [converters.arrived(r) for r in batch]
            await self.apply(arrived)
            await self.lps.ack([a.request_id for a in arrived])

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
