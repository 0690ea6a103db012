"""LPS settings, read once from `LPS_*` environment variables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from llm_provider_server.domain.manifest import ModelInfo, entries_from_json
from service_core.settings import ServerSettings


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as error:
        raise ValueError(f"cannot read the models file {path}: {error.strerror}") from None


class ProviderName(StrEnum):
    MOCK = "mock"
    OPENAI = "openai"
    ANTHROPIC = "anthropic"


class MockMode(StrEnum):
    DEFAULT = "default"
    CJ_GENERIC_BATCH = "cj_generic_batch"
    ENG5_ANCHOR_GPT51_LOW = "eng5_anchor_gpt51_low"
    ENG5_LOWER5_GPT51_LOW = "eng5_lower5_gpt51_low"
    LATENT_BT = "latent_bt"
    ESSAY_FEATURES = "essay_features"


class QueueProcessingMode(StrEnum):
    PER_REQUEST = "per_request"
    SERIAL_BUNDLE = "serial_bundle"
    BATCH_API = "batch_api"


class LpsSettings(ServerSettings):
    model_config = SettingsConfigDict(env_prefix="LPS_", extra="ignore", frozen=True)

    port: int = Field(default=50052, ge=0, le=65535)
    metrics_port: int = Field(default=9102, ge=-1, le=65535)

    # --- providers
    # Serve every provider with the mock (no network, no keys).
    use_mock_llm: bool = True
    # Offer the mock as a provider of its own even when use_mock_llm is off.
    allow_mock_provider: bool = True
    default_provider: ProviderName = ProviderName.MOCK
    openai_api_key: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("LPS_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    # Any OpenAI-compatible server (vLLM, Ollama, llama.cpp): its /v1 URL.
    openai_base_url: str = ""
    anthropic_api_key: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("LPS_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str = ""
    # Models beyond models.json (a JSON list of entries; only provider and model_id required,
    # prices default to 0), and a manifest file of more; e.g. a local server's model names.
    models: str = ""
    models_file: str = ""
    provider_timeout_seconds: float = Field(default=120.0, gt=0)
    # Per-provider timeouts of one call; 0 = provider_timeout_seconds.
    openai_timeout_seconds: float = Field(default=0.0, ge=0)
    anthropic_timeout_seconds: float = Field(default=0.0, ge=0)
    openai_requests_per_minute: float = Field(default=0.0, ge=0)
    anthropic_requests_per_minute: float = Field(default=0.0, ge=0)
    # Tokens per minute (prompt estimated from its length, plus max_tokens); 0 = no limit.
    openai_tokens_per_minute: float = Field(default=0.0, ge=0)
    anthropic_tokens_per_minute: float = Field(default=0.0, ge=0)
    # The vendors' batch queue limits (domain/vendor_limits.py): OpenAI's enqueued prompt tokens per
    # model, Anthropic's requests in the Message Batches processing queue; 0 = no limit.
    openai_batch_queue_tokens: int = Field(default=0, ge=0)
    anthropic_batch_queue_requests: int = Field(default=0, ge=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_recovery_seconds: float = Field(default=30.0, gt=0)

    # --- queue
    queue_processing_mode: QueueProcessingMode = QueueProcessingMode.PER_REQUEST
    queue_capacity: int = Field(default=10_000, ge=1)
    queue_full_retry_seconds: float = Field(default=5.0, gt=0)
    default_ttl_seconds: float = Field(default=4 * 3600, gt=0)
    claim_lease_seconds: float = Field(default=300.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=20)
    retry_base_seconds: float = Field(default=1.0, gt=0)
    retry_cap_seconds: float = Field(default=60.0, ge=0)
    max_in_flight: int = Field(default=128, ge=1)
    max_concurrency_per_model: int = Field(default=32, ge=1)
    bundle_max_items: int = Field(default=64, ge=1, le=64)
    batch_job_max_items: int = Field(default=1000, ge=1, le=50_000)
    # Lower the vendors' batch limits (requests, bytes of input) per vendor job; 0 = the vendor's own.
    vendor_job_max_items: int = Field(default=0, ge=0)
    vendor_job_max_bytes: int = Field(default=0, ge=0)
    batch_poll_interval_seconds: float = Field(default=1.0, gt=0)
    idle_poll_seconds: float = Field(default=0.25, gt=0)
    sweep_interval_seconds: float = Field(default=1.0, gt=0)
    # Acknowledged results (with their finished requests) are deleted this long after the ack; a
    # request id is remembered as long, so a repeat within it still gets the original.
    retention_seconds: float = Field(default=3 * 24 * 3600, gt=0)
    max_essay_chars: int = Field(default=100_000, ge=100)

    # --- result delivery
    result_lease_seconds: float = Field(default=30.0, gt=0)
    result_max_in_flight: int = Field(default=256, ge=1)

    # --- mock provider
    mock_mode: MockMode = MockMode.DEFAULT
    mock_seed: str = "0"
    mock_latent_sigma: float = Field(default=2.0, gt=0)
    mock_latent_bias: float = 0.0
    # Multiplies every mock latency; tests use a small value to stay fast.
    mock_latency_scale: float = Field(default=1.0, ge=0)
    mock_latency_ms: float = Field(default=0.0, ge=0)
    mock_latency_jitter_ms: float = Field(default=0.0, ge=0)
    mock_error_rate: float = Field(default=0.0, ge=0, le=1)
    mock_error_codes: str = "429,503,500"
    mock_batch_validating_seconds: float = Field(default=0.2, ge=0)
    mock_batch_processing_seconds: float = Field(default=1.0, ge=0)
    mock_batch_finalizing_seconds: float = Field(default=0.2, ge=0)
    mock_batch_window_seconds: float = Field(default=24 * 3600, gt=0)
    mock_batch_output_delay_seconds: float = Field(default=0.0, ge=0)

    @field_validator("models")
    @classmethod
    def _models(cls, value: str) -> str:
        if value.strip():
            entries_from_json(value, "LPS_MODELS")
        return value

    @field_validator("models_file")
    @classmethod
    def _models_file(cls, value: str) -> str:
        if value.strip():
            entries_from_json(_read(value), f"LPS_MODELS_FILE {value}")
        return value

    def declared_models(self) -> list[ModelInfo]:
        declared = entries_from_json(_read(self.models_file), self.models_file) if self.models_file.strip() else []
        return declared + (entries_from_json(self.models, "LPS_MODELS") if self.models.strip() else [])

    @field_validator("mock_error_codes")
    @classmethod
    def _codes(cls, value: str) -> str:
        codes = [c.strip() for c in value.split(",") if c.strip()]
        if not codes or not all(c.isdigit() and 400 <= int(c) <= 599 for c in codes):
            raise ValueError("mock_error_codes must be comma-separated HTTP error statuses, e.g. 429,503")
        return value

    def timeout_seconds(self, provider: str) -> float:
        """How long one call to `provider` may take, in every processing mode."""
        own = {"openai": self.openai_timeout_seconds, "anthropic": self.anthropic_timeout_seconds}.get(provider, 0.0)
        return own or self.provider_timeout_seconds

    def error_codes(self) -> tuple[int, ...]:
        return tuple(int(c) for c in self.mock_error_codes.split(",") if c.strip())
