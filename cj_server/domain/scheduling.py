"""Runtime rules around the engine: what of a proposed wave may be sent now, and how long
to wait before re-sending what the LLM provider server could not take. (When to step at
all is the engine's `worth_stepping`.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


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
