"""Background loops (result consumers, sweepers, outbox relays, queue dispatchers) supervised
one way in every server.

The rule: a loop is a coroutine function taking the stop event. If it returns, it is done. If
it raises, the supervisor logs it and starts it again after a delay from the shared retry policy
(so a database that is down is not hammered). The first failure of a streak is logged at ERROR
with its traceback; further failures of the same streak at WARNING, one line each, with the
attempt number and the delay. A loop that ran for `healthy_after_seconds` before failing starts
a new streak. `stop()` sets the stop event, gives loops `grace_seconds` to leave at their next
check (`grace_seconds`), then cancels what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from service_core.retry import RetryPolicy

log = logging.getLogger("service_core.background")

Loop = Callable[[asyncio.Event], Awaitable[None]]
RestartHook = Callable[[str, BaseException], None]

BACKGROUND_RETRY_POLICY = RetryPolicy("background", base_seconds=1.0, cap_seconds=30.0)


@dataclass
class _Supervised:
    name: str
    loop: Loop
    task: asyncio.Task[None] | None = None
    failures: int = 0
    restarts: int = 0


@dataclass
class Supervisor:
    """Runs named loops under the one restart-and-logging rule (module docstring)."""

    policy: RetryPolicy = BACKGROUND_RETRY_POLICY
    healthy_after_seconds: float = 60.0
    on_restart: RestartHook | None = None  # e.g. increment a restarts counter by loop name
    clock: Callable[[], float] = time.monotonic
    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    _loops: dict[str, _Supervised] = field(default_factory=dict)

    def start(self, name: str, loop: Loop) -> None:
        if name in self._loops:
            raise ValueError(f"a background loop named {name!r} is already running")
        supervised = _Supervised(name, loop)
        supervised.task = asyncio.create_task(self._run(supervised), name=name)
        self._loops[name] = supervised

    def restarts(self, name: str) -> int:
        return self._loops[name].restarts

    def running(self) -> list[str]:
        return [name for name, s in self._loops.items() if s.task is not None and not s.task.done()]

    async def _run(self, supervised: _Supervised) -> None:
        while not self.stop_event.is_set():
            started = self.clock()
            try:
                await supervised.loop(self.stop_event)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.stop_event.is_set():
                    log.warning("background loop %s failed while stopping: %r", supervised.name, exc)
                    return
                await self._after_failure(supervised, exc, self.clock() - started)

    async def _after_failure(self, supervised: _Supervised, exc: Exception, ran_for: float) -> None:
        if ran_for >= self.healthy_after_seconds:
            supervised.failures = 0
        supervised.failures += 1
        supervised.restarts += 1
        delay = self.policy.delay(supervised.failures)
        extra = {"loop": supervised.name, "attempt": supervised.failures, "retry_in_seconds": round(delay, 3)}
        if supervised.failures == 1:
            log.error("background loop %s failed; restarting", supervised.name, exc_info=exc, extra=extra)
        else:
            log.warning("background loop %s failed again: %r", supervised.name, exc, extra=extra)
        if self.on_restart is not None:
            self.on_restart(supervised.name, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop_event.wait(), delay)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        self.stop_event.set()
        tasks = [s.task for s in self._loops.values() if s.task is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
        for task in pending:
            log.warning("background loop %s did not stop in %.1f s; cancelling", task.get_name(), grace_seconds)
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def every(seconds: float, step: Callable[[], Awaitable[object]]) -> Loop:
    """A loop that runs `step` every `seconds` until stopped (first run after one interval).
    An exception from `step` ends the loop, and the supervisor restarts it by its rule."""

    async def loop(stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)
            if not stop.is_set():
                await step()

    return loop
