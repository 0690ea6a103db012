"""Benchmark: the LPS queue on SQLite and PostgreSQL.

throughput  10,000 zero-latency comparisons end to end through gRPC (submitted in calls of
            1,000, run, streamed, acknowledged in batches) in each processing mode, beside a
            plain SQLAlchemy floor doing the same rows' lifecycle in batched transactions,
            interleaved, repeated; medians and each mode's ratio to the floor.
depth       the dispatcher's statements (claim, bundle claim, model keys, expiry and lease
            sweeps) timed at queue depths 100, 10,000 and 100,000 (4 kB request bodies).

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/lps_queue.py throughput --repeat 3
     OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/lps_queue.py depth
PostgreSQL: HULEEDU_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
each run gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import sqlalchemy as sa
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc
from sqlalchemy.engine import make_url

from llm_provider_server.app import MIGRATIONS, LpsApp
from llm_provider_server.domain.model import ComparisonSpec, Provider
from llm_provider_server.settings import LpsSettings
from llm_provider_server.store import LpsStore, NewRequest, requests_table, results_table
from service_core.db import Database

POSTGRES = os.environ.get("HULEEDU_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ESSAY = ("The essay argues its case with evidence and a clear structure. " * 32)[:2000]
MODES = ("per_request", "serial_bundle", "batch_api")


# ---- databases ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def fresh_database(kind: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'lps.db'}"
        return
    import asyncpg

    name = f"lps_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(POSTGRES).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            make_url(POSTGRES).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
        )
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


# ---- throughput: the LPS end to end -----------------------------------------------------------


def lps_settings(url: str, mode: str, count: int) -> LpsSettings:
    return LpsSettings(
        port=0,
        metrics_port=-1,
        database_url=url,
        queue_processing_mode=mode,
        queue_capacity=max(count, 10_000),
        mock_latency_scale=0.0,
        mock_batch_validating_seconds=0.0,
        mock_batch_processing_seconds=0.0,
        mock_batch_finalizing_seconds=0.0,
        batch_poll_interval_seconds=0.05 if mode == "batch_api" else 1.0,
        idle_poll_seconds=0.05,
        log_level="WARNING",
    )


def request(i: int) -> comparison_pb2.ComparisonRequest:
    return comparison_pb2.ComparisonRequest(
        request_id=f"r{i}", essay_a_text=f"{ESSAY} A{i}", essay_b_text=f"{ESSAY} B{i}", consumer="bench"
    )


async def run_lps(url: str, mode: str, count: int, call_size: int = 1000, ack_size: int = 500) -> float:
    """Judgements per second from the first submit to the last acknowledgement."""
    app = LpsApp(lps_settings(url, mode, count))
    server = app.grpc_server()
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb_grpc.LlmProviderServiceStub(channel)
            started = time.perf_counter()
            consumer = asyncio.create_task(consume(stub, count, ack_size))
            for first in range(0, count, call_size):
                batch = [request(i) for i in range(first, min(first + call_size, count))]
                await stub.SubmitComparisons(pb.SubmitComparisonsRequest(requests=batch), timeout=60)
            await asyncio.wait_for(consumer, timeout=600)
            return count / (time.perf_counter() - started)
    finally:
        await server.stop(grace=1)


async def consume(stub: pb_grpc.LlmProviderServiceStub, count: int, ack_size: int) -> None:
    """Stream results and acknowledge them in batches, as CJ's consumer does."""
    arrived: asyncio.Queue[str] = asyncio.Queue()
    stream = stub.StreamComparisonResults(pb.StreamComparisonResultsRequest(consumer="bench", max_in_flight=2000))

    async def read() -> None:
        async for message in stream:
            arrived.put_nowait(message.result.request_id)

    reader = asyncio.create_task(read())
    seen: set[str] = set()
    pending: list[str] = []
    acks: list[Awaitable] = []

    def flush() -> None:
        if pending:
            ids = list(pending)
            pending.clear()
            acks.append(stub.AckComparisonResults(pb.AckComparisonResultsRequest(consumer="bench", request_ids=ids)))

    try:
        while len(seen) < count:
            try:
                request_id = await asyncio.wait_for(arrived.get(), timeout=0.05 if pending else 120)
            except TimeoutError:
                flush()  # a quiet stream: acknowledge what arrived
                continue
            seen.add(request_id)
            pending.append(request_id)
            if len(pending) >= ack_size or len(seen) == count:
                flush()
        await asyncio.gather(*acks)
    finally:
        stream.cancel()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            await reader


