"""Anthropic through the official `anthropic` SDK.

The verdict is a forced tool call (`record_verdict`, input schema = the verdict
schema). The prompt's static part (tools, system prompt, and the user message's
opening block: assignment, criteria, rubric, answer format) ends in a
`cache_control` breakpoint, so every comparison of an assessment after the first
reads it from the cache; only the essays block is new input. Extended thinking is not sent: Anthropic refuses it
together with a forced tool choice. Current Messages API models take no sampling
temperature, so the manifest marks them so and a request asking for one is refused
at submission. Batches use Message Batches with custom_id
"item-<index>".
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

import anthropic

from llm_provider_server.domain.batch_job import BatchPoll, ItemResult, JobRecord, JobState, RequestCounts
from llm_provider_server.domain.model import Outcome, Provider, ProviderFailure, TokenUsage, Verdict
from llm_provider_server.domain.verdict import VERDICT_JSON_SCHEMA, parse_verdict
from llm_provider_server.providers.base import JudgeCall
from llm_provider_server.providers.errors import classify, count_of, malformed, object_of, scrub, vendor_job_id
from llm_provider_server.settings import LpsSettings

if TYPE_CHECKING:
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

TOOL_NAME = "record_verdict"
DEFAULT_MAX_TOKENS = 1024


CACHE = {"type": "ephemeral"}


def user_blocks(call: JudgeCall) -> list[dict[str, Any]]:
    """The static context (cache breakpoint after it), then the essays."""
    prompt = call.prompt
    if not prompt.context or not prompt.user.startswith(prompt.context):
        return [{"type": "text", "text": prompt.user}]
    return [
        {"type": "text", "text": prompt.context, "cache_control": CACHE},
        {"type": "text", "text": prompt.essays},
    ]


def message_params(call: JudgeCall) -> dict[str, Any]:
    overrides = call.spec.overrides
    params: dict[str, Any] = {
        "model": call.model.model_id,
        "max_tokens": overrides.max_tokens or DEFAULT_MAX_TOKENS,
        "system": [{"type": "text", "text": call.prompt.system}],
        "messages": [{"role": "user", "content": user_blocks(call)}],
        "tools": [
            {
                "name": TOOL_NAME,
                "description": "Record which essay better fulfils the task.",
                "input_schema": VERDICT_JSON_SCHEMA,
            }
        ],
        "tool_choice": {"type": "tool", "name": TOOL_NAME},
    }
    return params


def verdict_from_message(message: Any, model: str) -> Verdict:
    """The verdict of a Messages reply; any reply of the wrong shape is UNPARSEABLE_VERDICT."""
    message = object_of(message, "Anthropic", "the message")
    usage = object_of(message.get("usage"), "Anthropic", "usage")
    read = count_of(usage.get("cache_read_input_tokens"), "Anthropic", "usage.cache_read_input_tokens")
    written = count_of(usage.get("cache_creation_input_tokens"), "Anthropic", "usage.cache_creation_input_tokens")
    tokens = TokenUsage(
        prompt_tokens=count_of(usage.get("input_tokens"), "Anthropic", "usage.input_tokens") + read + written,
        completion_tokens=count_of(usage.get("output_tokens"), "Anthropic", "usage.output_tokens"),
        cache_read_tokens=read,
        cache_write_tokens=written,
    )
    if message.get("stop_reason") == "max_tokens":
        raise ProviderFailure("TRUNCATED", "the verdict was cut off at max_tokens", retryable=False)
    content = message.get("content") or []
    if not isinstance(content, list):
        raise malformed("Anthropic", "content is not a list of blocks")
    tool_input = next(
        (
            block.get("input")
            for block in content
            if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("name") == TOOL_NAME
        ),
        None,
    )
    reported = message.get("model")
    return parse_verdict(tool_input, usage=tokens, model=reported if isinstance(reported, str) and reported else model)


class AnthropicProvider:
    provider = Provider.ANTHROPIC

    def __init__(self, settings: LpsSettings):
        self.secrets = (settings.anthropic_api_key.get_secret_value(),)
        self.client = anthropic.AsyncAnthropic(
            api_key=settings.anthropic_api_key.get_secret_value(),
            base_url=settings.anthropic_base_url or None,
            max_retries=0,
            timeout=settings.provider_timeout_seconds,
        )
        self.batch = AnthropicBatches(self.client, self.secrets)

    async def judge(self, call: JudgeCall) -> Verdict:
        try:
            message = await self.client.messages.create(**message_params(call))
        except Exception as exc:
            raise classify(exc, anthropic, "Anthropic", self.secrets) from None
        return verdict_from_message(message.model_dump(), call.model.model_id)

    async def close(self) -> None:
        await self.client.close()


class AnthropicBatches:
    def __init__(self, client: anthropic.AsyncAnthropic, secrets: tuple[str, ...] = ()):
        self.client = client
        self.secrets = secrets

    async def _call(self, coroutine):
        try:
            return await coroutine
        except Exception as exc:
            raise classify(exc, anthropic, "Anthropic", self.secrets) from None

    @staticmethod
    def request_bytes(call: JudgeCall) -> int:
        """The request's share of the Message Batches create body."""
        return len(json.dumps({"custom_id": "item-99999", "params": message_params(call)}).encode()) + 1

    async def submit(self, job: JobRecord, calls: list[JudgeCall]) -> str:
        batch = await self._call(
            self.client.messages.batches.create(
                requests=[
                    {"custom_id": f"item-{i}", "params": cast("MessageCreateParamsNonStreaming", message_params(call))}
                    for i, call in enumerate(calls)
                ]
            )
        )
        return batch.id

    async def poll(self, job: JobRecord) -> BatchPoll:
        batch = await self._call(self.client.messages.batches.retrieve(vendor_job_id(job)))
        c = batch.request_counts
        counts = RequestCounts(
            total=c.processing + c.succeeded + c.errored + c.canceled + c.expired,
            processing=c.processing,
            succeeded=c.succeeded,
            errored=c.errored,
            cancelled=c.canceled,
            expired=c.expired,
        )
        if batch.processing_status == "in_progress":
            return BatchPoll(JobState.IN_PROGRESS, counts, output_ready=False)
        if batch.processing_status == "canceling":
            return BatchPoll(JobState.CANCELLING, counts, output_ready=False)
        if job.cancel_at is not None and c.canceled:
            state = JobState.CANCELLED
        elif c.expired:  # the 24 h window passed with requests unprocessed (the rest keep their results)
            state = JobState.EXPIRED
        else:
            state = JobState.COMPLETED
        return BatchPoll(state, counts, output_ready=bool(batch.results_url))

    async def fetch(self, job: JobRecord, calls: list[JudgeCall]) -> dict[str, ItemResult]:
        decoder = await self._call(self.client.messages.batches.results(vendor_job_id(job)))
        entries = {}
        async for entry in decoder:
            data = entry.model_dump()
            entries[int(data["custom_id"].removeprefix("item-"))] = data["result"]
        return {call.spec.request_id: self._item(entries.get(index), call) for index, call in enumerate(calls)}

    @staticmethod
    def _item(result: dict[str, Any] | None, call: JudgeCall) -> ItemResult:
        result = result or {}
        kind = result.get("type")
        if kind == "succeeded":
            try:
                return ItemResult(
                    Outcome.SUCCEEDED, verdict=verdict_from_message(result["message"], call.model.model_id)
                )
            except ProviderFailure as failure:
                return ItemResult(Outcome.FAILED, failure=failure)
        if kind == "canceled":
            return ItemResult(Outcome.CANCELLED)
        if kind == "expired":
            return ItemResult(Outcome.EXPIRED)
        error = ((result or {}).get("error") or {}).get("error") or {}
        return ItemResult(
            Outcome.FAILED,
            failure=ProviderFailure(
                "BATCH_ITEM_FAILED",
                f"{error.get('type') or 'error'}: {scrub(str(error.get('message') or 'no result for this request'))}"[
                    :300
                ],
                False,
            ),
        )

    async def cancel(self, job: JobRecord) -> None:
        await self._call(self.client.messages.batches.cancel(vendor_job_id(job)))
