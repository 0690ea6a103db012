"""OpenAI (and any OpenAI-compatible server) through the official `openai` SDK.

Verdicts come back as structured output (`response_format` json_schema, strict).
Batches use the Files + Batches APIs: one JSONL line per request with
custom_id "item-<index>", a 24 h completion window.
"""

from __future__ import annotations

import json
from typing import Any

import openai

from llm_provider_server.domain.batch_job import BatchPoll, ItemResult, JobRecord, JobState, RequestCounts
from llm_provider_server.domain.model import Outcome, Provider, ProviderFailure, TokenUsage, Verdict
from llm_provider_server.domain.verdict import VERDICT_JSON_SCHEMA, parse_verdict
from llm_provider_server.providers.base import JudgeCall
from llm_provider_server.providers.errors import classify, count_of, malformed, object_of, scrub, vendor_job_id
from llm_provider_server.settings import LpsSettings

OPENAI_STATES = {
    "validating": JobState.VALIDATING,
    "in_progress": JobState.IN_PROGRESS,
    "finalizing": JobState.FINALIZING,
    "completed": JobState.COMPLETED,
    "failed": JobState.FAILED,
    "expired": JobState.EXPIRED,
    "cancelling": JobState.CANCELLING,
    "cancelled": JobState.CANCELLED,
}
# What a request without an output line ended as, by the batch's end status.
MISSING_OUTCOME = {"expired": Outcome.EXPIRED, "cancelled": Outcome.CANCELLED, "cancelling": Outcome.CANCELLED}
DEFAULT_MAX_TOKENS = 1024


def request_body(call: JudgeCall) -> dict[str, Any]:
    overrides = call.spec.overrides
    body: dict[str, Any] = {
        "model": call.model.model_id,
        "messages": [{"role": "system", "content": call.prompt.system}, {"role": "user", "content": call.prompt.user}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "comparison_verdict", "strict": True, "schema": VERDICT_JSON_SCHEMA},
        },
        "max_completion_tokens": overrides.max_tokens or DEFAULT_MAX_TOKENS,
    }
    if overrides.temperature is not None:
        body["temperature"] = overrides.temperature
    if overrides.reasoning_effort:
        body["reasoning_effort"] = overrides.reasoning_effort
    if overrides.output_verbosity:
        body["verbosity"] = overrides.output_verbosity
    return body


def verdict_from_completion(completion: Any, model: str) -> Verdict:
    """The verdict of a chat completion; any reply of the wrong shape is UNPARSEABLE_VERDICT."""
    completion = object_of(completion, "OpenAI", "the completion")
    usage = object_of(completion.get("usage"), "OpenAI", "usage")
    details = object_of(usage.get("prompt_tokens_details"), "OpenAI", "usage.prompt_tokens_details")
    tokens = TokenUsage(
        prompt_tokens=count_of(usage.get("prompt_tokens"), "OpenAI", "usage.prompt_tokens"),
        completion_tokens=count_of(usage.get("completion_tokens"), "OpenAI", "usage.completion_tokens"),
        cache_read_tokens=count_of(details.get("cached_tokens"), "OpenAI", "usage.cached_tokens"),
    )
    choices = completion.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ProviderFailure("UNPARSEABLE_VERDICT", "the completion has no choices", retryable=True)
    choice = object_of(choices[0], "OpenAI", "choices[0]")
    if choice.get("finish_reason") == "length":
        raise ProviderFailure("TRUNCATED", "the verdict was cut off at max_tokens", retryable=False)
    content = object_of(choice.get("message"), "OpenAI", "choices[0].message").get("content")
    if content is not None and not isinstance(content, str):
        raise malformed("OpenAI", "the message content is not text")
    reported = completion.get("model")
    return parse_verdict(content, usage=tokens, model=reported if isinstance(reported, str) and reported else model)


class OpenAIProvider:
    provider = Provider.OPENAI

    def __init__(self, settings: LpsSettings):
        self.secrets = (settings.openai_api_key.get_secret_value(),)
        self.client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value() or "not-needed-for-local-servers",
            base_url=settings.openai_base_url or None,
            max_retries=0,
            timeout=settings.provider_timeout_seconds,
        )
        self.batch = OpenAIBatches(self.client, self.secrets)

    async def judge(self, call: JudgeCall) -> Verdict:
        try:
            completion = await self.client.chat.completions.create(**request_body(call))
        except Exception as exc:
            raise classify(exc, openai, "OpenAI", self.secrets) from None
        return verdict_from_completion(completion.model_dump(), call.model.model_id)

    async def close(self) -> None:
        await self.client.close()


