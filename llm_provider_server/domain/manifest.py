"""The model manifest and the cost of a judgement.

cost = (prompt - cache_read - cache_write) * input_price + cache_read * cache_read_price
       + cache_write * cache_write_price + completion * output_price   (per million tokens)
and batch results are charged `batch_price_factor` of that. `cache_write_price` is
Anthropic's cache-write premium (1.25 x input for the 5-minute cache); a model without
one pays the input price for the tokens it writes to the cache.

Besides the built-in `models.json`, models can be declared by the operator (a JSON list
in a setting, or a manifest file named by one): only `provider` and `model_id` are
required, prices default to 0, so a local OpenAI-compatible server (vLLM, Ollama,
llama.cpp) is one entry. A declared model replaces a built-in one of the same id, and a
declared `"default": true` makes it its provider's default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from llm_provider_server.domain.model import Provider, TokenUsage

MANIFEST_PATH = Path(__file__).resolve().parent.parent / "models.json"


@dataclass(frozen=True)
class ModelInfo:
    provider: Provider
    model_id: str
    display_name: str = ""
    family: str = "custom"
    max_output_tokens: int = 4096
    context_window: int = 32_768
    input_per_million: float = 0.0
    output_per_million: float = 0.0
    cache_read_per_million: float = 0.0
    batch_price_factor: float = 1.0
    supports_temperature: bool = True
    supports_batch_api: bool = False
    default: bool = False
    deprecated: bool = False
    cache_write_per_million: float | None = None  # None: the input price (no premium)

    @property
    def cache_write_price(self) -> float:
        return self.input_per_million if self.cache_write_per_million is None else self.cache_write_per_million

    def cost_usd(self, usage: TokenUsage, *, batch: bool) -> float:
        uncached = max(usage.prompt_tokens - usage.cache_read_tokens - usage.cache_write_tokens, 0)
        cost = (
            uncached * self.input_per_million
            + usage.cache_read_tokens * self.cache_read_per_million
            + usage.cache_write_tokens * self.cache_write_price
            + usage.completion_tokens * self.output_per_million
        ) / 1_000_000
        return cost * (self.batch_price_factor if batch else 1.0)


class ManifestError(ValueError):
    """A model entry that cannot be used, with where it came from."""


_FIELDS = {f.name: f for f in fields(ModelInfo)}
_NUMBERS = (
    "max_output_tokens",
    "context_window",
    "input_per_million",
    "output_per_million",
    "cache_read_per_million",
    "batch_price_factor",
)


def model_from_entry(entry: Any, source: str) -> ModelInfo:
    """One manifest entry; every problem is a ManifestError naming `source`."""
    if not isinstance(entry, dict):
        raise ManifestError(f"{source}: a model entry must be a JSON object, got {entry!r:.60}")
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise ManifestError(f"{source}: unknown field(s) {', '.join(unknown)}")
    try:
        provider = Provider(str(entry.get("provider")))
    except ValueError:
        raise ManifestError(f"{source}: provider must be one of {', '.join(p.value for p in Provider)}") from None
    model_id = entry.get("model_id")
    if not isinstance(model_id, str) or not model_id.strip() or len(model_id) > 128:
        raise ManifestError(f"{source}: model_id must be 1-128 characters")
    for name in _NUMBERS:
        value = entry.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ManifestError(f"{source}: {name} must be a number >= 0")
    write = entry.get("cache_write_per_million")
    if write is not None and (isinstance(write, bool) or not isinstance(write, int | float) or write < 0):
        raise ManifestError(f"{source}: cache_write_per_million must be a number >= 0")
    model = ModelInfo(**{**entry, "provider": provider})
    return replace(model, display_name=model.display_name or model.model_id)


def entries_from_json(text: str, source: str) -> list[ModelInfo]:
    """A JSON list of entries, or a manifest object {"models": [...]}."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(f"{source}: not JSON ({error.msg} at line {error.lineno})") from None
    if isinstance(raw, dict):
        raw = raw.get("models")
    if not isinstance(raw, list):
        raise ManifestError(f'{source}: expected a list of models or an object with a "models" list')
    return [model_from_entry(entry, f"{source}[{i}]") for i, entry in enumerate(raw)]


class Manifest:
    def __init__(self, models: list[ModelInfo]):
        self.models = models
        self._by_key = {(m.provider, m.model_id): m for m in models}
        defaults = [m for m in models if m.default]
        self._defaults = {m.provider: m for m in defaults}
        if len(self._defaults) != len(defaults):
            raise ValueError("a provider has more than one default model")

    @classmethod
    def load(cls, path: Path = MANIFEST_PATH, declared: list[ModelInfo] | None = None) -> Manifest:
        return cls(list(entries_from_json(path.read_text(), path.name))).with_declared(declared or [])

    def with_declared(self, declared: list[ModelInfo]) -> Manifest:
        """This manifest with the operator's models added (replacing built-ins of the same id)."""
        if not declared:
            return self
        keys = {(m.provider, m.model_id) for m in declared}
        new_defaults = {m.provider for m in declared if m.default}
        kept = [
            replace(m, default=m.default and m.provider not in new_defaults)
            for m in self.models
            if (m.provider, m.model_id) not in keys
        ]
        return Manifest(kept + declared)

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
