import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BatchState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BATCH_STATE_UNSPECIFIED: _ClassVar[BatchState]
    BATCH_STATE_AWAITING_CONTENT_VALIDATION: _ClassVar[BatchState]
    BATCH_STATE_CONTENT_INGESTION_FAILED: _ClassVar[BatchState]
    BATCH_STATE_AWAITING_PIPELINE_CONFIGURATION: _ClassVar[BatchState]
    BATCH_STATE_READY_FOR_PIPELINE_EXECUTION: _ClassVar[BatchState]
    BATCH_STATE_PROCESSING_PIPELINES: _ClassVar[BatchState]
    BATCH_STATE_AWAITING_STUDENT_VALIDATION: _ClassVar[BatchState]
    BATCH_STATE_STUDENT_VALIDATION_COMPLETED: _ClassVar[BatchState]
    BATCH_STATE_VALIDATION_TIMEOUT_PROCESSED: _ClassVar[BatchState]
    BATCH_STATE_COMPLETED_SUCCESSFULLY: _ClassVar[BatchState]
    BATCH_STATE_COMPLETED_WITH_FAILURES: _ClassVar[BatchState]
    BATCH_STATE_FAILED_CRITICALLY: _ClassVar[BatchState]
    BATCH_STATE_CANCELLED: _ClassVar[BatchState]

class ClientStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLIENT_STATUS_UNSPECIFIED: _ClassVar[ClientStatus]
    CLIENT_STATUS_PENDING_CONTENT: _ClassVar[ClientStatus]
    CLIENT_STATUS_READY: _ClassVar[ClientStatus]
    CLIENT_STATUS_PROCESSING: _ClassVar[ClientStatus]
    CLIENT_STATUS_COMPLETED_SUCCESSFULLY: _ClassVar[ClientStatus]
    CLIENT_STATUS_COMPLETED_WITH_FAILURES: _ClassVar[ClientStatus]
    CLIENT_STATUS_FAILED: _ClassVar[ClientStatus]
    CLIENT_STATUS_CANCELLED: _ClassVar[ClientStatus]

class PhaseStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PHASE_STATUS_UNSPECIFIED: _ClassVar[PhaseStatus]
    PHASE_STATUS_PENDING: _ClassVar[PhaseStatus]
    PHASE_STATUS_STARTED: _ClassVar[PhaseStatus]
    PHASE_STATUS_COMPLETED: _ClassVar[PhaseStatus]
    PHASE_STATUS_FAILED: _ClassVar[PhaseStatus]
    PHASE_STATUS_CANCELLED: _ClassVar[PhaseStatus]
    PHASE_STATUS_SKIPPED: _ClassVar[PhaseStatus]

class EssayState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ESSAY_STATE_UNSPECIFIED: _ClassVar[EssayState]
    ESSAY_STATE_PENDING: _ClassVar[EssayState]
    ESSAY_STATE_PROCESSING: _ClassVar[EssayState]
    ESSAY_STATE_COMPLETED: _ClassVar[EssayState]
    ESSAY_STATE_FAILED: _ClassVar[EssayState]
    ESSAY_STATE_CANCELLED: _ClassVar[EssayState]
