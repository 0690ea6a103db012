"""Benchmark: RAS ingest cost per event against batch size, and RegisterBatch validation.

A phase outcome for one essay should cost the same in a batch of 100 essays as in one of
10,000 (the batch keeps a tally updated by one essay's difference). Small and large batches
are measured interleaved, in rounds, on one SQLite file; medians per event are reported with
their ratio. Then the time to refuse a RegisterBatch with 40,000 phases (once 166 s).

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/ras_ingest.py
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from huleedu.results.v1 import result_aggregator_service_pb2 as pb

from ras_server import converters
from ras_server.app import RasApp
from ras_server.domain import records as r
from ras_server.domain.phases import PhaseStatus
from ras_server.settings import RasSettings
from service_core.errors import InvalidArgument

PHASES = ("spellcheck", "cj_assessment")


async def register(app: RasApp, batch_id: str, essays: int) -> None:
    listed = tuple(r.RegisteredEssay(f"e{i}") for i in range(essays))
    await app.service.register(r.RegisterBatch(f"reg-{batch_id}", batch_id, None, "t1", listed, PHASES))


async def round_of(app: RasApp, batch_id: str, start: int, events: int) -> float:
    began = time.perf_counter()
    for i in range(start, start + events):
        report = r.PhaseReport(f"{batch_id}-{i}", batch_id, None, f"e{i}", "spellcheck", PhaseStatus.COMPLETED)
        await app.service.record_phase(report)
    return (time.perf_counter() - began) / events


async def main(small: int, large: int, rounds: int, events: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        app = RasApp(RasSettings(port=0, metrics_port=-1, database_url=url))
        await app.database.open()
        await register(app, "small", small)
        await register(app, "large", large)
        times: dict[str, list[float]] = {"small": [], "large": []}
        for k in range(rounds):
            for name in ("small", "large"):
                times[name].append(await round_of(app, name, k * events, events))
        await app.database.close()
    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"per phase outcome: {small} essays {median['small']:.2f} ms, {large} essays {median['large']:.2f} ms")
    print(f"ratio large/small: {median['large'] / median['small']:.2f}")
    request = pb.RegisterBatchRequest(
        event_id="e",
        batch_id="b",
        owner="t",
        requested_phases=["spellcheck"] * 40_000,
        essays=[pb.RegisteredEssay(essay_id="x")],
    )
    began = time.perf_counter()
    try:
        converters.register_from_proto(request)
    except InvalidArgument as refused:
        print(f"40,000 phases refused in {(time.perf_counter() - began) * 1000:.2f} ms: {refused.message[:80]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.small, args.large, args.rounds, args.events))
