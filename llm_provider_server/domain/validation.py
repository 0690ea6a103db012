"""Validation of submitted comparisons: every problem becomes a field violation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from llm_provider_server.domain.manifest import Manifest
from llm_provider_server.domain.model import ComparisonSpec, Provider, TokenUsage, Verdict, Winner
from service_core.errors import FieldViolation
from service_core.validation import id_violation

# a consumer name also keys leases and metrics labels, hence shorter than an id and without ":"
CONSUMER = re.compile(r"[A-Za-z0-9._-]{1,64}")
CONSUMER_RULE = "required: 1-64 characters of letters, digits and . _ -"
MAX_TTL_SECONDS = 7 * 24 * 3600
MAX_METADATA_ENTRIES = 64


@dataclass(frozen=True)
class Limits:
    max_essay_chars: int = 100_000
    max_context_chars: int = 50_000
    max_requests_per_call: int = 1000


def validate_batch(
    specs: list[ComparisonSpec],
    *,
    manifest: Manifest,
    available: set[Provider],
    default_provider: Provider,
    limits: Limits,
    field_prefix: str = "requests",
) -> list[FieldViolation]:
    violations: list[FieldViolation] = []
    if not specs:
        return [FieldViolation(field_prefix, "at least one request is required")]
    if len(specs) > limits.max_requests_per_call:
        return [FieldViolation(field_prefix, f"at most {limits.max_requests_per_call} requests per call")]
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        prefix = f"{field_prefix}[{index}]"
        violations += validate_one(
            spec,
            manifest=manifest,
            available=available,
            default_provider=default_provider,
            limits=limits,
            prefix=prefix,
        )
        if spec.request_id in seen:
            violations.append(FieldViolation(f"{prefix}.request_id", "repeated within this call"))
        seen.add(spec.request_id)
    return violations


def validate_one(
    spec: ComparisonSpec,
    *,
    manifest: Manifest,
    available: set[Provider],
    default_provider: Provider,
    limits: Limits,
    prefix: str,
) -> list[FieldViolation]:
    out: list[FieldViolation] = []

    def bad(name: str, why: str) -> None:
        out.append(FieldViolation(f"{prefix}.{name}", why))

    if violation := id_violation(spec.request_id, f"{prefix}.request_id"):
        out.append(violation)
    if violation := consumer_violation(spec.consumer, f"{prefix}.consumer"):
        out.append(violation)
    for name, text in (("essay_a_text", spec.essay_a), ("essay_b_text", spec.essay_b)):
        if not text.strip():
            bad(name, "must not be empty")
        elif len(text) > limits.max_essay_chars:
            bad(name, f"longer than {limits.max_essay_chars} characters")
    for name, text in (
        ("student_prompt", spec.student_prompt),
        ("instructions", spec.instructions),
        ("rubric", spec.rubric),
        ("overrides.system_prompt", spec.overrides.system_prompt),
    ):
        if len(text) > limits.max_context_chars:
            bad(name, f"longer than {limits.max_context_chars} characters")
    if not 0 <= spec.priority <= 10:
        bad("priority", "must be from 0 to 10")
    if spec.ttl_seconds < 0 or spec.ttl_seconds > MAX_TTL_SECONDS:
        bad("ttl", f"must be from 0 (server default) to {MAX_TTL_SECONDS} seconds")
    if len(spec.metadata) > MAX_METADATA_ENTRIES:
        bad("metadata", f"at most {MAX_METADATA_ENTRIES} entries")
    if any(len(k) > 128 or len(v) > 1024 for k, v in spec.metadata.items()):
        bad("metadata", "keys at most 128 and values at most 1024 characters")
    out += _validate_overrides(spec, manifest, available, default_provider, prefix)
    return out


def _validate_overrides(
    spec: ComparisonSpec, manifest: Manifest, available: set[Provider], default_provider: Provider, prefix: str
) -> list[FieldViolation]:
    overrides = spec.overrides
    provider = overrides.provider or default_provider
    if provider not in available:
        return [
            FieldViolation(
                f"{prefix}.overrides.provider",
                f"provider {provider.value} is not configured on this server "
                f"(available: {', '.join(sorted(p.value for p in available))})",
            )
        ]
    model = manifest.resolve(provider, overrides.model)
    if model is None:
        known = ", ".join(m.model_id for m in manifest.list(provider))
        return [
            FieldViolation(
                f"{prefix}.overrides.model", f"unknown model {overrides.model!r} for {provider.value} (known: {known})"
            )
        ]
    out = []
    if overrides.temperature is not None:
        if not 0.0 <= overrides.temperature <= 2.0:
            out.append(FieldViolation(f"{prefix}.overrides.temperature", "must be from 0.0 to 2.0"))
        elif not model.supports_temperature:
            out.append(
                FieldViolation(f"{prefix}.overrides.temperature", f"{model.model_id} does not accept a temperature")
            )
    reasoning_models = provider is Provider.OPENAI and model.family == "gpt-5"
    hints = (("reasoning_effort", overrides.reasoning_effort), ("output_verbosity", overrides.output_verbosity))
    for name, value in hints:
        if value and not (reasoning_models or provider is Provider.MOCK):
            out.append(
                FieldViolation(
                    f"{prefix}.overrides.{name}", f"{model.model_id} does not take {name} (GPT-5 family models only)"
                )
            )
    if overrides.max_tokens is not None and not 1 <= overrides.max_tokens <= model.max_output_tokens:
        out.append(
            FieldViolation(
                f"{prefix}.overrides.max_tokens", f"must be from 1 to {model.max_output_tokens} for {model.model_id}"
            )
        )
    return out


def verdict_problem(verdict: object) -> str | None:
    """What is wrong with a provider's verdict object, or None when it is well formed. Providers parse
    strictly already; this is the executor's second line, so that an adapter that lets a malformed
    reply through (a list for a winner, a string for usage) fails the request with
    UNPARSEABLE_VERDICT instead of failing outside the retry handling."""
    if not isinstance(verdict, Verdict):
        return f"the provider returned {type(verdict).__name__}, not a verdict"
    if not isinstance(verdict.winner, Winner):
        return f"winner must be essay A or essay B, got {type(verdict.winner).__name__}"
    confidence = verdict.confidence
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 1 <= confidence <= 5:
        return "confidence must be a number from 1 to 5"
    if not isinstance(verdict.justification, str):
        return "justification must be text"
    if not isinstance(verdict.model, str):
        return "model must be text"
    return usage_problem(verdict.usage)


def usage_problem(usage: object) -> str | None:
    if not isinstance(usage, TokenUsage):
        return f"usage must be token counts, got {type(usage).__name__}"
    for name in ("prompt_tokens", "completion_tokens", "cache_read_tokens", "cache_write_tokens"):
        value = getattr(usage, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"usage.{name} must be a count of tokens"
    return None


def consumer_violation(consumer: str, field: str = "consumer") -> FieldViolation | None:
    return None if CONSUMER.fullmatch(consumer) else FieldViolation(field, CONSUMER_RULE)
