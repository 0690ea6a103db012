"""Strict parsing of a judge's structured verdict.

A verdict must be a JSON object with `winner` exactly "Essay A" or "Essay B",
a non-empty string `justification` and a number `confidence` in [1, 5].
Anything else is an UNPARSEABLE_VERDICT failure, never a default winner.
"""

from __future__ import annotations

import json
from typing import Any

from llm_provider_server.domain.model import ProviderFailure, TokenUsage, Verdict, Winner

MAX_JUSTIFICATION_CHARS = 1000

VERDICT_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "winner": {"type": "string", "enum": ["Essay A", "Essay B"]},
        "justification": {"type": "string", "description": "At most 50 words naming the decisive factor."},
        "confidence": {"type": "number", "minimum": 1, "maximum": 5},
    },
    "required": ["winner", "justification", "confidence"],
    "additionalProperties": False,
}

_WINNERS = {"Essay A": Winner.ESSAY_A, "Essay B": Winner.ESSAY_B}


def _unparseable(message: str) -> ProviderFailure:
    # Retrying the same prompt rarely fixes a malformed answer, but one more attempt is cheap
    # and models do vary; the retry budget bounds it.
    return ProviderFailure("UNPARSEABLE_VERDICT", message, retryable=True)


def parse_verdict(payload: str | dict[str, Any] | None, *, usage: TokenUsage, model: str) -> Verdict:
    if payload is None:
        raise _unparseable("the model returned no verdict")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise _unparseable(f"verdict is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise _unparseable("verdict is not a JSON object")
    named = payload.get("winner")
    winner = _WINNERS.get(named) if isinstance(named, str) else None
    if winner is None:
        raise _unparseable(f"winner must be 'Essay A' or 'Essay B', got {payload.get('winner')!r}")
    confidence = payload.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 1 <= confidence <= 5:
        raise _unparseable(f"confidence must be a number from 1 to 5, got {confidence!r}")
    justification = payload.get("justification")
    if not isinstance(justification, str) or not justification.strip():
        raise _unparseable("justification is missing")
    return Verdict(
        winner=winner,
        confidence=float(confidence),
        justification=justification.strip()[:MAX_JUSTIFICATION_CHARS],
        usage=usage,
        model=model,
    )