BATCH_STATE_UNSPECIFIED: BatchState
BATCH_STATE_AWAITING_CONTENT_VALIDATION: BatchState
BATCH_STATE_CONTENT_INGESTION_FAILED: BatchState
BATCH_STATE_AWAITING_PIPELINE_CONFIGURATION: BatchState
BATCH_STATE_READY_FOR_PIPELINE_EXECUTION: BatchState
BATCH_STATE_PROCESSING_PIPELINES: BatchState
BATCH_STATE_AWAITING_STUDENT_VALIDATION: BatchState
BATCH_STATE_STUDENT_VALIDATION_COMPLETED: BatchState
BATCH_STATE_VALIDATION_TIMEOUT_PROCESSED: BatchState
BATCH_STATE_COMPLETED_SUCCESSFULLY: BatchState
BATCH_STATE_COMPLETED_WITH_FAILURES: BatchState
BATCH_STATE_FAILED_CRITICALLY: BatchState
BATCH_STATE_CANCELLED: BatchState
CLIENT_STATUS_UNSPECIFIED: ClientStatus
CLIENT_STATUS_PENDING_CONTENT: ClientStatus
CLIENT_STATUS_READY: ClientStatus
CLIENT_STATUS_PROCESSING: ClientStatus
CLIENT_STATUS_COMPLETED_SUCCESSFULLY: ClientStatus
CLIENT_STATUS_COMPLETED_WITH_FAILURES: ClientStatus
CLIENT_STATUS_FAILED: ClientStatus
CLIENT_STATUS_CANCELLED: ClientStatus
PHASE_STATUS_UNSPECIFIED: PhaseStatus
PHASE_STATUS_PENDING: PhaseStatus
PHASE_STATUS_STARTED: PhaseStatus
PHASE_STATUS_COMPLETED: PhaseStatus
PHASE_STATUS_FAILED: PhaseStatus
PHASE_STATUS_CANCELLED: PhaseStatus
PHASE_STATUS_SKIPPED: PhaseStatus
ESSAY_STATE_UNSPECIFIED: EssayState
ESSAY_STATE_PENDING: EssayState
ESSAY_STATE_PROCESSING: EssayState
ESSAY_STATE_COMPLETED: EssayState
ESSAY_STATE_FAILED: EssayState
ESSAY_STATE_CANCELLED: EssayState

