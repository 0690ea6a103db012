"""When the runner steps the engine, and how long it waits before re-sending.

Stepping costs a fit; a result that arrives while the engine can only wait must not
pay for one. `worth_stepping` is the cheap rule the runner applies after every batch of
results: step when nothing is in flight, when the in-flight window has room for at
least a refill chunk, or when the stopping policy might fail the assessment now.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from cj_server.domain.stopping import StoppingPolicy


@dataclass(frozen=True)
class Window:
    """The bound on comparisons in flight for one assessment, and the refill chunk: the
    runner waits until that many have come back before it asks the engine for more."""

    in_flight: int
    per_essay: int
    refill_fraction: float

    def limit(self, n_items: int) -> int:
        """The window for an assessment of `n_items`: never more than every essay can take."""
        return max(1, min(self.in_flight, n_items * self.per_essay // 2))

    def chunk(self, n_items: int) -> int:
        return max(1, math.ceil(self.refill_fraction * self.limit(n_items)))


def worth_stepping(
    *,
    n_items: int,
    pending: int,
    succeeded: int,
    failed: int,
    window: Window,
    policy: StoppingPolicy,
    windowed_engine: bool,
) -> bool:
    """True when stepping can change the decision from WAIT."""
    if pending == 0:
        return True
    finished = succeeded + failed
    if failed >= policy.min_failures_to_fail and failed > policy.max_failure_rate * finished:
        return True
    if not windowed_engine:
        return False
    return window.limit(n_items) - pending >= window.chunk(n_items)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff for re-sending what the LLM provider server could not take,
    honouring the server's RetryInfo when it gives one."""

    initial_seconds: float = 0.5
    max_seconds: float = 30.0

    def delay(self, failures: int, retry_after: float | None) -> float:
        exponential = min(self.max_seconds, self.initial_seconds * 2 ** max(failures - 1, 0))
        if retry_after is not None and retry_after > 0:
            return min(self.max_seconds, max(retry_after, self.initial_seconds))
        return exponential


def admit(
    wave: list[tuple[int, int]], in_flight: Iterable[tuple[int, int]], room: int, per_essay: int
) -> list[tuple[int, int]]:
    """The pairs of `wave`, in order, that fit the window (`room` more comparisons) and keep
    every essay within `per_essay` comparisons in flight. The runner applies it to whatever
    the engine proposes, so the bounds hold whichever engine chose the pairs."""
    busy: Counter[int] = Counter()
    for first, second in in_flight:
        busy[first] += 1
        busy[second] += 1
    admitted: list[tuple[int, int]] = []
    for first, second in wave:
        if len(admitted) >= room:
            break
        if busy[first] >= per_essay or busy[second] >= per_essay:
            continue
        busy[first] += 1
        busy[second] += 1
        admitted.append((first, second))
    return admitted
