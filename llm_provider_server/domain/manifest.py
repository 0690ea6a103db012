"""The model manifest and the cost of a judgement.

cost = (prompt - cache_read) * input_price + cache_read * cache_read_price
       + completion * output_price                      (prices per million tokens)
and batch results are charged `batch_price_factor` of that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from llm_provider_server.domain.model import Provider, TokenUsage

MANIFEST_PATH = Path(__file__).resolve().parent.parent / "models.json"


@dataclass(frozen=True)
class ModelInfo:
    provider: Provider
    model_id: str
    display_name: str
    family: str
    max_output_tokens: int
    context_window: int
    input_per_million: float
    output_per_million: float
    cache_read_per_million: float
    batch_price_factor: float
    supports_temperature: bool
    supports_batch_api: bool
    default: bool = False
    deprecated: bool = False

    def cost_usd(self, usage: TokenUsage, *, batch: bool) -> float:
        uncached = max(usage.prompt_tokens - usage.cache_read_tokens, 0)
        cost = (
            uncached * self.input_per_million
            + usage.cache_read_tokens * self.cache_read_per_million
            + usage.completion_tokens * self.output_per_million
        ) / 1_000_000
        return cost * (self.batch_price_factor if batch else 1.0)


class Manifest:
    def __init__(self, models: list[ModelInfo]):
        self.models = models
        self._by_key = {(m.provider, m.model_id): m for m in models}
        defaults = [m for m in models if m.default]
        self._defaults = {m.provider: m for m in defaults}
        if len(self._defaults) != len(defaults):
            raise ValueError("a provider has more than one default model")

    @classmethod
    def load(cls, path: Path = MANIFEST_PATH) -> Manifest:
        raw = json.loads(path.read_text())["models"]
        models = [ModelInfo(**{**entry, "provider": Provider(entry["provider"])}) for entry in raw]
        return cls(models)

    def get(self, provider: Provider, model_id: str) -> ModelInfo | None:
        return self._by_key.get((provider, model_id))

    def default_for(self, provider: Provider) -> ModelInfo:
        return self._defaults[provider]

    def resolve(self, provider: Provider, model_id: str) -> ModelInfo | None:
        """The named model, or the provider's default when `model_id` is empty."""
        return self.get(provider, model_id) if model_id else self.default_for(provider)

    def list(self, provider: Provider | None = None, include_deprecated: bool = False) -> list[ModelInfo]:
        return [
            m
            for m in self.models
            if (provider is None or m.provider == provider) and (include_deprecated or not m.deprecated)
        ]
