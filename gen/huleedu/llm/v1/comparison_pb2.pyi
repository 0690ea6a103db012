import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Provider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_UNSPECIFIED: _ClassVar[Provider]
    PROVIDER_MOCK: _ClassVar[Provider]
    PROVIDER_OPENAI: _ClassVar[Provider]
    PROVIDER_ANTHROPIC: _ClassVar[Provider]

class Winner(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WINNER_UNSPECIFIED: _ClassVar[Winner]
    WINNER_ESSAY_A: _ClassVar[Winner]
    WINNER_ESSAY_B: _ClassVar[Winner]

class ProcessingMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROCESSING_MODE_UNSPECIFIED: _ClassVar[ProcessingMode]
    PROCESSING_MODE_PER_REQUEST: _ClassVar[ProcessingMode]
    PROCESSING_MODE_SERIAL_BUNDLE: _ClassVar[ProcessingMode]
    PROCESSING_MODE_BATCH_API: _ClassVar[ProcessingMode]

class BatchingHint(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BATCHING_HINT_UNSPECIFIED: _ClassVar[BatchingHint]
    BATCHING_HINT_PER_REQUEST: _ClassVar[BatchingHint]
    BATCHING_HINT_SERIAL_BUNDLE: _ClassVar[BatchingHint]
    BATCHING_HINT_PROVIDER_BATCH_API: _ClassVar[BatchingHint]

class ReasoningEffort(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASONING_EFFORT_UNSPECIFIED: _ClassVar[ReasoningEffort]
    REASONING_EFFORT_NONE: _ClassVar[ReasoningEffort]
    REASONING_EFFORT_LOW: _ClassVar[ReasoningEffort]
    REASONING_EFFORT_MEDIUM: _ClassVar[ReasoningEffort]
    REASONING_EFFORT_HIGH: _ClassVar[ReasoningEffort]

class OutputVerbosity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTPUT_VERBOSITY_UNSPECIFIED: _ClassVar[OutputVerbosity]
    OUTPUT_VERBOSITY_LOW: _ClassVar[OutputVerbosity]
    OUTPUT_VERBOSITY_MEDIUM: _ClassVar[OutputVerbosity]
    OUTPUT_VERBOSITY_HIGH: _ClassVar[OutputVerbosity]
PROVIDER_UNSPECIFIED: Provider
PROVIDER_MOCK: Provider
PROVIDER_OPENAI: Provider
PROVIDER_ANTHROPIC: Provider
WINNER_UNSPECIFIED: Winner
WINNER_ESSAY_A: Winner
WINNER_ESSAY_B: Winner
PROCESSING_MODE_UNSPECIFIED: ProcessingMode
PROCESSING_MODE_PER_REQUEST: ProcessingMode
PROCESSING_MODE_SERIAL_BUNDLE: ProcessingMode
PROCESSING_MODE_BATCH_API: ProcessingMode
BATCHING_HINT_UNSPECIFIED: BatchingHint
BATCHING_HINT_PER_REQUEST: BatchingHint
BATCHING_HINT_SERIAL_BUNDLE: BatchingHint
BATCHING_HINT_PROVIDER_BATCH_API: BatchingHint
REASONING_EFFORT_UNSPECIFIED: ReasoningEffort
REASONING_EFFORT_NONE: ReasoningEffort
REASONING_EFFORT_LOW: ReasoningEffort
REASONING_EFFORT_MEDIUM: ReasoningEffort
REASONING_EFFORT_HIGH: ReasoningEffort
OUTPUT_VERBOSITY_UNSPECIFIED: OutputVerbosity
OUTPUT_VERBOSITY_LOW: OutputVerbosity
OUTPUT_VERBOSITY_MEDIUM: OutputVerbosity
OUTPUT_VERBOSITY_HIGH: OutputVerbosity

class LlmOverrides(_message.Message):
    __slots__ = ("provider", "model", "temperature", "max_tokens", "system_prompt", "reasoning_effort", "output_verbosity")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    REASONING_EFFORT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_VERBOSITY_FIELD_NUMBER: _ClassVar[int]
    provider: Provider
    model: str
    temperature: float
    max_tokens: int
    system_prompt: str
    reasoning_effort: ReasoningEffort
    output_verbosity: OutputVerbosity
    def __init__(self, provider: _Optional[_Union[Provider, str]] = ..., model: _Optional[str] = ..., temperature: _Optional[float] = ..., max_tokens: _Optional[int] = ..., system_prompt: _Optional[str] = ..., reasoning_effort: _Optional[_Union[ReasoningEffort, str]] = ..., output_verbosity: _Optional[_Union[OutputVerbosity, str]] = ...) -> None: ...

class ComparisonRequest(_message.Message):
    __slots__ = ("request_id", "essay_a_text", "essay_b_text", "student_prompt", "instructions", "rubric", "overrides", "priority", "ttl", "metadata", "consumer", "batching_hint", "correlation_id")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ESSAY_A_TEXT_FIELD_NUMBER: _ClassVar[int]
    ESSAY_B_TEXT_FIELD_NUMBER: _ClassVar[int]
    STUDENT_PROMPT_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    RUBRIC_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    BATCHING_HINT_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    essay_a_text: str
    essay_b_text: str
    student_prompt: str
    instructions: str
    rubric: str
    overrides: LlmOverrides
    priority: int
    ttl: _duration_pb2.Duration
    metadata: _containers.ScalarMap[str, str]
    consumer: str
    batching_hint: BatchingHint
    correlation_id: str
    def __init__(self, request_id: _Optional[str] = ..., essay_a_text: _Optional[str] = ..., essay_b_text: _Optional[str] = ..., student_prompt: _Optional[str] = ..., instructions: _Optional[str] = ..., rubric: _Optional[str] = ..., overrides: _Optional[_Union[LlmOverrides, _Mapping]] = ..., priority: _Optional[int] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., consumer: _Optional[str] = ..., batching_hint: _Optional[_Union[BatchingHint, str]] = ..., correlation_id: _Optional[str] = ...) -> None: ...

class TokenUsage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ..., cache_read_tokens: _Optional[int] = ..., cache_write_tokens: _Optional[int] = ...) -> None: ...

class ComparisonResult(_message.Message):
    __slots__ = ("comparison", "request_id", "outcome", "winner", "confidence", "justification", "usage", "cost_usd", "latency", "provider", "model", "processing_mode", "prompt_sha256", "prompt_template_version", "metadata", "error", "create_time", "complete_time", "attempts", "batch_job", "correlation_id", "sequence")
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[ComparisonResult.Outcome]
        OUTCOME_SUCCEEDED: _ClassVar[ComparisonResult.Outcome]
        OUTCOME_FAILED: _ClassVar[ComparisonResult.Outcome]
        OUTCOME_CANCELLED: _ClassVar[ComparisonResult.Outcome]
        OUTCOME_EXPIRED: _ClassVar[ComparisonResult.Outcome]
    OUTCOME_UNSPECIFIED: ComparisonResult.Outcome
    OUTCOME_SUCCEEDED: ComparisonResult.Outcome
    OUTCOME_FAILED: ComparisonResult.Outcome
    OUTCOME_CANCELLED: ComparisonResult.Outcome
    OUTCOME_EXPIRED: ComparisonResult.Outcome
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_MODE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_SHA256_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    BATCH_JOB_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    comparison: str
    request_id: str
    outcome: ComparisonResult.Outcome
    winner: Winner
    confidence: float
    justification: str
    usage: TokenUsage
    cost_usd: float
    latency: _duration_pb2.Duration
    provider: Provider
    model: str
    processing_mode: ProcessingMode
    prompt_sha256: str
    prompt_template_version: str
    metadata: _containers.ScalarMap[str, str]
    error: _status_pb2.Status
    create_time: _timestamp_pb2.Timestamp
    complete_time: _timestamp_pb2.Timestamp
    attempts: int
    batch_job: str
    correlation_id: str
    sequence: int
    def __init__(self, comparison: _Optional[str] = ..., request_id: _Optional[str] = ..., outcome: _Optional[_Union[ComparisonResult.Outcome, str]] = ..., winner: _Optional[_Union[Winner, str]] = ..., confidence: _Optional[float] = ..., justification: _Optional[str] = ..., usage: _Optional[_Union[TokenUsage, _Mapping]] = ..., cost_usd: _Optional[float] = ..., latency: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., provider: _Optional[_Union[Provider, str]] = ..., model: _Optional[str] = ..., processing_mode: _Optional[_Union[ProcessingMode, str]] = ..., prompt_sha256: _Optional[str] = ..., prompt_template_version: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ..., batch_job: _Optional[str] = ..., correlation_id: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class Comparison(_message.Message):
    __slots__ = ("name", "request_id", "state", "provider", "model", "priority", "consumer", "create_time", "update_time", "expire_time", "attempts", "result", "metadata", "batching_hint")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Comparison.State]
        STATE_QUEUED: _ClassVar[Comparison.State]
        STATE_PROCESSING: _ClassVar[Comparison.State]
        STATE_SUCCEEDED: _ClassVar[Comparison.State]
        STATE_FAILED: _ClassVar[Comparison.State]
        STATE_CANCELLED: _ClassVar[Comparison.State]
        STATE_EXPIRED: _ClassVar[Comparison.State]
    STATE_UNSPECIFIED: Comparison.State
    STATE_QUEUED: Comparison.State
    STATE_PROCESSING: Comparison.State
    STATE_SUCCEEDED: Comparison.State
    STATE_FAILED: Comparison.State
    STATE_CANCELLED: Comparison.State
    STATE_EXPIRED: Comparison.State
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    BATCHING_HINT_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    state: Comparison.State
    provider: Provider
    model: str
    priority: int
    consumer: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    attempts: int
    result: ComparisonResult
    metadata: _containers.ScalarMap[str, str]
    batching_hint: BatchingHint
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., state: _Optional[_Union[Comparison.State, str]] = ..., provider: _Optional[_Union[Provider, str]] = ..., model: _Optional[str] = ..., priority: _Optional[int] = ..., consumer: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ..., result: _Optional[_Union[ComparisonResult, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., batching_hint: _Optional[_Union[BatchingHint, str]] = ...) -> None: ...
