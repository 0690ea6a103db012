"""Fixtures shared by the LPS tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm_provider_server.fake_vendors import FakeVendors


@pytest.fixture
def vendor() -> Iterator[FakeVendors]:
    """OpenAI and Anthropic fakes on a loopback port, for the real provider adapters."""
    fake = FakeVendors().start()
    yield fake
    fake.stop()
