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

class BatchingMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BATCHING_MODE_UNSPECIFIED: _ClassVar[BatchingMode]
    BATCHING_MODE_PER_REQUEST: _ClassVar[BatchingMode]
    BATCHING_MODE_SERIAL_BUNDLE: _ClassVar[BatchingMode]
    BATCHING_MODE_PROVIDER_BATCH_API: _ClassVar[BatchingMode]
BATCHING_MODE_UNSPECIFIED: BatchingMode
BATCHING_MODE_PER_REQUEST: BatchingMode
BATCHING_MODE_SERIAL_BUNDLE: BatchingMode
BATCHING_MODE_PROVIDER_BATCH_API: BatchingMode

class Essay(_message.Message):
    __slots__ = ("essay_id", "text")
    ESSAY_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    essay_id: str
    text: str
    def __init__(self, essay_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class AnchorEssay(_message.Message):
    __slots__ = ("anchor_id", "text", "grade")
    ANCHOR_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    anchor_id: str
    text: str
    grade: str
    def __init__(self, anchor_id: _Optional[str] = ..., text: _Optional[str] = ..., grade: _Optional[str] = ...) -> None: ...

class Anchor(_message.Message):
    __slots__ = ("name", "grade_scale_id", "grade", "text", "assignment_id", "display_name", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRADE_SCALE_ID_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    grade_scale_id: str
    grade: str
    text: str
    assignment_id: str
    display_name: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., grade_scale_id: _Optional[str] = ..., grade: _Optional[str] = ..., text: _Optional[str] = ..., assignment_id: _Optional[str] = ..., display_name: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Grade(_message.Message):
    __slots__ = ("label", "prior")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PRIOR_FIELD_NUMBER: _ClassVar[int]
    label: str
    prior: float
    def __init__(self, label: _Optional[str] = ..., prior: _Optional[float] = ...) -> None: ...

class GradeScale(_message.Message):
    __slots__ = ("scale_id", "display_name", "grades")
    SCALE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    GRADES_FIELD_NUMBER: _ClassVar[int]
    scale_id: str
    display_name: str
    grades: _containers.RepeatedCompositeFieldContainer[Grade]
    def __init__(self, scale_id: _Optional[str] = ..., display_name: _Optional[str] = ..., grades: _Optional[_Iterable[_Union[Grade, _Mapping]]] = ...) -> None: ...

class AssessmentProgress(_message.Message):
    __slots__ = ("comparisons_submitted", "comparisons_succeeded", "comparisons_failed", "comparisons_pending", "waves", "current_reliability", "budget", "budget_remaining")
    COMPARISONS_SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FAILED_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_PENDING_FIELD_NUMBER: _ClassVar[int]
    WAVES_FIELD_NUMBER: _ClassVar[int]
    CURRENT_RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    BUDGET_REMAINING_FIELD_NUMBER: _ClassVar[int]
    comparisons_submitted: int
    comparisons_succeeded: int
    comparisons_failed: int
    comparisons_pending: int
    waves: int
    current_reliability: float
    budget: int
    budget_remaining: int
    def __init__(self, comparisons_submitted: _Optional[int] = ..., comparisons_succeeded: _Optional[int] = ..., comparisons_failed: _Optional[int] = ..., comparisons_pending: _Optional[int] = ..., waves: _Optional[int] = ..., current_reliability: _Optional[float] = ..., budget: _Optional[int] = ..., budget_remaining: _Optional[int] = ...) -> None: ...

class Assessment(_message.Message):
    __slots__ = ("name", "request_id", "state", "progress", "llm_batching_mode", "batching_mode_note", "grade_scale_id", "essay_count", "anchor_count", "target_reliability", "batch_id", "create_time", "update_time", "end_time", "error", "llm_overrides", "labels", "undeliverable_notifications", "undeliverable_error")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Assessment.State]
        STATE_PENDING: _ClassVar[Assessment.State]
        STATE_RUNNING: _ClassVar[Assessment.State]
        STATE_SUCCEEDED: _ClassVar[Assessment.State]
        STATE_FAILED: _ClassVar[Assessment.State]
        STATE_CANCELLED: _ClassVar[Assessment.State]
    STATE_UNSPECIFIED: Assessment.State
    STATE_PENDING: Assessment.State
    STATE_RUNNING: Assessment.State
    STATE_SUCCEEDED: Assessment.State
    STATE_FAILED: Assessment.State
    STATE_CANCELLED: Assessment.State
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    LLM_BATCHING_MODE_FIELD_NUMBER: _ClassVar[int]
    BATCHING_MODE_NOTE_FIELD_NUMBER: _ClassVar[int]
    GRADE_SCALE_ID_FIELD_NUMBER: _ClassVar[int]
    ESSAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    TARGET_RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LLM_OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    UNDELIVERABLE_NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    UNDELIVERABLE_ERROR_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    state: Assessment.State
    progress: AssessmentProgress
    llm_batching_mode: BatchingMode
    batching_mode_note: str
    grade_scale_id: str
    essay_count: int
    anchor_count: int
    target_reliability: float
    batch_id: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    error: _status_pb2.Status
    llm_overrides: _comparison_pb2.LlmOverrides
    labels: _containers.ScalarMap[str, str]
    undeliverable_notifications: int
    undeliverable_error: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., state: _Optional[_Union[Assessment.State, str]] = ..., progress: _Optional[_Union[AssessmentProgress, _Mapping]] = ..., llm_batching_mode: _Optional[_Union[BatchingMode, str]] = ..., batching_mode_note: _Optional[str] = ..., grade_scale_id: _Optional[str] = ..., essay_count: _Optional[int] = ..., anchor_count: _Optional[int] = ..., target_reliability: _Optional[float] = ..., batch_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., llm_overrides: _Optional[_Union[_comparison_pb2.LlmOverrides, _Mapping]] = ..., labels: _Optional[_Mapping[str, str]] = ..., undeliverable_notifications: _Optional[int] = ..., undeliverable_error: _Optional[str] = ...) -> None: ...

