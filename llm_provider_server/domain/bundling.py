"""Which requests may share a bundle or a provider batch job.

Requests are compatible when they resolve to the same provider and model, carry
identical overrides and the same batching hint. The bundle key is a SHA-256 of
exactly those, so compatibility is one equality test in the database.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict

from llm_provider_server.domain.model import BatchingHint, ComparisonSpec, Overrides, Provider


def bundle_key(spec: ComparisonSpec, provider: Provider, model: str) -> str:
    return _bundle_key(provider, model, spec.overrides, spec.batching_hint)


@functools.lru_cache(maxsize=1024)  # a submit of 1,000 requests has a handful of distinct keys
def _bundle_key(provider: Provider, model: str, overrides_: Overrides, hint: BatchingHint) -> str:
    overrides = asdict(overrides_)
    overrides.pop("provider")
    overrides.pop("model")
    material = json.dumps([provider.value, model, overrides, hint.value], sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()
