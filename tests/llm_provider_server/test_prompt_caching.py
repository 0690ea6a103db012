"""Prompt caching: the static part of the prompt comes first and is byte-identical across an
assessment, Anthropic requests mark it with cache_control, and cached input tokens (and
Anthropic's cache-write premium) are priced from the manifest and reported in results."""

from __future__ import annotations

import pytest
from huleedu.llm.v1 import comparison_pb2

from llm_provider_server.domain.manifest import Manifest
from llm_provider_server.domain.model import ComparisonSpec, Provider, TokenUsage
from llm_provider_server.domain.prompt import render
from tests.llm_provider_server.fake_vendors import FakeVendors
from tests.llm_provider_server.harness import comparison, lps

R = comparison_pb2.ComparisonResult
RUBRIC = "Grade A: a sustained, well-evidenced argument. " * 120  # long enough to be cached
HAIKU = "claude-haiku-4-5-20251001"


def spec(a: str, b: str, **fields) -> ComparisonSpec:
    defaults = {
        "student_prompt": "Is social media good for democracy?",
        "instructions": "Judge the argument.",
        "rubric": RUBRIC,
    }
    return ComparisonSpec(request_id="r", essay_a=a, essay_b=b, consumer="cj", **(defaults | fields))


def test_the_static_part_comes_first_and_is_identical_across_an_assessment():
    one, two = render(spec("First essay.", "Second essay.")), render(spec("Third essay.", "Fourth essay."))
    assert one.system == two.system and one.context == two.context
    assert one.user.startswith(one.context) and two.user.startswith(two.context)
    assert RUBRIC.strip() in one.context and "First essay." not in one.context
    assert one.essays.startswith("## Essay A\nFirst essay.") and one.essays.endswith("Second essay.")
    assert one.sha256 != two.sha256


def test_another_assessment_has_another_static_part():
    assert render(spec("a", "b")).context != render(spec("a", "b", rubric="Another rubric.")).context


def test_cached_and_cache_write_tokens_are_priced_from_the_manifest():
    haiku = Manifest.load().get(Provider.ANTHROPIC, HAIKU)
    usage = TokenUsage(prompt_tokens=10_000, completion_tokens=100, cache_read_tokens=6_000, cache_write_tokens=3_000)
    expected = (1_000 * 1.0 + 6_000 * 0.1 + 3_000 * 1.25 + 100 * 5.0) / 1e6
    assert haiku.cost_usd(usage, batch=False) == pytest.approx(expected)
    assert haiku.cost_usd(usage, batch=True) == pytest.approx(expected / 2)
    gpt = Manifest.load().get(Provider.OPENAI, "gpt-5-mini-2025-08-07")
    assert gpt.cache_write_price == gpt.input_per_million, "no write premium where the vendor has none"


@pytest.fixture
def vendor():
    fake = FakeVendors().start()
    fake.simulate_cache = True
    yield fake
    fake.stop()


def settings(vendor: FakeVendors) -> dict:
    # one call at a time, so the first call writes the cache
    return vendor.lps_settings(provider_timeout_seconds=120.0, max_concurrency_per_model=1)


def requests(provider: int, model: str, count: int) -> list[comparison_pb2.ComparisonRequest]:
    return [
        comparison(
            f"c{i}",
            a=f"Essay {i}: social media lets more people speak. " * 40,
            b=f"Essay {i + 100}: social media spreads rumours faster than facts. " * 40,
            student_prompt="Is social media good for democracy?",
            rubric=RUBRIC,
            overrides=comparison_pb2.LlmOverrides(provider=provider, model=model),
        )
        for i in range(count)
    ]


async def test_anthropic_requests_mark_the_static_part_and_later_calls_read_it(tmp_path, vendor):
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings(vendor)) as h:
        await h.submit(*requests(comparison_pb2.PROVIDER_ANTHROPIC, HAIKU, 4))
        results = sorted(await h.collect(4), key=lambda r: r.usage.cache_read_tokens)
    blocks = vendor.bodies[-1]["messages"][0]["content"]
    assert [("cache_control" in b) for b in blocks] == [True, False]
    assert RUBRIC.strip() in blocks[0]["text"] and blocks[1]["text"].startswith("## Essay A")
    first, *later = results
    assert first.usage.cache_write_tokens > 1024 and first.usage.cache_read_tokens == 0
    assert all(r.usage.cache_read_tokens == first.usage.cache_write_tokens for r in later)
    haiku = Manifest.load().get(Provider.ANTHROPIC, HAIKU)
    for result in results:
        usage = TokenUsage(
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            cache_read_tokens=result.usage.cache_read_tokens,
            cache_write_tokens=result.usage.cache_write_tokens,
        )
        assert result.cost_usd == pytest.approx(haiku.cost_usd(usage, batch=False))
    assert all(r.cost_usd < first.cost_usd for r in later), "a cache read costs less than a write"


async def test_openai_serves_the_shared_prefix_from_its_cache(tmp_path, vendor):
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **settings(vendor)) as h:
        await h.submit(*requests(comparison_pb2.PROVIDER_OPENAI, "gpt-5-mini-2025-08-07", 3))
        results = sorted(await h.collect(3), key=lambda r: r.usage.cache_read_tokens)
    assert results[0].usage.cache_read_tokens == 0
    assert all(r.usage.cache_read_tokens >= 1024 for r in results[1:])
    assert all(r.cost_usd < results[0].cost_usd for r in results[1:])
