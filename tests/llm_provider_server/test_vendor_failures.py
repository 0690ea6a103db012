"""Every way the vendors fail, against the fake vendors: failed and expired batches with
partial output, OpenAI batch_expired lines, Anthropic expired and canceled items, a
cancelling phase over several polls (cancel sent once), the vendors' error bodies, request
validation, and secrets that never leave (results, logs at every level, metrics)."""

from __future__ import annotations

import json
import logging

import pytest
from google.rpc import error_details_pb2
from huleedu.llm.v1 import batch_job_pb2, comparison_pb2
from huleedu.llm.v1 import batch_job_service_pb2 as jobs_pb
from huleedu.llm.v1 import llm_provider_service_pb2 as pb
from prometheus_client import generate_latest

from llm_provider_server.domain.model import ProviderFailure
from llm_provider_server.providers.anthropic_provider import verdict_from_message
from llm_provider_server.providers.openai_provider import verdict_from_completion
from tests.llm_provider_server.fake_vendors import FakeVendors, Scripted
from tests.llm_provider_server.harness import comparison, lps

R = comparison_pb2.ComparisonResult
S = batch_job_pb2.BatchJob
OPENAI = comparison_pb2.PROVIDER_OPENAI
ANTHROPIC = comparison_pb2.PROVIDER_ANTHROPIC
OPENAI_KEY = "sk-proj-RECOGNISABLE-openai-key-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-api03-RECOGNISABLE-anthropic-key-fedcba9876543210"


def real(vendor: FakeVendors, **overrides) -> dict:
    return vendor.lps_settings(
        openai_key=OPENAI_KEY,
        anthropic_key=ANTHROPIC_KEY,
        provider_timeout_seconds=2.0,
        batch_poll_interval_seconds=0.05,
        **overrides,
    )


def reason(result: R) -> str:
    info = error_details_pb2.ErrorInfo()
    result.error.details[0].Unpack(info)
    return info.reason


async def run_job(h, provider: int, count: int, name: str = "job") -> tuple[S, list[R]]:
    created = await h.jobs.CreateBatchJob(
        jobs_pb.CreateBatchJobRequest(
            request_id=name,
            requests=[
                comparison(f"{name}-{i}", consumer="jobs", overrides=comparison_pb2.LlmOverrides(provider=provider))
                for i in range(count)
            ],
        ),
        timeout=10,
    )
    final = await watch(h, created.batch_job.name)
    results = await h.collect(count, consumer="jobs", timeout=30)
    return final, sorted(results, key=lambda r: int(r.request_id.rsplit("-", 1)[1]))


async def watch(h, name: str) -> S:
    final = None
    async for update in h.jobs.WatchBatchJob(jobs_pb.WatchBatchJobRequest(name=name), timeout=30):
        final = update.batch_job
    return final


@pytest.mark.parametrize("provider", [OPENAI, ANTHROPIC])
async def test_an_expired_batch_keeps_partial_output_and_expires_the_rest(tmp_path, vendor, provider):
    vendor.batch_outcome = "expired"
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        final, results = await run_job(h, provider, 6)
    assert final.state == S.STATE_EXPIRED
    assert final.error.message and "BATCH_JOB_EXPIRED" in str(final.error)
    assert [r.outcome for r in results] == [R.OUTCOME_SUCCEEDED] * 3 + [R.OUTCOME_EXPIRED] * 3
    assert final.request_counts.succeeded == 3 and final.request_counts.expired == 3
    if provider == OPENAI:  # the three came back as batch_expired lines in the error file
        error_file = next(v for k, v in vendor.files.items() if k.startswith("file-err-"))
        assert error_file.count(b"batch_expired") == 3


async def test_a_failed_openai_batch_keeps_partial_output_and_fails_the_rest(tmp_path, vendor):
    vendor.batch_outcome = "failed"
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        final, results = await run_job(h, OPENAI, 4)
    assert final.state == S.STATE_FAILED and "scripted failure" in final.error.message
    assert [r.outcome for r in results] == [R.OUTCOME_SUCCEEDED] * 2 + [R.OUTCOME_FAILED] * 2
    assert {reason(r) for r in results[2:]} == {"BATCH_JOB_FAILED"}