class EssayPhase(_message.Message):
    __slots__ = ("phase", "status", "start_time", "end_time", "error", "reason")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    phase: str
    status: PhaseStatus
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    error: _status_pb2.Status
    reason: str
    def __init__(self, phase: _Optional[str] = ..., status: _Optional[_Union[PhaseStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class EssayAssessment(_message.Message):
    __slots__ = ("rank", "student_rank", "score", "standard_error", "grade", "grade_confidence", "confidence_label", "comparison_count", "is_anchor")
    RANK_FIELD_NUMBER: _ClassVar[int]
    STUDENT_RANK_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    STANDARD_ERROR_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    GRADE_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_LABEL_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_COUNT_FIELD_NUMBER: _ClassVar[int]
    IS_ANCHOR_FIELD_NUMBER: _ClassVar[int]
    rank: int
    student_rank: int
    score: float
    standard_error: float
    grade: str
    grade_confidence: float
    confidence_label: str
    comparison_count: int
    is_anchor: bool
    def __init__(self, rank: _Optional[int] = ..., student_rank: _Optional[int] = ..., score: _Optional[float] = ..., standard_error: _Optional[float] = ..., grade: _Optional[str] = ..., grade_confidence: _Optional[float] = ..., confidence_label: _Optional[str] = ..., comparison_count: _Optional[int] = ..., is_anchor: _Optional[bool] = ...) -> None: ...

class EssayStatus(_message.Message):
    __slots__ = ("essay_id", "filename", "phases", "assessment", "update_time", "state", "current_phase")
    ESSAY_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    PHASES_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PHASE_FIELD_NUMBER: _ClassVar[int]
    essay_id: str
    filename: str
    phases: _containers.RepeatedCompositeFieldContainer[EssayPhase]
    assessment: EssayAssessment
    update_time: _timestamp_pb2.Timestamp
    state: EssayState
    current_phase: str
    def __init__(self, essay_id: _Optional[str] = ..., filename: _Optional[str] = ..., phases: _Optional[_Iterable[_Union[EssayPhase, _Mapping]]] = ..., assessment: _Optional[_Union[EssayAssessment, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[EssayState, str]] = ..., current_phase: _Optional[str] = ...) -> None: ...

class PhaseSummary(_message.Message):
    __slots__ = ("phase", "status", "completed_count", "failed_count", "pending_count", "start_time", "end_time", "started_count", "cancelled_count", "skipped_count")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    PENDING_COUNT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    STARTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_COUNT_FIELD_NUMBER: _ClassVar[int]
    phase: str
    status: PhaseStatus
    completed_count: int
    failed_count: int
    pending_count: int
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    started_count: int
    cancelled_count: int
    skipped_count: int
    def __init__(self, phase: _Optional[str] = ..., status: _Optional[_Union[PhaseStatus, str]] = ..., completed_count: _Optional[int] = ..., failed_count: _Optional[int] = ..., pending_count: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_count: _Optional[int] = ..., cancelled_count: _Optional[int] = ..., skipped_count: _Optional[int] = ...) -> None: ...

class CjSummary(_message.Message):
    __slots__ = ("assessment", "reliability", "grade_scale_id", "model", "assessed_essay_count", "assess_time")
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    GRADE_SCALE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ASSESSED_ESSAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    ASSESS_TIME_FIELD_NUMBER: _ClassVar[int]
    assessment: str
    reliability: float
    grade_scale_id: str
    model: str
    assessed_essay_count: int
    assess_time: _timestamp_pb2.Timestamp
    def __init__(self, assessment: _Optional[str] = ..., reliability: _Optional[float] = ..., grade_scale_id: _Optional[str] = ..., model: _Optional[str] = ..., assessed_essay_count: _Optional[int] = ..., assess_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BatchStatus(_message.Message):
    __slots__ = ("batch_id", "owner", "assignment_id", "state", "client_status", "requested_phases", "current_phase", "essay_count", "completed_essay_count", "failed_essay_count", "progress_percent", "phases", "essays", "create_time", "update_time", "processing_start_time", "processing_end_time", "failed_essays", "completed_at", "processing_phase", "course_code", "cj_reliability", "cj_assessment", "class_id", "org_id", "cancelled_essay_count", "pending_essay_count", "cj_summary", "ready_time", "cancel_time", "cancel_reason", "pipeline_complete_time")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_STATUS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_PHASES_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PHASE_FIELD_NUMBER: _ClassVar[int]
    ESSAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_ESSAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_ESSAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PHASES_FIELD_NUMBER: _ClassVar[int]
    ESSAYS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_START_TIME_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_END_TIME_FIELD_NUMBER: _ClassVar[int]
    FAILED_ESSAYS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_PHASE_FIELD_NUMBER: _ClassVar[int]
    COURSE_CODE_FIELD_NUMBER: _ClassVar[int]
    CJ_RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    CJ_ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_ESSAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    PENDING_ESSAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    CJ_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    READY_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    owner: str
    assignment_id: str
    state: BatchState
    client_status: ClientStatus
    requested_phases: _containers.RepeatedScalarFieldContainer[str]
    current_phase: str
    essay_count: int
    completed_essay_count: int
    failed_essay_count: int
    progress_percent: float
    phases: _containers.RepeatedCompositeFieldContainer[PhaseSummary]
    essays: _containers.RepeatedCompositeFieldContainer[EssayStatus]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    processing_start_time: _timestamp_pb2.Timestamp
    processing_end_time: _timestamp_pb2.Timestamp
    failed_essays: int
    completed_at: _timestamp_pb2.Timestamp
    processing_phase: str
    course_code: str
    cj_reliability: float
    cj_assessment: str
    class_id: str
    org_id: str
    cancelled_essay_count: int
    pending_essay_count: int
    cj_summary: CjSummary
    ready_time: _timestamp_pb2.Timestamp
    cancel_time: _timestamp_pb2.Timestamp
    cancel_reason: str
    pipeline_complete_time: _timestamp_pb2.Timestamp
    def __init__(self, batch_id: _Optional[str] = ..., owner: _Optional[str] = ..., assignment_id: _Optional[str] = ..., state: _Optional[_Union[BatchState, str]] = ..., client_status: _Optional[_Union[ClientStatus, str]] = ..., requested_phases: _Optional[_Iterable[str]] = ..., current_phase: _Optional[str] = ..., essay_count: _Optional[int] = ..., completed_essay_count: _Optional[int] = ..., failed_essay_count: _Optional[int] = ..., progress_percent: _Optional[float] = ..., phases: _Optional[_Iterable[_Union[PhaseSummary, _Mapping]]] = ..., essays: _Optional[_Iterable[_Union[EssayStatus, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., processing_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., processing_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failed_essays: _Optional[int] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., processing_phase: _Optional[str] = ..., course_code: _Optional[str] = ..., cj_reliability: _Optional[float] = ..., cj_assessment: _Optional[str] = ..., class_id: _Optional[str] = ..., org_id: _Optional[str] = ..., cancelled_essay_count: _Optional[int] = ..., pending_essay_count: _Optional[int] = ..., cj_summary: _Optional[_Union[CjSummary, _Mapping]] = ..., ready_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_reason: _Optional[str] = ..., pipeline_complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