class GradeProbability(_message.Message):
    __slots__ = ("grade", "probability")
    GRADE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    grade: str
    probability: float
    def __init__(self, grade: _Optional[str] = ..., probability: _Optional[float] = ...) -> None: ...

class GradeProjection(_message.Message):
    __slots__ = ("grade", "probabilities", "confidence", "confidence_label", "display_grade")
    class ConfidenceLabel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CONFIDENCE_LABEL_UNSPECIFIED: _ClassVar[GradeProjection.ConfidenceLabel]
        CONFIDENCE_LABEL_LOW: _ClassVar[GradeProjection.ConfidenceLabel]
        CONFIDENCE_LABEL_MEDIUM: _ClassVar[GradeProjection.ConfidenceLabel]
        CONFIDENCE_LABEL_HIGH: _ClassVar[GradeProjection.ConfidenceLabel]
    CONFIDENCE_LABEL_UNSPECIFIED: GradeProjection.ConfidenceLabel
    CONFIDENCE_LABEL_LOW: GradeProjection.ConfidenceLabel
    CONFIDENCE_LABEL_MEDIUM: GradeProjection.ConfidenceLabel
    CONFIDENCE_LABEL_HIGH: GradeProjection.ConfidenceLabel
    GRADE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_LABEL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_GRADE_FIELD_NUMBER: _ClassVar[int]
    grade: str
    probabilities: _containers.RepeatedCompositeFieldContainer[GradeProbability]
    confidence: float
    confidence_label: GradeProjection.ConfidenceLabel
    display_grade: str
    def __init__(self, grade: _Optional[str] = ..., probabilities: _Optional[_Iterable[_Union[GradeProbability, _Mapping]]] = ..., confidence: _Optional[float] = ..., confidence_label: _Optional[_Union[GradeProjection.ConfidenceLabel, str]] = ..., display_grade: _Optional[str] = ...) -> None: ...