class OpenAIBatches:
    def __init__(self, client: openai.AsyncOpenAI, secrets: tuple[str, ...] = ()):
        self.client = client
        self.secrets = secrets

    async def _call(self, coroutine):
        try:
            return await coroutine
        except Exception as exc:
            raise classify(exc, openai, "OpenAI", self.secrets) from None

    @staticmethod
    def request_line(index: int, call: JudgeCall) -> str:
        return json.dumps(
            {"custom_id": f"item-{index}", "method": "POST", "url": "/v1/chat/completions", "body": request_body(call)}
        )

    def request_bytes(self, call: JudgeCall) -> int:
        """The request's share of the JSONL upload (custom ids of up to 5 digits, newline)."""
        return len(self.request_line(99_999, call).encode()) + 1

    async def submit(self, job: JobRecord, calls: list[JudgeCall]) -> str:
        lines = [self.request_line(i, call) for i, call in enumerate(calls)]
        upload = await self._call(
            self.client.files.create(
                file=(f"{job.job_id}.jsonl", "\n".join(lines).encode(), "application/jsonl"), purpose="batch"
            )
        )
        batch = await self._call(
            self.client.batches.create(
                input_file_id=upload.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata={"job_id": job.job_id},
            )
        )
        return batch.id

    async def poll(self, job: JobRecord) -> BatchPoll:
        batch = await self._call(self.client.batches.retrieve(vendor_job_id(job)))
        counts = batch.request_counts
        total, done, failed = (counts.total, counts.completed, counts.failed) if counts else (job.item_count, 0, 0)
        state = OPENAI_STATES.get(batch.status, JobState.IN_PROGRESS)
        ready = state is not JobState.COMPLETED or bool(batch.output_file_id or batch.error_file_id)
        errors = getattr(batch, "errors", None)
        message = "; ".join(e.message or e.code or "" for e in (errors.data or [])) if errors and errors.data else ""
        return BatchPoll(
            state,
            RequestCounts(total=total, processing=max(total - done - failed, 0), succeeded=done, errored=failed),
            output_ready=ready,
            error_message=message,
        )

    async def _lines(self, file_id: str | None) -> list[dict[str, Any]]:
        if not file_id:
            return []
        content = await self._call(self.client.files.content(file_id))
        return [json.loads(line) for line in content.text.splitlines() if line.strip()]

    async def fetch(self, job: JobRecord, calls: list[JudgeCall]) -> dict[str, ItemResult]:
        """Outcome per request. Requests without a line: expired (or cancelled) when the batch
        ended so; left out when it failed (they take the batch's failure); else failed."""
        batch = await self._call(self.client.batches.retrieve(vendor_job_id(job)))
        lines = await self._lines(batch.output_file_id) + await self._lines(batch.error_file_id)
        by_index = {}
        for line in lines:
            custom_id = str(line.get("custom_id") or "")
            if custom_id.startswith("item-") and custom_id[5:].isdigit():
                by_index[int(custom_id[5:])] = line
        missing = MISSING_OUTCOME.get(batch.status, Outcome.FAILED)
        results: dict[str, ItemResult] = {}
        for index, call in enumerate(calls):
            found = by_index.get(index)
            if found is None and batch.status == "failed":
                continue
            results[call.spec.request_id] = self._item(found, call, missing)
        return results

    @staticmethod
    def _item(line: dict[str, Any] | None, call: JudgeCall, missing: Outcome) -> ItemResult:
        if line is None:
            if missing is Outcome.FAILED:
                return ItemResult(
                    Outcome.FAILED,
                    failure=ProviderFailure(
                        "BATCH_ITEM_FAILED", "the batch output has no line for this request", False
                    ),
                )
            return ItemResult(missing)
        response = line.get("response") or {}
        error = line.get("error") or (response.get("body") or {}).get("error") or {}
        if error.get("code") == "batch_expired":
            return ItemResult(Outcome.EXPIRED)
        if line.get("error") or response.get("status_code") != 200:
            return ItemResult(
                Outcome.FAILED,
                failure=ProviderFailure(
                    "BATCH_ITEM_FAILED",
                    f"{error.get('code') or 'error'}: {scrub(str(error.get('message') or 'no message'))}"[:300],
                    False,
                    http_status=response.get("status_code"),
                ),
            )
        try:
            return ItemResult(Outcome.SUCCEEDED, verdict=verdict_from_completion(response["body"], call.model.model_id))
        except ProviderFailure as failure:
            return ItemResult(Outcome.FAILED, failure=failure)

    async def cancel(self, job: JobRecord) -> None:
        await self._call(self.client.batches.cancel(vendor_job_id(job)))
