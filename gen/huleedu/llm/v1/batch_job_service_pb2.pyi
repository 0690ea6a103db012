from google.api import field_behavior_pb2 as _field_behavior_pb2
from huleedu.llm.v1 import batch_job_pb2 as _batch_job_pb2
from huleedu.llm.v1 import comparison_pb2 as _comparison_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateBatchJobRequest(_message.Message):
    __slots__ = ("request_id", "requests")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    requests: _containers.RepeatedCompositeFieldContainer[_comparison_pb2.ComparisonRequest]
    def __init__(self, request_id: _Optional[str] = ..., requests: _Optional[_Iterable[_Union[_comparison_pb2.ComparisonRequest, _Mapping]]] = ...) -> None: ...

class CreateBatchJobResponse(_message.Message):
    __slots__ = ("batch_job",)
    BATCH_JOB_FIELD_NUMBER: _ClassVar[int]
    batch_job: _batch_job_pb2.BatchJob
    def __init__(self, batch_job: _Optional[_Union[_batch_job_pb2.BatchJob, _Mapping]] = ...) -> None: ...

class GetBatchJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetBatchJobResponse(_message.Message):
    __slots__ = ("batch_job",)
    BATCH_JOB_FIELD_NUMBER: _ClassVar[int]
    batch_job: _batch_job_pb2.BatchJob
    def __init__(self, batch_job: _Optional[_Union[_batch_job_pb2.BatchJob, _Mapping]] = ...) -> None: ...

class ListBatchJobsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "states", "provider")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    states: _containers.RepeatedScalarFieldContainer[_batch_job_pb2.BatchJob.State]
    provider: _comparison_pb2.Provider
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., states: _Optional[_Iterable[_Union[_batch_job_pb2.BatchJob.State, str]]] = ..., provider: _Optional[_Union[_comparison_pb2.Provider, str]] = ...) -> None: ...

class ListBatchJobsResponse(_message.Message):
    __slots__ = ("batch_jobs", "next_page_token")
    BATCH_JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    batch_jobs: _containers.RepeatedCompositeFieldContainer[_batch_job_pb2.BatchJob]
    next_page_token: str
    def __init__(self, batch_jobs: _Optional[_Iterable[_Union[_batch_job_pb2.BatchJob, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelBatchJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CancelBatchJobResponse(_message.Message):
    __slots__ = ("batch_job",)
    BATCH_JOB_FIELD_NUMBER: _ClassVar[int]
    batch_job: _batch_job_pb2.BatchJob
    def __init__(self, batch_job: _Optional[_Union[_batch_job_pb2.BatchJob, _Mapping]] = ...) -> None: ...

class WatchBatchJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class WatchBatchJobResponse(_message.Message):
    __slots__ = ("batch_job",)
    BATCH_JOB_FIELD_NUMBER: _ClassVar[int]
    batch_job: _batch_job_pb2.BatchJob
    def __init__(self, batch_job: _Optional[_Union[_batch_job_pb2.BatchJob, _Mapping]] = ...) -> None: ...

class ListBatchJobResultsRequest(_message.Message):
    __slots__ = ("name", "page_size", "page_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    page_size: int
    page_token: str
    def __init__(self, name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBatchJobResultsResponse(_message.Message):
    __slots__ = ("results", "next_page_token")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_comparison_pb2.ComparisonResult]
    next_page_token: str
    def __init__(self, results: _Optional[_Iterable[_Union[_comparison_pb2.ComparisonResult, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