async def test_an_openai_batch_that_fails_validation_fails_every_request(tmp_path, vendor):
    vendor.models = {"some-other-model"}  # the batch's model is unknown to the server
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        final, results = await run_job(h, OPENAI, 3)
    assert final.state == S.STATE_FAILED and "does not exist" in final.error.message
    assert {r.outcome for r in results} == {R.OUTCOME_FAILED}
    assert {reason(r) for r in results} == {"BATCH_JOB_FAILED"}


async def test_an_anthropic_batch_the_vendor_refuses_fails_every_request(tmp_path, vendor):
    vendor.models = {"some-other-model"}
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        final, results = await run_job(h, ANTHROPIC, 3)
    assert final.state == S.STATE_FAILED
    assert {reason(r) for r in results} == {"PROVIDER_REJECTED"}
    assert all("not_found_error" in r.error.message for r in results)
    assert not vendor.batches, "nothing was created at the vendor"


@pytest.mark.parametrize("provider", [OPENAI, ANTHROPIC])
async def test_cancelling_lasts_several_polls_and_the_cancel_is_sent_once(tmp_path, vendor, provider):
    vendor.cancel_polls = 4
    vendor.batch_plan = ["validating"] + ["in_progress"] * 50
    vendor.anthropic_polls = 50
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        created = await h.jobs.CreateBatchJob(
            jobs_pb.CreateBatchJobRequest(
                request_id="c",
                requests=[
                    comparison(f"c-{i}", consumer="jobs", overrides=comparison_pb2.LlmOverrides(provider=provider))
                    for i in range(4)
                ],
            )
        )
        name = created.batch_job.name
        while not vendor.batches or next(iter(vendor.batches.values())).polls < 2:
            await h.stub.GetMockMode(pb.GetMockModeRequest())  # yield to the server
        await h.jobs.CancelBatchJob(jobs_pb.CancelBatchJobRequest(name=name))
        states = []
        async for update in h.jobs.WatchBatchJob(jobs_pb.WatchBatchJobRequest(name=name), timeout=30):
            states.append(update.batch_job.state)
        results = await h.collect(4, consumer="jobs")
    [batch] = vendor.batches.values()
    assert batch.cancel_calls == 1, "one cancel, not one per poll"
    assert batch.polls - batch.cancelled_at_poll > vendor.cancel_polls, "the cancelling phase took several polls"
    assert states[-1] == S.STATE_CANCELLED and S.STATE_CANCELLING in states
    outcomes = [r.outcome for r in results]
    assert outcomes.count(R.OUTCOME_SUCCEEDED) == 2 and outcomes.count(R.OUTCOME_CANCELLED) == 2


@pytest.mark.parametrize(
    ("status", "code", "provider"),
    [
        (400, "PROVIDER_REJECTED", OPENAI),
        (403, "PROVIDER_AUTH", ANTHROPIC),
        (404, "PROVIDER_REJECTED", ANTHROPIC),
    ],
)
async def test_vendor_error_bodies_become_a_code_and_a_short_message(tmp_path, vendor, status, code, provider):
    vendor.next(Scripted(status=status))
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        await h.submit(comparison("e1", overrides=comparison_pb2.LlmOverrides(provider=provider)))
        [result] = await h.collect(1)
    assert result.outcome == R.OUTCOME_FAILED and reason(result) == code and result.attempts == 1
    vendor_type = {400: "invalid_request", 403: "permission_error", 404: "not_found_error"}[status]
    assert f"HTTP {status} {vendor_type}" in result.error.message
    assert len(result.error.message) <= 260


async def test_requests_the_vendor_finds_invalid_fail_without_retries(tmp_path, vendor):
    vendor.models = {"gpt-4.1-mini-2025-04-14"}
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor)) as h:
        await h.submit(comparison("v1", overrides=comparison_pb2.LlmOverrides(provider=OPENAI, model="gpt-5.1")))
        [result] = await h.collect(1)
    assert result.outcome == R.OUTCOME_FAILED and reason(result) == "PROVIDER_REJECTED"
    assert "model_not_found" in result.error.message and vendor.count("/v1/chat/completions") == 1


