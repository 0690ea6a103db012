"""Which requests may share a bundle or a provider batch job.

Requests are compatible when they resolve to the same provider and model, carry
identical overrides and the same batching hint. The bundle key is a SHA-256 of
exactly those, so compatibility is one equality test in the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from llm_provider_server.domain.model import ComparisonSpec, Provider


def bundle_key(spec: ComparisonSpec, provider: Provider, model: str) -> str:
    overrides = asdict(spec.overrides)
    overrides.pop("provider")
    overrides.pop("model")
    material = json.dumps([provider.value, model, overrides, spec.batching_hint.value], sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()
