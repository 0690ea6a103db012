"""Every malformed vendor reply ends in a recorded UNPARSEABLE_VERDICT (or a retry within the
budget), never a stuck request: through the real SDK adapters against the fake vendors, and
through an adapter that lets malformed shapes through (the executor's own checks)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from google.rpc import error_details_pb2
from huleedu.llm.v1 import comparison_pb2

from llm_provider_server.domain.model import Provider, ProviderFailure, TokenUsage, Verdict, Winner
from llm_provider_server.providers.base import JudgeCall
from tests.llm_provider_server.fake_vendors import Scripted
from tests.llm_provider_server.harness import comparison, lps, provider_calls

R = comparison_pb2.ComparisonResult
ATTEMPTS = 3


def reason(result: R) -> str:
    info = error_details_pb2.ErrorInfo()
    result.error.details[0].Unpack(info)
    return info.reason


def good_verdict() -> Verdict:
    return Verdict(Winner.ESSAY_A, 4.0, "Fuller.", TokenUsage(10, 5), "mock-judge-v1")


def bad(**fields: Any) -> Verdict:
    verdict = good_verdict()
    object.__setattr__(verdict, *next(iter(fields.items())))
    return verdict


# What a careless adapter might hand back or raise, by request id.
SHAPES: dict[str, Any] = {
    "winner-list": bad(winner=["Essay A"]),
    "winner-text": bad(winner="Essay A"),
    "usage-text": bad(usage="lots"),
    "usage-negative": bad(usage=TokenUsage(-1, 5)),
    "usage-float": bad(usage=TokenUsage(10.5, 5)),
    "confidence-text": bad(confidence="high"),
    "confidence-range": bad(confidence=9.0),
    "justification-none": bad(justification=None),
    "empty-object": {},
    "nothing": None,
    "raises-key-error": KeyError("choices"),
    "raises-type-error": TypeError("'NoneType' object is not subscriptable"),
    "raises-json-error": json.JSONDecodeError("Expecting value", "", 0),
    "provider-says-unparseable": ProviderFailure("UNPARSEABLE_VERDICT", "not JSON", retryable=True),
}


@dataclass
class CarelessAdapter:
    provider: Provider = Provider.MOCK
    batch: None = None
    calls: Counter = field(default_factory=Counter)

    async def judge(self, call: JudgeCall) -> Verdict:
        self.calls[call.spec.request_id] += 1
        shape = SHAPES[call.spec.request_id]
        if isinstance(shape, BaseException):
            raise shape
        return shape

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("mode", ["per_request", "serial_bundle", "batch_api"])
async def test_malformed_shapes_from_an_adapter_end_unparseable_after_the_retry_budget(database_url, mode):
    adapter = CarelessAdapter()
    async with lps(
        database_url, adapters={Provider.MOCK: adapter}, queue_processing_mode=mode, max_attempts=ATTEMPTS
    ) as h:
        await h.submit(*(comparison(request_id) for request_id in SHAPES))
        results = {r.request_id: r for r in await h.collect(len(SHAPES), timeout=60)}
        assert (await h.app.store.queue_depth()) == {"queued": 0, "processing": 0}, "nothing stuck"
        assert provider_calls(h) == ATTEMPTS * len(SHAPES)
    assert set(results) == set(SHAPES)
    for request_id, result in results.items():
        assert result.outcome == R.OUTCOME_FAILED, request_id
        assert reason(result) == "UNPARSEABLE_VERDICT", (request_id, reason(result))
        assert result.attempts == ATTEMPTS and adapter.calls[request_id] == ATTEMPTS, request_id


async def test_an_unexpected_adapter_error_is_a_retryable_unavailable(database_url):
    class Broken(CarelessAdapter):
        async def judge(self, call: JudgeCall) -> Verdict:
            self.calls[call.spec.request_id] += 1
            if self.calls[call.spec.request_id] == 1:
                raise RuntimeError("connection reset by a proxy")
            return good_verdict()

    adapter = Broken()
    async with lps(database_url, adapters={Provider.MOCK: adapter}, max_attempts=ATTEMPTS) as h:
        await h.submit(comparison("flaky"))
        [result] = await h.collect(1)
    assert result.outcome == R.OUTCOME_SUCCEEDED and result.attempts == 2
    assert h.sample("llm_provider_retries_total", {"provider": "mock", "reason": "PROVIDER_UNAVAILABLE"}) == 1


def _completion(content: Any = None, **top: Any) -> bytes:
    message = {"role": "assistant", "content": content}
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }
    body.update(top)
    return json.dumps(body).encode()


OPENAI_BODIES = {
    "winner-list": _completion(json.dumps({"winner": ["Essay A"], "justification": "x", "confidence": 4})),
    "verdict-empty": _completion("{}"),
    "usage-text": _completion(json.dumps({"winner": "Essay A", "justification": "x", "confidence": 4}), usage="lots"),
    "no-choices": _completion(None, choices=[]),
    "whole-body-empty": b"{}",
    "body-a-list": b"[1, 2]",
    "confidence-text": _completion(json.dumps({"winner": "Essay B", "justification": "x", "confidence": "high"})),
}


async def test_malformed_openai_replies_end_unparseable_or_retried_within_budget(database_url, vendor):
    settings = vendor.lps_settings(
        provider_timeout_seconds=2.0, max_attempts=2, max_concurrency_per_model=1, max_in_flight=1
    )
    async with lps(database_url, **settings) as h:
        for request_id, body in OPENAI_BODIES.items():
            vendor.next(Scripted(body=body), Scripted(body=body))
            await h.submit(comparison(request_id))
            [result] = await h.collect(1, timeout=30)
            assert result.request_id == request_id
            assert result.outcome == R.OUTCOME_FAILED, request_id
            assert reason(result) == "UNPARSEABLE_VERDICT", (request_id, reason(result))
            assert result.attempts <= 2
        assert (await h.app.store.queue_depth()) == {"queued": 0, "processing": 0}
        assert provider_calls(h) <= 2 * len(OPENAI_BODIES)
