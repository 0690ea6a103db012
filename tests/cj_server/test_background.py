"""The CJ server's background loops run under service_core's one supervisor: a loop that raises
is restarted, logged once at ERROR (with its traceback) and at WARNING while it keeps failing,
and counted; the work it does carries on, and stop lets every loop leave by itself."""

from __future__ import annotations

import logging
from functools import partial

import pytest
from huleedu.cj.v1 import assessment_pb2

from cj_server.domain.errors import NeighbourUnavailable
from cj_server.lps_client import LpsClient
from cj_server.store import CjStore
from service_core.background import Supervisor
from service_core.retry import RetryPolicy
from tests.cj_server.harness import essays, stack

A = assessment_pb2.Assessment
FAST = RetryPolicy("test", base_seconds=0.01, cap_seconds=0.02)


@pytest.fixture
def fast_restarts(monkeypatch):
    monkeypatch.setattr("cj_server.app.Supervisor", partial(Supervisor, policy=FAST))


def _records(caplog, loop: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "service_core.background" and getattr(r, "loop", "") == loop]


def _restarts(cj, loop: str) -> float:
    return cj.registry.get_sample_value("cj_background_restarts_total", {"loop": loop}) or 0.0


async def _assessment_succeeds_counting_restarts(database_url: str, loop: str) -> float:
    """Run one small assessment to success through the loops' failures; the loop's restarts."""
    async with stack(database_url, database_url) as s:
        created = await s.create(essays=essays(6), comparison_budget=9)
        await s.finish(created.name, timeout=60)
        assert (await s.get(created.name)).state == A.STATE_SUCCEEDED, f"{loop} carried on after its restarts"
        return _restarts(s.cj, loop)


async def test_a_failing_runner_round_is_restarted_and_logged_once_at_error(
    database_url, fast_restarts, monkeypatch, caplog
):
    claim = CjStore.claim
    failures = [0]

    async def database_down(self, *args, **kwargs):
        if failures[0] < 3:
            failures[0] += 1
            raise ConnectionError(f"database down ({failures[0]})")
        return await claim(self, *args, **kwargs)

    monkeypatch.setattr(CjStore, "claim", database_down)
    with caplog.at_level(logging.WARNING, "service_core.background"):
        assert await _assessment_succeeds_counting_restarts(database_url, "cj-runner") == 3
    records = _records(caplog, "cj-runner")
    assert [(r.levelname, r.exc_info is not None) for r in records] == [
        ("ERROR", True),
        ("WARNING", False),
        ("WARNING", False),
    ]
    assert "database down (1)" in caplog.text and [r.attempt for r in records] == [1, 2, 3]
    # the stop was graceful: every loop left by itself, none had to be cancelled
    assert not [r for r in caplog.records if "did not stop" in r.getMessage()]


async def test_a_result_stream_that_breaks_is_resubscribed(database_url, fast_restarts, monkeypatch, caplog):
    results = LpsClient.results
    broken = [False]

    def once_broken(self, max_in_flight: int):
        if not broken[0]:
            broken[0] = True
            raise NeighbourUnavailable("the LLM provider server went away")
        return results(self, max_in_flight)

    monkeypatch.setattr(LpsClient, "results", once_broken)
    with caplog.at_level(logging.WARNING, "service_core.background"):
        assert await _assessment_succeeds_counting_restarts(database_url, "cj-results") == 1
    records = _records(caplog, "cj-results")
    assert [(r.levelname, r.exc_info is not None) for r in records] == [("ERROR", True)]
    assert "went away" in caplog.text
    assert not [r for r in caplog.records if "did not stop" in r.getMessage()]
