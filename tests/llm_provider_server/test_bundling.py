"""domain/bundling.py: which requests may share a bundle."""

from __future__ import annotations

from llm_provider_server.domain.bundling import bundle_key
from llm_provider_server.domain.model import ComparisonSpec, Overrides, Provider


def spec(**fields) -> ComparisonSpec:
    return ComparisonSpec(
        **{"request_id": "r1", "essay_a": "First essay.", "essay_b": "Second essay.", "consumer": "cj", **fields}
    )


def test_bundle_key_separates_incompatible_requests():
    key = bundle_key(spec(), Provider.MOCK, "m")
    assert key == bundle_key(spec(request_id="other", essay_a="different"), Provider.MOCK, "m")
    assert key != bundle_key(spec(overrides=Overrides(temperature=0.1)), Provider.MOCK, "m")
    assert key != bundle_key(spec(), Provider.MOCK, "other-model")