# ---- throughput: the floor ------------------------------------------------------------------


async def run_floor(url: str, count: int, call_size: int = 1000, claim_size: int = 64, ack_size: int = 500) -> float:
    """The same rows' lifecycle with plain SQLAlchemy Core and batched transactions: insert in
    calls of 1,000, claim 64 at a time, record their results, read them, acknowledge them."""
    database = Database(url, MIGRATIONS, "lps_alembic_version")
    await database.open()
    engine = database.engine
    r, res = requests_table.c, results_table.c
    spec = f'{{"essay_a": "{ESSAY}", "essay_b": "{ESSAY}"}}'
    started = time.perf_counter()
    now = time.time()
    for first in range(0, count, call_size):
        rows = [floor_row(f"f{i}", spec, now) for i in range(first, min(first + call_size, count))]
        async with engine.begin() as connection:
            await connection.execute(requests_table.insert(), rows)
    done = 0
    while done < count:
        async with engine.begin() as connection:
            ids = sa.select(r.request_id).where(r.status == "queued").order_by(r.created_at).limit(claim_size)
            claimed = (
                await connection.execute(
                    requests_table.update()
                    .where(r.request_id.in_(ids.scalar_subquery()))
                    .values(status="processing", attempts=r.attempts + 1)
                    .returning(r.request_id, r.spec_json)
                )
            ).all()
        async with engine.begin() as connection:
            await connection.execute(
                results_table.insert(),
                [
                    {
                        "request_id": row.request_id,
                        "consumer": "bench",
                        "outcome": "succeeded",
                        "result_json": '{"winner": "essay_a"}' * 20,
                        "completed_at": now,
                        "deliveries": 0,
                    }
                    for row in claimed
                ],
            )
            await connection.execute(
                requests_table.update()
                .where(r.request_id.in_([row.request_id for row in claimed]))
                .values(status="succeeded")
            )
        done += len(claimed)
    acked = 0
    while acked < count:
        async with engine.begin() as connection:
            rows = (
                await connection.execute(
                    sa.select(res.request_id, res.result_json)
                    .where(res.acked_at.is_(None))
                    .order_by(res.sequence)
                    .limit(ack_size)
                )
            ).all()
            await connection.execute(
                results_table.update().where(res.request_id.in_([row.request_id for row in rows])).values(acked_at=now)
            )
        acked += len(rows)
    elapsed = time.perf_counter() - started
    await database.close()
    return count / elapsed


def floor_row(request_id: str, spec: str, now: float) -> dict:
    return {
        "request_id": request_id,
        "consumer": "bench",
        "status": "queued",
        "priority": 0,
        "provider": "mock",
        "model": "mock-judge-v1",
        "bundle_key": "k",
        "spec_json": spec,
        "created_at": now,
        "updated_at": now,
        "expire_at": now + 3600,
        "not_before": now,
        "attempts": 0,
        "cancel_requested": False,
    }


async def throughput(databases: list[str], modes: list[str], count: int, repeat: int) -> None:
    rates: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    for round_number in range(repeat):
        for kind in databases:
            for subject in ("floor", *modes):
                async with fresh_database(kind) as url:
                    cpu = time.process_time()
                    rate = await (run_floor(url, count) if subject == "floor" else run_lps(url, subject, count))
                    cpu_ms = (time.process_time() - cpu) * 1000 / count
                rates.setdefault((kind, subject), []).append(rate)
                cpus.setdefault((kind, subject), []).append(cpu_ms)
                print(
                    f"round {round_number + 1} {kind:10} {subject:14} {rate:8.0f}/s {cpu_ms:6.2f} ms CPU each",
                    flush=True,
                )
    print("\n| database | floor (rows/s) | " + " | ".join(modes) + " |")
    print("|---|---|" + "---|" * len(modes))
    for kind in databases:
        floor = statistics.median(rates[(kind, "floor")])
        cells = []
        for mode in modes:
            median = statistics.median(rates[(kind, mode)])
            cpu = statistics.median(cpus[(kind, mode)])
            cells.append(f"{median:,.0f}/s ({median / floor:.2f} of the floor; {cpu:.2f} ms CPU)")
        floor_cpu = statistics.median(cpus[(kind, "floor")])
        print(f"| {kind} | {floor:,.0f} ({floor_cpu:.2f} ms CPU) | " + " | ".join(cells) + " |")


