"""CJ settings, read once from `CJ_*` environment variables."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from service_core.settings import ServerSettings


class BatchingMode(StrEnum):
    PER_REQUEST = "per_request"
    SERIAL_BUNDLE = "serial_bundle"
    PROVIDER_BATCH_API = "provider_batch_api"


class CjSettings(ServerSettings):
    model_config = SettingsConfigDict(env_prefix="CJ_", extra="ignore", frozen=True)

    port: int = Field(default=50051, ge=0, le=65535)
    metrics_port: int = Field(default=9101, ge=-1, le=65535)

    # --- the LLM provider server every judgement goes through
    lps_target: str = "127.0.0.1:50052"
    lps_token: SecretStr = SecretStr("")
    lps_consumer: str = "cj"
    lps_call_timeout_seconds: float = Field(default=30.0, gt=0)
    # --- the result aggregator the outbox delivers to; empty keeps outbox rows until one is set
    ras_target: str = ""
    ras_token: SecretStr = SecretStr("")

    # --- assessments
    default_batching_mode: BatchingMode = BatchingMode.PER_REQUEST
    # Budget when a request sets none: this many comparisons per essay (each comparison counts for both).
    default_comparisons_per_essay: float = Field(default=20.0, gt=0)
    default_target_reliability: float = Field(default=0.9, gt=0, lt=1)
    max_essays: int = Field(default=10_000, ge=2)
    max_essay_chars: int = Field(default=100_000, ge=100)
    max_attempts_per_pair: int = Field(default=3, ge=1)
    max_failure_rate: float = Field(default=0.5, gt=0, le=1)
    # A comparison with no result by then is checked with the LLM provider server and re-sent if lost.
    comparison_deadline_seconds: float = Field(default=600.0, gt=0)
    batch_deadline_seconds: float = Field(default=26 * 3600, gt=0)
    prior_precision: float = Field(default=0.1, gt=0)
    # --- the engine (cj_server/domain/engine.py): no wave barrier, a bounded window in flight
    # Comparisons in flight per assessment, at most (and at most essays * (1 + per essay) / 4, halfway
    # between one per essay and the per-essay limit: engine.py, "The window"); and per essay.
    max_in_flight: int = Field(default=1000, ge=1)
    max_in_flight_per_essay: int = Field(default=2, ge=1)
    blas_threads: int = Field(default=1, ge=1)
    held_out_share: float = Field(default=0.1, ge=0, lt=1)
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    # Judgement and progress events of assessments that ended this long ago, and outbox rows
    # delivered this long ago, are deleted (results, final events and comparisons stay).
    retention_seconds: float = Field(default=3 * 24 * 3600, gt=0)
    outbox_interval_seconds: float = Field(default=1.0, gt=0)
    stream_poll_seconds: float = Field(default=0.5, gt=0)
    # Characters of the student prompt, instructions, rubric and system prompt, each.
    max_context_chars: int = Field(default=50_000, ge=100)

    # --- the runtime: leases shared by replicas, the in-flight window, results in batches
    # A replica advances an assessment while it holds its lease; a dead replica's leases expire.
    lease_seconds: float = Field(default=10.0, gt=0)
    runner_poll_seconds: float = Field(default=0.1, gt=0)
    max_assessments_per_replica: int = Field(default=200, ge=1)
    # The engine is asked for more once this fraction of the in-flight window is free.
    refill_fraction: float = Field(default=0.2, gt=0, le=1)
    # Results applied in one transaction, at most; results delivered but not yet acknowledged.
    result_batch_size: int = Field(default=500, ge=1)
    result_max_in_flight: int = Field(default=2000, ge=1)
    # Re-sending what the LLM provider server could not take: exponential backoff, RetryInfo honoured.
    resend_initial_seconds: float = Field(default=0.5, gt=0)
    resend_max_seconds: float = Field(default=5.0, gt=0)
