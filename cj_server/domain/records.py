"""Plain records the runtime passes between the converters and the use cases."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Arrived:
    """One result delivered by the LLM provider server, as CJ applies it."""

    request_id: str
    assessment_id: str
    comparison_id: str
    succeeded: bool
    first_won: bool | None
    confidence: float | None
    justification: str | None
    error_code: int
    error_message: str
    provider: str
    model: str
    cost_usd: float
    payload: bytes  # the result itself, for the judgement event built from it

    def values(self, now: float, error_json: str | None) -> dict[str, object]:
        """The columns of the comparison it answers."""
        return {
            "status": "succeeded" if self.succeeded else "failed",
            "completed_at": now,
            "provider": self.provider,
            "model": self.model,
            "cost_usd": self.cost_usd,
            "confidence": self.confidence,
            "justification": self.justification,
            "first_won": self.first_won,
            "error_json": error_json,
        }
