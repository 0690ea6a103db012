"""Domain types of the LLM provider server."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from service_core.validation import ResourceName

# the resource names this server answers to (AIP-122)
COMPARISONS = ResourceName("comparisons")
BATCH_JOBS = ResourceName("batchJobs")


class Provider(StrEnum):
    MOCK = "mock"
    OPENAI = "openai"
    ANTHROPIC = "anthropic"


class RequestStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self not in (RequestStatus.QUEUED, RequestStatus.PROCESSING)


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Winner(StrEnum):
    ESSAY_A = "essay_a"
    ESSAY_B = "essay_b"


class BatchingHint(StrEnum):
    UNSPECIFIED = ""
    PER_REQUEST = "per_request"
    SERIAL_BUNDLE = "serial_bundle"
    PROVIDER_BATCH_API = "provider_batch_api"


@dataclass(frozen=True)
class Overrides:
    """Model settings of one request; None / "" mean the server default."""

    provider: Provider | None = None
    model: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    system_prompt: str = ""
    reasoning_effort: str = ""
    output_verbosity: str = ""


@dataclass(frozen=True)
class ComparisonSpec:
    """A comparison as submitted."""

    request_id: str
    essay_a: str
    essay_b: str
    consumer: str
    student_prompt: str = ""
    instructions: str = ""
    rubric: str = ""
    overrides: Overrides = field(default_factory=Overrides)
    priority: int = 0
    ttl_seconds: float = 0.0
    metadata: dict[str, str] = field(default_factory=dict)
    batching_hint: BatchingHint = BatchingHint.UNSPECIFIED
    correlation_id: str = ""


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Verdict:
    """A parsed, valid judgement. `confidence` is on the judge's 1.0-5.0 scale."""

    winner: Winner
    confidence: float
    justification: str
    usage: TokenUsage
    model: str


@dataclass(frozen=True)
class ProviderFailure(Exception):
    """A failed provider call. `retryable` failures go back to the queue with backoff."""

    code: str  # UPPER_SNAKE reason, e.g. RATE_LIMITED, PROVIDER_UNAVAILABLE, UNPARSEABLE_VERDICT
    message: str
    retryable: bool
    retry_after_seconds: float | None = None
    http_status: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class ResultError:
    """Why a request did not succeed: a canonical status code name and an ErrorInfo reason."""

    status_code: str  # grpc.StatusCode name, e.g. "UNAVAILABLE"
    reason: str
    message: str


@dataclass(frozen=True)
class ResultRecord:
    """The one recorded outcome of a request."""

    request_id: str
    consumer: str
    outcome: Outcome
    provider: Provider
    model: str
    processing_mode: str
    prompt_sha256: str
    template_version: str
    created_at: float
    completed_at: float
    attempts: int
    metadata: dict[str, str] = field(default_factory=dict)
    correlation_id: str = ""
    winner: Winner | None = None
    confidence: float = 0.0
    justification: str = ""
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    latency_seconds: float = 0.0
    error: ResultError | None = None
    batch_job_id: str = ""
    sequence: int = 0


@dataclass(frozen=True)
class StoredRequest:
    spec: ComparisonSpec
    status: RequestStatus
    provider: Provider
    model: str
    created_at: float
    updated_at: float
    expire_at: float
    attempts: int
    batch_job_id: str | None = None
    cancel_requested: bool = False
    result: ResultRecord | None = None


@dataclass(frozen=True)
class Acceptance:
    request_id: str
    status: RequestStatus
    created_at: float
    duplicate: bool
    queue_position: int = 0
