from google.api import field_behavior_pb2 as _field_behavior_pb2
from huleedu.cj.v1 import assessment_pb2 as _assessment_pb2
from huleedu.llm.v1 import comparison_pb2 as _comparison_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateAssessmentRequest(_message.Message):
    __slots__ = ("request_id", "essays", "anchors", "anchor_names", "student_prompt", "instructions", "rubric", "grade_scale_id", "custom_grade_scale", "llm_overrides", "llm_batching_mode", "comparison_budget", "target_reliability", "batch_id", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ESSAYS_FIELD_NUMBER: _ClassVar[int]
    ANCHORS_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_NAMES_FIELD_NUMBER: _ClassVar[int]
    STUDENT_PROMPT_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    RUBRIC_FIELD_NUMBER: _ClassVar[int]
    GRADE_SCALE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_GRADE_SCALE_FIELD_NUMBER: _ClassVar[int]
    LLM_OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    LLM_BATCHING_MODE_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_BUDGET_FIELD_NUMBER: _ClassVar[int]
    TARGET_RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    essays: _containers.RepeatedCompositeFieldContainer[_assessment_pb2.Essay]
    anchors: _containers.RepeatedCompositeFieldContainer[_assessment_pb2.AnchorEssay]
    anchor_names: _containers.RepeatedScalarFieldContainer[str]
    student_prompt: str
    instructions: str
    rubric: str
    grade_scale_id: str
    custom_grade_scale: _assessment_pb2.GradeScale
    llm_overrides: _comparison_pb2.LlmOverrides
    llm_batching_mode: _assessment_pb2.BatchingMode
    comparison_budget: int
    target_reliability: float
    batch_id: str
    labels: _containers.ScalarMap[str, str]
    def __init__(self, request_id: _Optional[str] = ..., essays: _Optional[_Iterable[_Union[_assessment_pb2.Essay, _Mapping]]] = ..., anchors: _Optional[_Iterable[_Union[_assessment_pb2.AnchorEssay, _Mapping]]] = ..., anchor_names: _Optional[_Iterable[str]] = ..., student_prompt: _Optional[str] = ..., instructions: _Optional[str] = ..., rubric: _Optional[str] = ..., grade_scale_id: _Optional[str] = ..., custom_grade_scale: _Optional[_Union[_assessment_pb2.GradeScale, _Mapping]] = ..., llm_overrides: _Optional[_Union[_comparison_pb2.LlmOverrides, _Mapping]] = ..., llm_batching_mode: _Optional[_Union[_assessment_pb2.BatchingMode, str]] = ..., comparison_budget: _Optional[int] = ..., target_reliability: _Optional[float] = ..., batch_id: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateAssessmentResponse(_message.Message):
    __slots__ = ("assessment",)
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    assessment: _assessment_pb2.Assessment
    def __init__(self, assessment: _Optional[_Union[_assessment_pb2.Assessment, _Mapping]] = ...) -> None: ...

class GetAssessmentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetAssessmentResponse(_message.Message):
    __slots__ = ("assessment",)
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    assessment: _assessment_pb2.Assessment
    def __init__(self, assessment: _Optional[_Union[_assessment_pb2.Assessment, _Mapping]] = ...) -> None: ...

class ListAssessmentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "states")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    states: _containers.RepeatedScalarFieldContainer[_assessment_pb2.Assessment.State]
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., states: _Optional[_Iterable[_Union[_assessment_pb2.Assessment.State, str]]] = ...) -> None: ...

class ListAssessmentsResponse(_message.Message):
    __slots__ = ("assessments", "next_page_token")
    ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    assessments: _containers.RepeatedCompositeFieldContainer[_assessment_pb2.Assessment]
    next_page_token: str
    def __init__(self, assessments: _Optional[_Iterable[_Union[_assessment_pb2.Assessment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelAssessmentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CancelAssessmentResponse(_message.Message):
    __slots__ = ("assessment",)
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    assessment: _assessment_pb2.Assessment
    def __init__(self, assessment: _Optional[_Union[_assessment_pb2.Assessment, _Mapping]] = ...) -> None: ...

class GetAssessmentResultRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetAssessmentResultResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _assessment_pb2.AssessmentResult
    def __init__(self, result: _Optional[_Union[_assessment_pb2.AssessmentResult, _Mapping]] = ...) -> None: ...

class StreamComparisonResultsRequest(_message.Message):
    __slots__ = ("name", "after_sequence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    after_sequence: int
    def __init__(self, name: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class StreamComparisonResultsResponse(_message.Message):
    __slots__ = ("sequence", "judgement", "progress", "result", "final_assessment")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    FINAL_ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    judgement: _assessment_pb2.Judgement
    progress: _assessment_pb2.AssessmentProgress
    result: _assessment_pb2.AssessmentResult
    final_assessment: _assessment_pb2.Assessment
    def __init__(self, sequence: _Optional[int] = ..., judgement: _Optional[_Union[_assessment_pb2.Judgement, _Mapping]] = ..., progress: _Optional[_Union[_assessment_pb2.AssessmentProgress, _Mapping]] = ..., result: _Optional[_Union[_assessment_pb2.AssessmentResult, _Mapping]] = ..., final_assessment: _Optional[_Union[_assessment_pb2.Assessment, _Mapping]] = ...) -> None: ...

class CreateAnchorRequest(_message.Message):
    __slots__ = ("request_id", "anchor")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    anchor: _assessment_pb2.Anchor
    def __init__(self, request_id: _Optional[str] = ..., anchor: _Optional[_Union[_assessment_pb2.Anchor, _Mapping]] = ...) -> None: ...

class CreateAnchorResponse(_message.Message):
    __slots__ = ("anchor",)
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    anchor: _assessment_pb2.Anchor
    def __init__(self, anchor: _Optional[_Union[_assessment_pb2.Anchor, _Mapping]] = ...) -> None: ...

class ListAnchorsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "grade_scale_id", "assignment_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    GRADE_SCALE_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    grade_scale_id: str
    assignment_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., grade_scale_id: _Optional[str] = ..., assignment_id: _Optional[str] = ...) -> None: ...

class ListAnchorsResponse(_message.Message):
    __slots__ = ("anchors", "next_page_token")
    ANCHORS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    anchors: _containers.RepeatedCompositeFieldContainer[_assessment_pb2.Anchor]
    next_page_token: str
    def __init__(self, anchors: _Optional[_Iterable[_Union[_assessment_pb2.Anchor, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListGradeScalesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListGradeScalesResponse(_message.Message):
    __slots__ = ("grade_scales",)
    GRADE_SCALES_FIELD_NUMBER: _ClassVar[int]
    grade_scales: _containers.RepeatedCompositeFieldContainer[_assessment_pb2.GradeScale]
    def __init__(self, grade_scales: _Optional[_Iterable[_Union[_assessment_pb2.GradeScale, _Mapping]]] = ...) -> None: ...
