"""Benchmark: what a 30-essay assessment costs with and without prompt caching, and with the
batch discount.

The LPS runs against the fake vendors (tests/llm_provider_server/fake_vendors.py), which
count tokens at 4 characters each and cache the way the vendors do: Anthropic what precedes
a `cache_control` breakpoint (written once at the cache-write price, then read), OpenAI any
shared prompt prefix of at least 1,024 tokens (in 128-token steps). Costs are the LPS's own
`cost_usd` of every result, priced from models.json.

The assessment: 30 essays of about 450 words, an assignment, criteria and a rubric of about
1,600 words (the static part), and the CJ default budget of 20 comparisons per essay = 300
comparisons. Arms, per model: caching off / on, each per request and through the batch API.

Run: OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python bench/prompt_cache_cost.py
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import tempfile
import time
from pathlib import Path

from huleedu.llm.v1 import batch_job_service_pb2 as jobs_pb
from huleedu.llm.v1 import comparison_pb2

from tests.llm_provider_server.fake_vendors import FakeVendors
from tests.llm_provider_server.harness import comparison, lps

WORDS = (
    "the school students argue evidence because however society important example reason therefore",
    "people media democracy believe change young opinion government information moreover clearly",
    "research writer although finally question essay freedom",
)
VOCABULARY = " ".join(WORDS).split(" ")
MODELS = {
    "claude-haiku-4-5-20251001": comparison_pb2.PROVIDER_ANTHROPIC,
    "gpt-5-mini-2025-08-07": comparison_pb2.PROVIDER_OPENAI,
}


def text(rng: random.Random, words: int) -> str:
    sentences, count = [], 0
    while count < words:
        length = rng.randint(8, 24)
        sentences.append(" ".join(rng.choice(VOCABULARY) for _ in range(length)).capitalize() + ".")
        count += length
    return " ".join(sentences)


def assessment(essays: int, per_essay: int, seed: int = 7):
    rng = random.Random(seed)
    texts = [text(rng, 450) for _ in range(essays)]
    static = {
        "student_prompt": text(rng, 120),
        "instructions": text(rng, 300),
        "rubric": text(rng, 1200),
    }
    pairs = []
    while len(pairs) < essays * per_essay // 2:
        a, b = rng.sample(range(essays), 2)
        pairs.append((a, b))
    return texts, static, pairs


async def run_arm(model: str, cached: bool, batch: bool, essays: int, per_essay: int) -> tuple[float, int, int]:
    texts, static, pairs = assessment(essays, per_essay)
    vendor = FakeVendors().start()
    vendor.simulate_cache, vendor.cache_enabled = True, cached
    vendor.anthropic_polls = 2
    vendor.batch_plan = ["validating", "in_progress", "completed"]
    provider = MODELS[model]
    requests = [
        comparison(
            f"c{i}",
            a=texts[a],
            b=texts[b],
            consumer="bench",
            overrides=comparison_pb2.LlmOverrides(provider=provider, model=model),
            **static,
        )
        for i, (a, b) in enumerate(pairs)
    ]
    settings = {
        "use_mock_llm": False,
        "openai_api_key": "sk-bench",
        "openai_base_url": f"{vendor.url}/v1",
        "anthropic_api_key": "sk-ant-bench",
        "anthropic_base_url": vendor.url,
        "batch_poll_interval_seconds": 0.05,
        "queue_capacity": 100_000,
    }
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with lps(f"sqlite:///{Path(folder) / 'lps.db'}", **settings) as h:
                if batch:
                    await h.jobs.CreateBatchJob(
                        jobs_pb.CreateBatchJobRequest(request_id="bench", requests=requests), timeout=60
                    )
                else:
                    for start in range(0, len(requests), 500):
                        await h.submit(*requests[start : start + 500])
                results = await h.collect(len(requests), consumer="bench", timeout=600)
    finally:
        vendor.stop()
    cost = sum(r.cost_usd for r in results)
    read = sum(r.usage.cache_read_tokens for r in results)
    prompt = sum(r.usage.prompt_tokens for r in results)
    return cost, read, prompt


async def main(essays: int, per_essay: int) -> None:
    logging.getLogger("service_core.server").setLevel(logging.ERROR)
    print(f"essays={essays} comparisons={essays * per_essay // 2} (k={per_essay} per essay)")
    print(f"{'model':28} {'arm':22} {'cost USD':>10} {'vs uncached':>12} {'cached share':>13} {'seconds':>8}")
    for model in MODELS:
        base = None
        for cached in (False, True):
            for batch in (False, True):
                start = time.perf_counter()
                cost, read, prompt = await run_arm(model, cached, batch, essays, per_essay)
                base = cost if base is None else base
                arm = f"{'cache' if cached else 'no cache'}, {'batch API' if batch else 'per request'}"
                print(
                    f"{model:28} {arm:22} {cost:10.4f} {cost / base:11.2f}x {read / prompt:12.1%}"
                    f" {time.perf_counter() - start:8.1f}"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--essays", type=int, default=30)
    parser.add_argument("--per-essay", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.essays, args.per_essay))
