"""domain/manifest.py: models and their prices."""

from __future__ import annotations

import pytest

from llm_provider_server.domain.manifest import Manifest
from llm_provider_server.domain.model import Provider, TokenUsage

MANIFEST = Manifest.load()


def test_cost_uses_manifest_prices_and_batch_discount():
    model = MANIFEST.get(Provider.OPENAI, "gpt-5.1")
    usage = TokenUsage(prompt_tokens=1_000_000, completion_tokens=100_000, cache_read_tokens=200_000)
    sync = model.cost_usd(usage, batch=False)
    assert sync == pytest.approx(0.8 * 1.25 + 0.2 * 0.125 + 0.1 * 10.0)
    assert model.cost_usd(usage, batch=True) == pytest.approx(sync / 2)