class EssayResult(_message.Message):
    __slots__ = ("essay_id", "is_anchor", "anchor_grade", "rank", "student_rank", "score", "standard_error", "comparison_count", "win_count", "grade_projection")
    ESSAY_ID_FIELD_NUMBER: _ClassVar[int]
    IS_ANCHOR_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_GRADE_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    STUDENT_RANK_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    STANDARD_ERROR_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_COUNT_FIELD_NUMBER: _ClassVar[int]
    WIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    GRADE_PROJECTION_FIELD_NUMBER: _ClassVar[int]
    essay_id: str
    is_anchor: bool
    anchor_grade: str
    rank: int
    student_rank: int
    score: float
    standard_error: float
    comparison_count: int
    win_count: int
    grade_projection: GradeProjection
    def __init__(self, essay_id: _Optional[str] = ..., is_anchor: _Optional[bool] = ..., anchor_grade: _Optional[str] = ..., rank: _Optional[int] = ..., student_rank: _Optional[int] = ..., score: _Optional[float] = ..., standard_error: _Optional[float] = ..., comparison_count: _Optional[int] = ..., win_count: _Optional[int] = ..., grade_projection: _Optional[_Union[GradeProjection, _Mapping]] = ...) -> None: ...

class Reliability(_message.Message):
    __slots__ = ("scale_separation_reliability", "split_half_reliability", "mean_standard_error", "target", "estimate", "estimate_lower", "estimate_upper", "warning")
    SCALE_SEPARATION_RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    SPLIT_HALF_RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    MEAN_STANDARD_ERROR_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_LOWER_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_UPPER_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    scale_separation_reliability: float
    split_half_reliability: float
    mean_standard_error: float
    target: float
    estimate: float
    estimate_lower: float
    estimate_upper: float
    warning: str
    def __init__(self, scale_separation_reliability: _Optional[float] = ..., split_half_reliability: _Optional[float] = ..., mean_standard_error: _Optional[float] = ..., target: _Optional[float] = ..., estimate: _Optional[float] = ..., estimate_lower: _Optional[float] = ..., estimate_upper: _Optional[float] = ..., warning: _Optional[str] = ...) -> None: ...

class PositionBias(_message.Message):
    __slots__ = ("first_position_win_rate", "logit", "standard_error")
    FIRST_POSITION_WIN_RATE_FIELD_NUMBER: _ClassVar[int]
    LOGIT_FIELD_NUMBER: _ClassVar[int]
    STANDARD_ERROR_FIELD_NUMBER: _ClassVar[int]
    first_position_win_rate: float
    logit: float
    standard_error: float
    def __init__(self, first_position_win_rate: _Optional[float] = ..., logit: _Optional[float] = ..., standard_error: _Optional[float] = ...) -> None: ...