# ---- depth: the dispatcher's statements -----------------------------------------------------


async def fill(store: LpsStore, depth: int, now: float) -> None:
    spec_text = ESSAY * 2  # about 4 kB of body per request
    for first in range(0, depth, 1000):
        batch = [
            NewRequest(
                ComparisonSpec(
                    request_id=f"d{i}", essay_a=spec_text[:2000], essay_b=spec_text[2000:4000], consumer="c"
                ),
                Provider.MOCK,
                "mock-judge-v1",
            )
            for i in range(first, min(first + 1000, depth))
        ]
        await store.submit(batch, now)


async def timed(action: Callable[[], Awaitable], reset: Callable[[], Awaitable] | None, times: int) -> float:
    """Median milliseconds of `action`, with `reset` (untimed) after each run."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
        if reset is not None:
            await reset()
    return statistics.median(samples)


async def depth_run(kind: str, depth: int, times: int) -> dict[str, float]:
    async with fresh_database(kind) as url:
        database = Database(url, MIGRATIONS, "lps_alembic_version")
        await database.open()
        store = LpsStore(database.engine, default_ttl_seconds=3600, capacity=depth + 1000, max_attempts=4)
        now = time.time()
        await fill(store, depth, now - 10)
        if not store.sqlite:
            async with database.engine.begin() as connection:
                await connection.execute(sa.text("ANALYZE lps_requests"))
        r = requests_table.c

        async def unclaim() -> None:
            async with store.transaction() as connection:
                await connection.execute(
                    requests_table.update()
                    .where(r.claimed_by == "bench")
                    .values(status="queued", claimed_by=None, lease_until=None, attempts=0)
                )

        figures = {
            "claim 8 (one model)": await timed(
                lambda: store.claim_requests("bench", now, 60, 8, Provider.MOCK, "mock-judge-v1"), unclaim, times
            ),
            "claim bundle of 64": await timed(lambda: store.claim_bundle("bench", now, 60, 64), unclaim, times),
            "models with work": await timed(store.queued_keys, None, times),
            "expiry sweep": await timed(lambda: store.expire_due(now), None, times),
            "lapsed-claim sweep": await timed(lambda: store.release_stale_claims(now), None, times),
        }
        await database.close()
        return figures


async def depth(databases: list[str], depths: list[int], times: int) -> None:
    table: dict[tuple[str, int], dict[str, float]] = {}
    for kind in databases:
        for size in depths:
            table[(kind, size)] = await depth_run(kind, size, times)
            print(kind, size, {k: round(v, 2) for k, v in table[(kind, size)].items()}, flush=True)
    statements = list(next(iter(table.values())))
    print("\n| database | statement | " + " | ".join(f"depth {d:,}" for d in depths) + " |")
    print("|---|---|" + "---|" * len(depths))
    for kind in databases:
        for statement in statements:
            cells = " | ".join(f"{table[(kind, d)][statement]:.2f} ms" for d in depths)
            print(f"| {kind} | {statement} | {cells} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["throughput", "depth"])
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--depths", default="100,10000,100000")
    parser.add_argument("--times", type=int, default=15)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    databases = args.databases.split(",")
    if args.what == "throughput":
        asyncio.run(throughput(databases, args.modes.split(","), args.count, args.repeat))
    else:
        asyncio.run(depth(databases, [int(d) for d in args.depths.split(",")], args.times))


if __name__ == "__main__":
    main()
