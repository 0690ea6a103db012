"""The pipeline order: which phase runs before which.

Phases run in one declared order, whatever order a registration lists them in:
spellcheck, then the NLP analysis, then comparative judgement, then AI feedback.
A batch requests a subset; RAS keeps the subset in this order. A phase name outside
the declared order is refused at registration, so every batch's order is known.
"""

from __future__ import annotations

from collections.abc import Iterable

PIPELINE_ORDER: tuple[str, ...] = ("spellcheck", "nlp", "cj_assessment", "ai_feedback")
RANK = {phase: index for index, phase in enumerate(PIPELINE_ORDER)}


def in_pipeline_order(requested: Iterable[str]) -> list[str]:
    """The requested phases, each once, in the declared order (unknown names are dropped)."""
    return sorted({phase for phase in requested if phase in RANK}, key=RANK.__getitem__)


def is_known(phase: str) -> bool:
    return phase in RANK
