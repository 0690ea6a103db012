"""Proto <-> domain conversions for LPS, in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import grpc
from google.protobuf import duration_pb2
from google.rpc import status_pb2
from huleedu.llm.v1 import batch_job_pb2, comparison_pb2, llm_provider_service_pb2

from llm_provider_server.domain.batch_job import JobRecord, JobState, RequestCounts, VendorPart
from llm_provider_server.domain.manifest import ModelInfo
from llm_provider_server.domain.mock_judge import PROFILES, MockConfig, latency_in_force
from llm_provider_server.domain.model import (
    BATCH_JOBS,
    COMPARISONS,
    Acceptance,
    BatchingHint,
    ComparisonSpec,
    Outcome,
    Overrides,
    Provider,
    RequestStatus,
    ResultRecord,
    StoredRequest,
    Winner,
)
from llm_provider_server.settings import LpsSettings
from service_core import protos
from service_core.errors import FieldViolation, StatusBuilder, error_info
from service_core.protos import timestamp
from service_core.validation import enum_violation

ERROR_DOMAIN = "llm.huleedu.dev"

T = TypeVar("T")

PROVIDER_TO_PROTO = {
    Provider.MOCK: comparison_pb2.PROVIDER_MOCK,
    Provider.OPENAI: comparison_pb2.PROVIDER_OPENAI,
    Provider.ANTHROPIC: comparison_pb2.PROVIDER_ANTHROPIC,
}
PROVIDER_FROM_PROTO = {v: k for k, v in PROVIDER_TO_PROTO.items()}
PROCESSING_MODE_TO_PROTO = {
    "per_request": comparison_pb2.PROCESSING_MODE_PER_REQUEST,
    "serial_bundle": comparison_pb2.PROCESSING_MODE_SERIAL_BUNDLE,
    "batch_api": comparison_pb2.PROCESSING_MODE_BATCH_API,
}
HINT_FROM_PROTO = {
    comparison_pb2.BATCHING_HINT_UNSPECIFIED: BatchingHint.UNSPECIFIED,
    comparison_pb2.BATCHING_HINT_PER_REQUEST: BatchingHint.PER_REQUEST,
    comparison_pb2.BATCHING_HINT_SERIAL_BUNDLE: BatchingHint.SERIAL_BUNDLE,
    comparison_pb2.BATCHING_HINT_PROVIDER_BATCH_API: BatchingHint.PROVIDER_BATCH_API,
}
HINT_TO_PROTO = {v: k for k, v in HINT_FROM_PROTO.items()}
EFFORT_FROM_PROTO = {
    comparison_pb2.REASONING_EFFORT_UNSPECIFIED: "",
    comparison_pb2.REASONING_EFFORT_NONE: "none",
    comparison_pb2.REASONING_EFFORT_LOW: "low",
    comparison_pb2.REASONING_EFFORT_MEDIUM: "medium",
    comparison_pb2.REASONING_EFFORT_HIGH: "high",
}
VERBOSITY_FROM_PROTO = {
    comparison_pb2.OUTPUT_VERBOSITY_UNSPECIFIED: "",
    comparison_pb2.OUTPUT_VERBOSITY_LOW: "low",
    comparison_pb2.OUTPUT_VERBOSITY_MEDIUM: "medium",
    comparison_pb2.OUTPUT_VERBOSITY_HIGH: "high",
}
WINNER_TO_PROTO = {Winner.ESSAY_A: comparison_pb2.WINNER_ESSAY_A, Winner.ESSAY_B: comparison_pb2.WINNER_ESSAY_B}
OUTCOME_TO_PROTO = {
    Outcome.SUCCEEDED: comparison_pb2.ComparisonResult.OUTCOME_SUCCEEDED,
    Outcome.FAILED: comparison_pb2.ComparisonResult.OUTCOME_FAILED,
    Outcome.CANCELLED: comparison_pb2.ComparisonResult.OUTCOME_CANCELLED,
    Outcome.EXPIRED: comparison_pb2.ComparisonResult.OUTCOME_EXPIRED,
}
STATE_TO_PROTO = {
    RequestStatus.QUEUED: comparison_pb2.Comparison.STATE_QUEUED,
    RequestStatus.PROCESSING: comparison_pb2.Comparison.STATE_PROCESSING,
    RequestStatus.SUCCEEDED: comparison_pb2.Comparison.STATE_SUCCEEDED,
    RequestStatus.FAILED: comparison_pb2.Comparison.STATE_FAILED,
    RequestStatus.CANCELLED: comparison_pb2.Comparison.STATE_CANCELLED,
    RequestStatus.EXPIRED: comparison_pb2.Comparison.STATE_EXPIRED,
}
# getattr, not .Value(): the generated stubs type .Value() as a plain int, the attribute as the enum
JOB_STATE_TO_PROTO: dict[JobState, batch_job_pb2.BatchJob.State] = {
    state: getattr(batch_job_pb2.BatchJob.State, f"STATE_{state.name}") for state in JobState
}
JOB_STATE_FROM_PROTO = {v: k for k, v in JOB_STATE_TO_PROTO.items()}


def duration(seconds: float) -> duration_pb2.Duration:
    return protos.duration(seconds)


def comparison_name(request_id: str) -> str:
    return COMPARISONS.format(request_id)


def request_id_from_name(name: str, field: str = "name") -> str:
    return COMPARISONS.parse(name, field)


def job_id_from_name(name: str, field: str = "name") -> str:
    return BATCH_JOBS.parse(name, field)


# ---- requests -----------------------------------------------------------------------------------


def _enum(table: Mapping[Any, T], value: int, field: str, violations: list[FieldViolation]) -> T:
    """The value `table` maps `value` to; an unknown one is collected as a violation (and a
    placeholder returned, so every other field is still checked)."""
    if violation := enum_violation(table, value, field):
        violations.append(violation)
        return next(iter(table.values()))
    return table[value]


def spec_from_proto(
    message: comparison_pb2.ComparisonRequest, prefix: str, violations: list[FieldViolation]
) -> ComparisonSpec:
    o = message.overrides
    provider = None
    if o.provider != comparison_pb2.PROVIDER_UNSPECIFIED:
        provider = _enum(PROVIDER_FROM_PROTO, o.provider, f"{prefix}.overrides.provider", violations)
    overrides = Overrides(
        provider=provider,
        model=o.model.strip(),
        temperature=o.temperature if o.HasField("temperature") else None,
        max_tokens=o.max_tokens if o.HasField("max_tokens") else None,
        system_prompt=o.system_prompt,
        reasoning_effort=_enum(
            EFFORT_FROM_PROTO, o.reasoning_effort, f"{prefix}.overrides.reasoning_effort", violations
        ),
        output_verbosity=_enum(
            VERBOSITY_FROM_PROTO, o.output_verbosity, f"{prefix}.overrides.output_verbosity", violations
        ),
    )
    return ComparisonSpec(
        request_id=message.request_id,
        essay_a=message.essay_a_text,
        essay_b=message.essay_b_text,
        consumer=message.consumer,
        student_prompt=message.student_prompt,
        instructions=message.instructions,
        rubric=message.rubric,
        overrides=overrides,
        priority=message.priority,
        ttl_seconds=message.ttl.ToNanoseconds() / 1e9 if message.HasField("ttl") else 0.0,
        metadata=dict(message.metadata),
        batching_hint=_enum(HINT_FROM_PROTO, message.batching_hint, f"{prefix}.batching_hint", violations),
        correlation_id=message.correlation_id,
    )


def specs_from_proto(
    messages: Sequence[comparison_pb2.ComparisonRequest], field: str = "requests"
) -> tuple[list[ComparisonSpec], list[FieldViolation]]:
    violations: list[FieldViolation] = []
    specs = [spec_from_proto(m, f"{field}[{i}]", violations) for i, m in enumerate(messages)]
    return specs, violations


def acceptance_to_proto(acceptance: Acceptance) -> llm_provider_service_pb2.ComparisonAcceptance:
    return llm_provider_service_pb2.ComparisonAcceptance(
        request_id=acceptance.request_id,
        comparison=comparison_name(acceptance.request_id),
        duplicate=acceptance.duplicate,
        state=STATE_TO_PROTO[acceptance.status],
        accept_time=timestamp(acceptance.created_at),
        queue_position=acceptance.queue_position,
    )


# ---- results ------------------------------------------------------------------------------------


def error_status(code_name: str, reason: str, message: str) -> status_pb2.Status:
    code = grpc.StatusCode[code_name]
    return StatusBuilder(code, message).add(error_info(reason, ERROR_DOMAIN)).build()


def result_to_proto(result: ResultRecord) -> comparison_pb2.ComparisonResult:
    usage = result.usage
    message = comparison_pb2.ComparisonResult(
        comparison=comparison_name(result.request_id),
        request_id=result.request_id,
        outcome=OUTCOME_TO_PROTO[result.outcome],
        confidence=result.confidence,
        justification=result.justification,
        usage=comparison_pb2.TokenUsage(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
        ),
        cost_usd=result.cost_usd,
        latency=duration(result.latency_seconds),
        provider=PROVIDER_TO_PROTO[result.provider],
        model=result.model,
        processing_mode=PROCESSING_MODE_TO_PROTO.get(
            result.processing_mode, comparison_pb2.PROCESSING_MODE_UNSPECIFIED
        ),
        prompt_sha256=result.prompt_sha256,
        prompt_template_version=result.template_version,
        metadata=result.metadata,
        create_time=timestamp(result.created_at),
        complete_time=timestamp(result.completed_at),
        attempts=result.attempts,
        batch_job=BATCH_JOBS.format(result.batch_job_id) if result.batch_job_id else "",
        correlation_id=result.correlation_id,
        sequence=result.sequence,
    )
    if result.winner is not None:
        message.winner = WINNER_TO_PROTO[result.winner]
    if result.error is not None:
        message.error.CopyFrom(error_status(result.error.status_code, result.error.reason, result.error.message))
    return message


def comparison_to_proto(stored: StoredRequest) -> comparison_pb2.Comparison:
    spec = stored.spec
    message = comparison_pb2.Comparison(
        name=comparison_name(spec.request_id),
        request_id=spec.request_id,
        state=STATE_TO_PROTO[stored.status],
        provider=PROVIDER_TO_PROTO[stored.provider],
        model=stored.model,
        priority=spec.priority,
        consumer=spec.consumer,
        create_time=timestamp(stored.created_at),
        update_time=timestamp(stored.updated_at),
        expire_time=timestamp(stored.expire_at),
        attempts=stored.attempts,
        metadata=spec.metadata,
        batching_hint=HINT_TO_PROTO[spec.batching_hint],
    )
    if stored.result is not None:
        message.result.CopyFrom(result_to_proto(stored.result))
    return message


# ---- batch jobs ---------------------------------------------------------------------------------


def counts_to_proto(counts: RequestCounts) -> batch_job_pb2.BatchJob.RequestCounts:
    return batch_job_pb2.BatchJob.RequestCounts(
        total=counts.total,
        processing=counts.processing,
        succeeded=counts.succeeded,
        errored=counts.errored,
        cancelled=counts.cancelled,
        expired=counts.expired,
    )


def part_to_proto(part: VendorPart) -> batch_job_pb2.BatchJob.VendorJob:
    return batch_job_pb2.BatchJob.VendorJob(
        provider_job_id=part.provider_job_id or "",
        state=JOB_STATE_TO_PROTO[part.state],
        first_index=part.first_index,
        request_counts=counts_to_proto(part.counts),
        submit_time=timestamp(part.submitted_at),
        cancel_time=timestamp(part.cancel_sent_at),
    )


def job_to_proto(
    job: JobRecord, comparisons: Sequence[str] = (), parts: Sequence[VendorPart] = ()
) -> batch_job_pb2.BatchJob:
    message = batch_job_pb2.BatchJob(
        name=BATCH_JOBS.format(job.job_id),
        request_id=job.request_id or "",
        state=JOB_STATE_TO_PROTO[job.state],
        provider=PROVIDER_TO_PROTO[Provider(job.provider)],
        model=job.model,
        provider_job_id=job.provider_job_id or "",
        request_counts=counts_to_proto(job.counts),
        cost_usd=job.cost_usd,
        create_time=timestamp(job.created_at),
        update_time=timestamp(job.updated_at),
        in_progress_time=timestamp(job.in_progress_at),
        finalizing_time=timestamp(job.finalizing_at),
        end_time=timestamp(job.ended_at),
        expire_time=timestamp(job.expire_at),
        cancel_time=timestamp(job.cancel_at),
        comparisons=[comparison_name(c) for c in comparisons],
        vendor_jobs=[part_to_proto(p) for p in parts],
    )
    if job.error_reason and job.state in (JobState.FAILED, JobState.EXPIRED):
        message.error.CopyFrom(error_status("UNAVAILABLE", job.error_reason, job.error_message))
    return message


def model_to_proto(model: ModelInfo) -> llm_provider_service_pb2.Model:
    return llm_provider_service_pb2.Model(
        name=f"models/{model.provider.value}/{model.model_id}",
        provider=PROVIDER_TO_PROTO[model.provider],
        model_id=model.model_id,
        display_name=model.display_name,
        family=model.family,
        max_output_tokens=model.max_output_tokens,
        context_window=model.context_window,
        input_usd_per_million_tokens=model.input_per_million,
        output_usd_per_million_tokens=model.output_per_million,
        cache_read_usd_per_million_tokens=model.cache_read_per_million,
        cache_write_usd_per_million_tokens=model.cache_write_price,
        batch_price_factor=model.batch_price_factor,
        supports_temperature=model.supports_temperature,
        supports_batch_api=model.supports_batch_api,
        is_default=model.default,
        is_deprecated=model.deprecated,
    )


def mock_judge_to_proto(config: MockConfig) -> llm_provider_service_pb2.MockJudge:
    profile = PROFILES[config.profile]
    base_ms, jitter_ms = latency_in_force(config)
    return llm_provider_service_pb2.MockJudge(
        profile=config.profile,
        seed=config.seed,
        latent_sigma=config.latent_sigma,
        latent_bias=config.latent_bias,
        latency_base_ms=base_ms,
        latency_jitter_ms=jitter_ms,
        latency_scale=config.latency_scale,
        error_rate=config.error_rate,
        error_codes=list(config.error_codes),
        prompt_token_floor=profile.prompt_floor,
        completion_token_floor=profile.completion_floor,
    )


def mock_mode_response(settings: LpsSettings, judge: MockConfig) -> llm_provider_service_pb2.GetMockModeResponse:
    return llm_provider_service_pb2.GetMockModeResponse(
        use_mock_llm=settings.use_mock_llm,
        mock_mode=settings.mock_mode.value,
        default_provider=PROVIDER_TO_PROTO[Provider(settings.default_provider.value)],
        queue_processing_mode=PROCESSING_MODE_TO_PROTO[settings.queue_processing_mode.value],
        judge=mock_judge_to_proto(judge),
    )