class GradeBoundary(_message.Message):
    __slots__ = ("lower_grade", "upper_grade", "score")
    LOWER_GRADE_FIELD_NUMBER: _ClassVar[int]
    UPPER_GRADE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    lower_grade: str
    upper_grade: str
    score: float
    def __init__(self, lower_grade: _Optional[str] = ..., upper_grade: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class AssessmentResult(_message.Message):
    __slots__ = ("assessment", "essay_results", "reliability", "position_bias", "grade_scale_id", "grades_projected", "grades_note", "grade_boundaries", "stop_reason", "comparisons_succeeded", "comparisons_attempted", "complete_time", "provider", "model", "cost_usd")
    class StopReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STOP_REASON_UNSPECIFIED: _ClassVar[AssessmentResult.StopReason]
        STOP_REASON_TARGET_RELIABILITY: _ClassVar[AssessmentResult.StopReason]
        STOP_REASON_BUDGET_SPENT: _ClassVar[AssessmentResult.StopReason]
        STOP_REASON_NO_INFORMATIVE_PAIR: _ClassVar[AssessmentResult.StopReason]
        STOP_REASON_ALL_PAIRS_JUDGED: _ClassVar[AssessmentResult.StopReason]
    STOP_REASON_UNSPECIFIED: AssessmentResult.StopReason
    STOP_REASON_TARGET_RELIABILITY: AssessmentResult.StopReason
    STOP_REASON_BUDGET_SPENT: AssessmentResult.StopReason
    STOP_REASON_NO_INFORMATIVE_PAIR: AssessmentResult.StopReason
    STOP_REASON_ALL_PAIRS_JUDGED: AssessmentResult.StopReason
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    ESSAY_RESULTS_FIELD_NUMBER: _ClassVar[int]
    RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    POSITION_BIAS_FIELD_NUMBER: _ClassVar[int]
    GRADE_SCALE_ID_FIELD_NUMBER: _ClassVar[int]
    GRADES_PROJECTED_FIELD_NUMBER: _ClassVar[int]
    GRADES_NOTE_FIELD_NUMBER: _ClassVar[int]
    GRADE_BOUNDARIES_FIELD_NUMBER: _ClassVar[int]
    STOP_REASON_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_ATTEMPTED_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    COST_USD_FIELD_NUMBER: _ClassVar[int]
    assessment: str
    essay_results: _containers.RepeatedCompositeFieldContainer[EssayResult]
    reliability: Reliability
    position_bias: PositionBias
    grade_scale_id: str
    grades_projected: bool
    grades_note: str
    grade_boundaries: _containers.RepeatedCompositeFieldContainer[GradeBoundary]
    stop_reason: AssessmentResult.StopReason
    comparisons_succeeded: int
    comparisons_attempted: int
    complete_time: _timestamp_pb2.Timestamp
    provider: _comparison_pb2.Provider
    model: str
    cost_usd: float
    def __init__(self, assessment: _Optional[str] = ..., essay_results: _Optional[_Iterable[_Union[EssayResult, _Mapping]]] = ..., reliability: _Optional[_Union[Reliability, _Mapping]] = ..., position_bias: _Optional[_Union[PositionBias, _Mapping]] = ..., grade_scale_id: _Optional[str] = ..., grades_projected: _Optional[bool] = ..., grades_note: _Optional[str] = ..., grade_boundaries: _Optional[_Iterable[_Union[GradeBoundary, _Mapping]]] = ..., stop_reason: _Optional[_Union[AssessmentResult.StopReason, str]] = ..., comparisons_succeeded: _Optional[int] = ..., comparisons_attempted: _Optional[int] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provider: _Optional[_Union[_comparison_pb2.Provider, str]] = ..., model: _Optional[str] = ..., cost_usd: _Optional[float] = ...) -> None: ...

class Judgement(_message.Message):
    __slots__ = ("essay_a_id", "essay_b_id", "outcome", "winner", "confidence", "justification", "wave", "attempt", "error", "complete_time")
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[Judgement.Outcome]
        OUTCOME_SUCCEEDED: _ClassVar[Judgement.Outcome]
        OUTCOME_FAILED: _ClassVar[Judgement.Outcome]
        OUTCOME_CANCELLED: _ClassVar[Judgement.Outcome]
        OUTCOME_EXPIRED: _ClassVar[Judgement.Outcome]
    OUTCOME_UNSPECIFIED: Judgement.Outcome
    OUTCOME_SUCCEEDED: Judgement.Outcome
    OUTCOME_FAILED: Judgement.Outcome
    OUTCOME_CANCELLED: Judgement.Outcome
    OUTCOME_EXPIRED: Judgement.Outcome
    ESSAY_A_ID_FIELD_NUMBER: _ClassVar[int]
    ESSAY_B_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    JUSTIFICATION_FIELD_NUMBER: _ClassVar[int]
    WAVE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    essay_a_id: str
    essay_b_id: str
    outcome: Judgement.Outcome
    winner: _comparison_pb2.Winner
    confidence: float
    justification: str
    wave: int
    attempt: int
    error: _status_pb2.Status
    complete_time: _timestamp_pb2.Timestamp
    def __init__(self, essay_a_id: _Optional[str] = ..., essay_b_id: _Optional[str] = ..., outcome: _Optional[_Union[Judgement.Outcome, str]] = ..., winner: _Optional[_Union[_comparison_pb2.Winner, str]] = ..., confidence: _Optional[float] = ..., justification: _Optional[str] = ..., wave: _Optional[int] = ..., attempt: _Optional[int] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
