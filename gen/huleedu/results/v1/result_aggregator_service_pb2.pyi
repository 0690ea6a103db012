import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from huleedu.results.v1 import batch_pb2 as _batch_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegisteredEssay(_message.Message):
    __slots__ = ("essay_id", "filename")
    ESSAY_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    essay_id: str
    filename: str
    def __init__(self, essay_id: _Optional[str] = ..., filename: _Optional[str] = ...) -> None: ...

class RegisterBatchRequest(_message.Message):
    __slots__ = ("event_id", "batch_id", "owner", "essays", "requested_phases", "assignment_id", "course_code", "event_time", "class_id", "org_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ESSAYS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_PHASES_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    batch_id: str
    owner: str
    essays: _containers.RepeatedCompositeFieldContainer[RegisteredEssay]
    requested_phases: _containers.RepeatedScalarFieldContainer[str]
    assignment_id: str
    course_code: str
    event_time: _timestamp_pb2.Timestamp
    class_id: str
    org_id: str
    def __init__(self, event_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., owner: _Optional[str] = ..., essays: _Optional[_Iterable[_Union[RegisteredEssay, _Mapping]]] = ..., requested_phases: _Optional[_Iterable[str]] = ..., assignment_id: _Optional[str] = ..., course_code: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., class_id: _Optional[str] = ..., org_id: _Optional[str] = ...) -> None: ...

class RegisterBatchResponse(_message.Message):
    __slots__ = ("batch", "duplicate")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    batch: _batch_pb2.BatchStatus
    duplicate: bool
    def __init__(self, batch: _Optional[_Union[_batch_pb2.BatchStatus, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class RecordPhaseOutcomeRequest(_message.Message):
    __slots__ = ("event_id", "batch_id", "essay_id", "phase", "status", "event_time", "error")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    ESSAY_ID_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    batch_id: str
    essay_id: str
    phase: str
    status: _batch_pb2.PhaseStatus
    event_time: _timestamp_pb2.Timestamp
    error: _status_pb2.Status
    def __init__(self, event_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., essay_id: _Optional[str] = ..., phase: _Optional[str] = ..., status: _Optional[_Union[_batch_pb2.PhaseStatus, str]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class RecordPhaseOutcomeResponse(_message.Message):
    __slots__ = ("duplicate",)
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    duplicate: bool
    def __init__(self, duplicate: _Optional[bool] = ...) -> None: ...

class AssessedEssay(_message.Message):
    __slots__ = ("essay_id", "assessment")
    ESSAY_ID_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    essay_id: str
    assessment: _batch_pb2.EssayAssessment
    def __init__(self, essay_id: _Optional[str] = ..., assessment: _Optional[_Union[_batch_pb2.EssayAssessment, _Mapping]] = ...) -> None: ...

class RecordAssessmentResultRequest(_message.Message):
    __slots__ = ("event_id", "batch_id", "assessment", "essays", "reliability", "grade_scale_id", "event_time", "model")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    ESSAYS_FIELD_NUMBER: _ClassVar[int]
    RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    GRADE_SCALE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    batch_id: str
    assessment: str
    essays: _containers.RepeatedCompositeFieldContainer[AssessedEssay]
    reliability: float
    grade_scale_id: str
    event_time: _timestamp_pb2.Timestamp
    model: str
    def __init__(self, event_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., assessment: _Optional[str] = ..., essays: _Optional[_Iterable[_Union[AssessedEssay, _Mapping]]] = ..., reliability: _Optional[float] = ..., grade_scale_id: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model: _Optional[str] = ...) -> None: ...

class RecordAssessmentResultResponse(_message.Message):
    __slots__ = ("duplicate",)
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    duplicate: bool
    def __init__(self, duplicate: _Optional[bool] = ...) -> None: ...

class GetBatchStatusRequest(_message.Message):
    __slots__ = ("batch_id",)
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    def __init__(self, batch_id: _Optional[str] = ...) -> None: ...

class GetBatchStatusResponse(_message.Message):
    __slots__ = ("batch",)
    BATCH_FIELD_NUMBER: _ClassVar[int]
    batch: _batch_pb2.BatchStatus
    def __init__(self, batch: _Optional[_Union[_batch_pb2.BatchStatus, _Mapping]] = ...) -> None: ...

class ListBatchesRequest(_message.Message):
    __slots__ = ("owner", "page_size", "page_token", "statuses", "include_essays", "class_id", "org_id")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ESSAYS_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    owner: str
    page_size: int
    page_token: str
    statuses: _containers.RepeatedScalarFieldContainer[_batch_pb2.ClientStatus]
    include_essays: bool
    class_id: str
    org_id: str
    def __init__(self, owner: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_batch_pb2.ClientStatus, str]]] = ..., include_essays: _Optional[bool] = ..., class_id: _Optional[str] = ..., org_id: _Optional[str] = ...) -> None: ...

class ListBatchesResponse(_message.Message):
    __slots__ = ("batches", "next_page_token", "total_size")
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    batches: _containers.RepeatedCompositeFieldContainer[_batch_pb2.BatchStatus]
    next_page_token: str
    total_size: int
    def __init__(self, batches: _Optional[_Iterable[_Union[_batch_pb2.BatchStatus, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class WatchBatchStatusRequest(_message.Message):
    __slots__ = ("batch_id",)
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    def __init__(self, batch_id: _Optional[str] = ...) -> None: ...

class WatchBatchStatusResponse(_message.Message):
    __slots__ = ("batch",)
    BATCH_FIELD_NUMBER: _ClassVar[int]
    batch: _batch_pb2.BatchStatus
    def __init__(self, batch: _Optional[_Union[_batch_pb2.BatchStatus, _Mapping]] = ...) -> None: ...

class CancelBatchRequest(_message.Message):
    __slots__ = ("event_id", "batch_id", "reason", "event_time")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    batch_id: str
    reason: str
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., reason: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CancelBatchResponse(_message.Message):
    __slots__ = ("batch", "duplicate")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    batch: _batch_pb2.BatchStatus
    duplicate: bool
    def __init__(self, batch: _Optional[_Union[_batch_pb2.BatchStatus, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class MarkBatchReadyRequest(_message.Message):
    __slots__ = ("event_id", "batch_id", "event_time")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    batch_id: str
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MarkBatchReadyResponse(_message.Message):
    __slots__ = ("batch", "duplicate")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    batch: _batch_pb2.BatchStatus
    duplicate: bool
    def __init__(self, batch: _Optional[_Union[_batch_pb2.BatchStatus, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class RecordPipelineCompletionRequest(_message.Message):
    __slots__ = ("event_id", "batch_id", "event_time")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    batch_id: str
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordPipelineCompletionResponse(_message.Message):
    __slots__ = ("batch", "duplicate")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    batch: _batch_pb2.BatchStatus
    duplicate: bool
    def __init__(self, batch: _Optional[_Union[_batch_pb2.BatchStatus, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class WatchBatchesRequest(_message.Message):
    __slots__ = ("owner", "cursor")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    owner: str
    cursor: str
    def __init__(self, owner: _Optional[str] = ..., cursor: _Optional[str] = ...) -> None: ...

class WatchBatchesResponse(_message.Message):
    __slots__ = ("batch", "cursor")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    batch: _batch_pb2.BatchStatus
    cursor: str
    def __init__(self, batch: _Optional[_Union[_batch_pb2.BatchStatus, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...
