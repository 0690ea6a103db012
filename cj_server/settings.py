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
    max_essays: int = Field(default=2000, ge=2)
    max_essay_chars: int = Field(default=100_000, ge=100)
    max_attempts_per_pair: int = Field(default=3, ge=1)
    max_failure_rate: float = Field(default=0.5, gt=0, le=1)
    # A comparison with no result by then is checked with the LLM provider server and re-sent if lost.
    comparison_deadline_seconds: float = Field(default=600.0, gt=0)
    batch_deadline_seconds: float = Field(default=26 * 3600, gt=0)
    prior_precision: float = Field(default=0.1, gt=0)
    # --- the engine (cj_server/domain/engine.py): no wave barrier, a bounded window in flight
    max_in_flight: int = Field(default=1000, ge=1)
    max_in_flight_per_essay: int = Field(default=2, ge=1)
    blas_threads: int = Field(default=1, ge=1)
    held_out_share: float = Field(default=0.1, ge=0, lt=1)
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    outbox_interval_seconds: float = Field(default=1.0, gt=0)
    stream_poll_seconds: float = Field(default=0.5, gt=0)
