"""The background-loop supervisor: restart with backoff, one ERROR per failure streak, stop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from service_core.background import Supervisor, every
from service_core.retry import RetryPolicy

FAST = RetryPolicy("test", base_seconds=0.001, cap_seconds=0.002)


async def test_a_failing_loop_is_restarted_and_logged_once_at_error(caplog):
    runs: list[int] = []
    restarted: list[str] = []

    async def flaky(stop: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) <= 3:
            raise ConnectionError(f"database down ({len(runs)})")

    supervisor = Supervisor(policy=FAST, on_restart=lambda name, exc: restarted.append(name))
    with caplog.at_level(logging.WARNING, "service_core.background"):
        supervisor.start("relay", flaky)
        await asyncio.wait_for(_until(lambda: "relay" not in supervisor.running()), 5)
        await supervisor.stop()
    assert len(runs) == 4 and supervisor.restarts("relay") == 3 and restarted == ["relay"] * 3
    levels = [(r.levelname, r.exc_info is not None) for r in caplog.records]
    assert levels == [("ERROR", True), ("WARNING", False), ("WARNING", False)]
    assert [r.attempt for r in caplog.records] == [1, 2, 3]


async def test_a_loop_that_ran_long_enough_starts_a_new_streak(caplog):
    now = [0.0]
    runs: list[int] = []

    async def fails_after_a_while(stop: asyncio.Event) -> None:
        runs.append(1)
        now[0] += 120.0  # each run lasts two minutes of the fake clock
        if len(runs) <= 2:
            raise RuntimeError("lost the connection")

    supervisor = Supervisor(policy=FAST, healthy_after_seconds=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, "service_core.background"):
        supervisor.start("consumer", fails_after_a_while)
        await asyncio.wait_for(_until(lambda: not supervisor.running()), 5)
    assert [r.levelname for r in caplog.records] == ["ERROR", "ERROR"]  # two streaks of one


async def test_stop_lets_loops_leave_and_cancels_one_that_does_not():
    left: list[str] = []

    async def polite(stop: asyncio.Event) -> None:
        await stop.wait()
        left.append("polite")

    async def stubborn(stop: asyncio.Event) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            left.append("stubborn")

    supervisor = Supervisor(policy=FAST)
    supervisor.start("polite", polite)
    supervisor.start("stubborn", stubborn)
    await asyncio.sleep(0)
    await supervisor.stop(grace_seconds=0.05)
    assert sorted(left) == ["polite", "stubborn"] and supervisor.running() == []


async def test_two_loops_of_one_name_are_refused():
    supervisor = Supervisor(policy=FAST)
    supervisor.start("sweep", lambda stop: stop.wait())
    with pytest.raises(ValueError, match="sweep"):
        supervisor.start("sweep", lambda stop: stop.wait())
    await supervisor.stop()


async def test_every_runs_its_step_until_stopped_and_a_failing_step_is_restarted():
    steps: list[int] = []

    async def step() -> None:
        steps.append(1)
        if len(steps) == 2:
            raise ValueError("one bad sweep")

    supervisor = Supervisor(policy=FAST)
    supervisor.start("sweep", every(0.001, step))
    await asyncio.wait_for(_until(lambda: len(steps) >= 5), 5)
    await supervisor.stop()
    assert supervisor.restarts("sweep") == 1


async def _until(predicate) -> None:
    while not predicate():  # noqa: ASYNC110 (the loops under test signal nothing else)
        await asyncio.sleep(0.001)
