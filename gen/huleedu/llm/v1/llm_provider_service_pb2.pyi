import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from huleedu.llm.v1 import comparison_pb2 as _comparison_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitComparisonsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[_comparison_pb2.ComparisonRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[_comparison_pb2.ComparisonRequest, _Mapping]]] = ...) -> None: ...

class ComparisonAcceptance(_message.Message):
    __slots__ = ("request_id", "comparison", "duplicate", "state", "accept_time", "queue_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_TIME_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    comparison: str
    duplicate: bool
    state: _comparison_pb2.Comparison.State
    accept_time: _timestamp_pb2.Timestamp
    queue_position: int
    def __init__(self, request_id: _Optional[str] = ..., comparison: _Optional[str] = ..., duplicate: _Optional[bool] = ..., state: _Optional[_Union[_comparison_pb2.Comparison.State, str]] = ..., accept_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., queue_position: _Optional[int] = ...) -> None: ...

class SubmitComparisonsResponse(_message.Message):
    __slots__ = ("acceptances",)
    ACCEPTANCES_FIELD_NUMBER: _ClassVar[int]
    acceptances: _containers.RepeatedCompositeFieldContainer[ComparisonAcceptance]
    def __init__(self, acceptances: _Optional[_Iterable[_Union[ComparisonAcceptance, _Mapping]]] = ...) -> None: ...

class GetComparisonRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetComparisonResponse(_message.Message):
    __slots__ = ("comparison",)
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    comparison: _comparison_pb2.Comparison
    def __init__(self, comparison: _Optional[_Union[_comparison_pb2.Comparison, _Mapping]] = ...) -> None: ...

class CancelComparisonRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CancelComparisonResponse(_message.Message):
    __slots__ = ("comparison",)
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    comparison: _comparison_pb2.Comparison
    def __init__(self, comparison: _Optional[_Union[_comparison_pb2.Comparison, _Mapping]] = ...) -> None: ...

class StreamComparisonResultsRequest(_message.Message):
    __slots__ = ("consumer", "after_sequence", "lease", "max_in_flight")
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    MAX_IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    consumer: str
    after_sequence: int
    lease: _duration_pb2.Duration
    max_in_flight: int
    def __init__(self, consumer: _Optional[str] = ..., after_sequence: _Optional[int] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_in_flight: _Optional[int] = ...) -> None: ...

class StreamComparisonResultsResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _comparison_pb2.ComparisonResult
    def __init__(self, result: _Optional[_Union[_comparison_pb2.ComparisonResult, _Mapping]] = ...) -> None: ...

class AckComparisonResultsRequest(_message.Message):
    __slots__ = ("consumer", "request_ids")
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_IDS_FIELD_NUMBER: _ClassVar[int]
    consumer: str
    request_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, consumer: _Optional[str] = ..., request_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AckComparisonResultsResponse(_message.Message):
    __slots__ = ("acknowledged_count",)
    ACKNOWLEDGED_COUNT_FIELD_NUMBER: _ClassVar[int]
    acknowledged_count: int
    def __init__(self, acknowledged_count: _Optional[int] = ...) -> None: ...

class GetMockModeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetMockModeResponse(_message.Message):
    __slots__ = ("use_mock_llm", "mock_mode", "default_provider", "queue_processing_mode", "judge")
    USE_MOCK_LLM_FIELD_NUMBER: _ClassVar[int]
    MOCK_MODE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    QUEUE_PROCESSING_MODE_FIELD_NUMBER: _ClassVar[int]
    JUDGE_FIELD_NUMBER: _ClassVar[int]
    use_mock_llm: bool
    mock_mode: str
    default_provider: _comparison_pb2.Provider
    queue_processing_mode: _comparison_pb2.ProcessingMode
    judge: MockJudge
    def __init__(self, use_mock_llm: _Optional[bool] = ..., mock_mode: _Optional[str] = ..., default_provider: _Optional[_Union[_comparison_pb2.Provider, str]] = ..., queue_processing_mode: _Optional[_Union[_comparison_pb2.ProcessingMode, str]] = ..., judge: _Optional[_Union[MockJudge, _Mapping]] = ...) -> None: ...

class MockJudge(_message.Message):
    __slots__ = ("profile", "seed", "latent_sigma", "latent_bias", "latency_base_ms", "latency_jitter_ms", "latency_scale", "error_rate", "error_codes", "prompt_token_floor", "completion_token_floor")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    LATENT_SIGMA_FIELD_NUMBER: _ClassVar[int]
    LATENT_BIAS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_BASE_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_JITTER_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_SCALE_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODES_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKEN_FLOOR_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKEN_FLOOR_FIELD_NUMBER: _ClassVar[int]
    profile: str
    seed: str
    latent_sigma: float
    latent_bias: float
    latency_base_ms: float
    latency_jitter_ms: float
    latency_scale: float
    error_rate: float
    error_codes: _containers.RepeatedScalarFieldContainer[int]
    prompt_token_floor: int
    completion_token_floor: int
    def __init__(self, profile: _Optional[str] = ..., seed: _Optional[str] = ..., latent_sigma: _Optional[float] = ..., latent_bias: _Optional[float] = ..., latency_base_ms: _Optional[float] = ..., latency_jitter_ms: _Optional[float] = ..., latency_scale: _Optional[float] = ..., error_rate: _Optional[float] = ..., error_codes: _Optional[_Iterable[int]] = ..., prompt_token_floor: _Optional[int] = ..., completion_token_floor: _Optional[int] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("name", "provider", "model_id", "display_name", "family", "max_output_tokens", "context_window", "input_usd_per_million_tokens", "output_usd_per_million_tokens", "cache_read_usd_per_million_tokens", "batch_price_factor", "supports_temperature", "supports_batch_api", "is_default", "is_deprecated", "cache_write_usd_per_million_tokens")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    INPUT_USD_PER_MILLION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_USD_PER_MILLION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_USD_PER_MILLION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    BATCH_PRICE_FACTOR_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_BATCH_API_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    IS_DEPRECATED_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_USD_PER_MILLION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    name: str
    provider: _comparison_pb2.Provider
    model_id: str
    display_name: str
    family: str
    max_output_tokens: int
    context_window: int
    input_usd_per_million_tokens: float
    output_usd_per_million_tokens: float
    cache_read_usd_per_million_tokens: float
    batch_price_factor: float
    supports_temperature: bool
    supports_batch_api: bool
    is_default: bool
    is_deprecated: bool
    cache_write_usd_per_million_tokens: float
    def __init__(self, name: _Optional[str] = ..., provider: _Optional[_Union[_comparison_pb2.Provider, str]] = ..., model_id: _Optional[str] = ..., display_name: _Optional[str] = ..., family: _Optional[str] = ..., max_output_tokens: _Optional[int] = ..., context_window: _Optional[int] = ..., input_usd_per_million_tokens: _Optional[float] = ..., output_usd_per_million_tokens: _Optional[float] = ..., cache_read_usd_per_million_tokens: _Optional[float] = ..., batch_price_factor: _Optional[float] = ..., supports_temperature: _Optional[bool] = ..., supports_batch_api: _Optional[bool] = ..., is_default: _Optional[bool] = ..., is_deprecated: _Optional[bool] = ..., cache_write_usd_per_million_tokens: _Optional[float] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("provider", "include_deprecated")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DEPRECATED_FIELD_NUMBER: _ClassVar[int]
    provider: _comparison_pb2.Provider
    include_deprecated: bool
    def __init__(self, provider: _Optional[_Union[_comparison_pb2.Provider, str]] = ..., include_deprecated: _Optional[bool] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    def __init__(self, models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ...) -> None: ...