@pytest.mark.parametrize("mode", ["per_request", "batch_api"])
async def test_secrets_never_leave(tmp_path, vendor, caplog, mode):
    """Both vendors refuse the key with a 401 that echoes it; the key appears in no result,
    no log line at any level, no metric."""
    vendor.keys = {"openai": "sk-the-right-one", "anthropic": "sk-ant-the-right-one"}
    caplog.set_level(logging.DEBUG)
    async with lps(f"sqlite:///{tmp_path / 'lps.db'}", **real(vendor, queue_processing_mode=mode)) as h:
        await h.submit(
            comparison("k1", overrides=comparison_pb2.LlmOverrides(provider=OPENAI)),
            comparison("k2", overrides=comparison_pb2.LlmOverrides(provider=ANTHROPIC)),
        )
        results = await h.collect(2)
        stored = [await h.get(r.request_id) for r in results]
        jobs = await h.jobs.ListBatchJobs(jobs_pb.ListBatchJobsRequest())
        metrics = generate_latest(h.app.registry).decode()
    assert {r.outcome for r in results} == {R.OUTCOME_FAILED}
    assert {reason(r) for r in results} == {"PROVIDER_AUTH"}
    refused = b"".join(vendor.refused)
    assert OPENAI_KEY.encode() in refused and ANTHROPIC_KEY.encode() in refused, "the vendors echoed the keys"
    everything = "\n".join(
        [caplog.text, *(str(r) for r in results), *(str(s) for s in stored), str(jobs), metrics]
        + [record.getMessage() + str(record.__dict__) for record in caplog.records]
    )
    assert len(caplog.records) > 0
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, "RECOGNISABLE"):
        assert secret not in everything


GOOD = {"winner": "Essay A", "justification": "Fuller.", "confidence": 4}


def completion(**changes) -> dict:
    body = {
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"finish_reason": "stop", "message": {"content": json.dumps(GOOD)}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }
    return body | changes


def message(**changes) -> dict:
    body = {
        "model": "claude-haiku-4-5-20251001",
        "stop_reason": "tool_use",
        "content": [{"type": "tool_use", "name": "record_verdict", "input": GOOD}],
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }
    return body | changes


@pytest.mark.parametrize(
    "reply",
    [
        "not an object",
        completion(usage="lots"),
        completion(usage={"prompt_tokens": -1}),
        completion(usage={"prompt_tokens": 1.5}),
        completion(usage={"prompt_tokens": 1, "prompt_tokens_details": []}),
        completion(choices={"0": {}}),
        completion(choices=["a choice"]),
        completion(choices=[{"message": ["content"]}]),
        completion(choices=[{"message": {"content": {"winner": "Essay A"}}}]),
        completion(choices=[{"message": {"content": json.dumps({"winner": ["Essay A"]})}}]),
        completion(choices=[{"message": {"content": "{}"}}]),
    ],
)
def test_malformed_openai_replies_are_unparseable_verdicts(reply):
    with pytest.raises(ProviderFailure) as caught:
        verdict_from_completion(reply, "m")
    assert caught.value.code == "UNPARSEABLE_VERDICT" and caught.value.retryable


@pytest.mark.parametrize(
    "reply",
    [
        ["a list"],
        message(usage="lots"),
        message(usage={"input_tokens": "10"}),
        message(usage={"input_tokens": 1, "cache_read_input_tokens": -5}),
        message(content={"type": "tool_use"}),
        message(content=["text"]),
        message(content=[{"type": "tool_use", "name": "record_verdict", "input": {}}]),
        message(content=[{"type": "tool_use", "name": "record_verdict", "input": {**GOOD, "winner": ["Essay A"]}}]),
    ],
)
def test_malformed_anthropic_replies_are_unparseable_verdicts(reply):
    with pytest.raises(ProviderFailure) as caught:
        verdict_from_message(reply, "m")
    assert caught.value.code == "UNPARSEABLE_VERDICT" and caught.value.retryable


def test_well_formed_replies_parse():
    assert verdict_from_completion(completion(), "m").usage.prompt_tokens == 10
    assert verdict_from_message(message(), "m").winner.value == "essay_a"
