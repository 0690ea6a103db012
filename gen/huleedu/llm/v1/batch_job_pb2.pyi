import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from huleedu.llm.v1 import comparison_pb2 as _comparison_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BatchJob(_message.Message):
    __slots__ = ("name", "request_id", "state", "provider", "model", "provider_job_id", "request_counts", "error", "cost_usd", "create_time", "update_time", "in_progress_time", "finalizing_time", "end_time", "expire_time", "cancel_time", "comparisons", "vendor_jobs")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[BatchJob.State]
        STATE_VALIDATING: _ClassVar[BatchJob.State]
        STATE_IN_PROGRESS: _ClassVar[BatchJob.State]
        STATE_FINALIZING: _ClassVar[BatchJob.State]
        STATE_COMPLETED: _ClassVar[BatchJob.State]
        STATE_FAILED: _ClassVar[BatchJob.State]
        STATE_EXPIRED: _ClassVar[BatchJob.State]
        STATE_CANCELLING: _ClassVar[BatchJob.State]
        STATE_CANCELLED: _ClassVar[BatchJob.State]
    STATE_UNSPECIFIED: BatchJob.State
    STATE_VALIDATING: BatchJob.State
    STATE_IN_PROGRESS: BatchJob.State
    STATE_FINALIZING: BatchJob.State
    STATE_COMPLETED: BatchJob.State
    STATE_FAILED: BatchJob.State
    STATE_EXPIRED: BatchJob.State
    STATE_CANCELLING: BatchJob.State
    STATE_CANCELLED: BatchJob.State
    class RequestCounts(_message.Message):
        __slots__ = ("total", "processing", "succeeded", "errored", "cancelled", "expired")
        TOTAL_FIELD_NUMBER: _ClassVar[int]
        PROCESSING_FIELD_NUMBER: _ClassVar[int]
        SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
        ERRORED_FIELD_NUMBER: _ClassVar[int]
        CANCELLED_FIELD_NUMBER: _ClassVar[int]
        EXPIRED_FIELD_NUMBER: _ClassVar[int]
        total: int
        processing: int
        succeeded: int
        errored: int
        cancelled: int
        expired: int
        def __init__(self, total: _Optional[int] = ..., processing: _Optional[int] = ..., succeeded: _Optional[int] = ..., errored: _Optional[int] = ..., cancelled: _Optional[int] = ..., expired: _Optional[int] = ...) -> None: ...
    class VendorJob(_message.Message):
        __slots__ = ("provider_job_id", "state", "first_index", "request_counts", "submit_time", "cancel_time")
        PROVIDER_JOB_ID_FIELD_NUMBER: _ClassVar[int]
        STATE_FIELD_NUMBER: _ClassVar[int]
        FIRST_INDEX_FIELD_NUMBER: _ClassVar[int]
        REQUEST_COUNTS_FIELD_NUMBER: _ClassVar[int]
        SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
        CANCEL_TIME_FIELD_NUMBER: _ClassVar[int]
        provider_job_id: str
        state: BatchJob.State
        first_index: int
        request_counts: BatchJob.RequestCounts
        submit_time: _timestamp_pb2.Timestamp
        cancel_time: _timestamp_pb2.Timestamp
        def __init__(self, provider_job_id: _Optional[str] = ..., state: _Optional[_Union[BatchJob.State, str]] = ..., first_index: _Optional[int] = ..., request_counts: _Optional[_Union[BatchJob.RequestCounts, _Mapping]] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_COUNTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_TIME_FIELD_NUMBER: _ClassVar[int]
    FINALIZING_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    VENDOR_JOBS_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    state: BatchJob.State
    provider: _comparison_pb2.Provider
    model: str
    provider_job_id: str
    request_counts: BatchJob.RequestCounts
    error: _status_pb2.Status
    cost_usd: float
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    in_progress_time: _timestamp_pb2.Timestamp
    finalizing_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    cancel_time: _timestamp_pb2.Timestamp
    comparisons: _containers.RepeatedScalarFieldContainer[str]
    vendor_jobs: _containers.RepeatedCompositeFieldContainer[BatchJob.VendorJob]
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., state: _Optional[_Union[BatchJob.State, str]] = ..., provider: _Optional[_Union[_comparison_pb2.Provider, str]] = ..., model: _Optional[str] = ..., provider_job_id: _Optional[str] = ..., request_counts: _Optional[_Union[BatchJob.RequestCounts, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., cost_usd: _Optional[float] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., in_progress_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finalizing_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., comparisons: _Optional[_Iterable[str]] = ..., vendor_jobs: _Optional[_Iterable[_Union[BatchJob.VendorJob, _Mapping]]] = ...) -> None: ...
