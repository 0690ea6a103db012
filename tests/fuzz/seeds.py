"""One valid request per creating RPC, which the fuzzer mutates a field at a time so that
adversarial values reach storage and the engine, not only the first validation check.

Written as JSON so a field added to a contract never breaks this table; the generated half of
the fuzzer covers every field of every request regardless."""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf import message as m

_ESSAYS = [{"essayId": f"e{i}", "text": f"Essay {i}: phones in school, argued in a way of its own."} for i in range(3)]
_COMPARISON = {
    "requestId": "fuzz-c1",
    "essayAText": "The first essay argues for phones.",
    "essayBText": "The second essay argues against phones.",
    "consumer": "fuzz",
}
_EVENT_TIME = "2026-12-01T10:00:00Z"

SEEDS: dict[str, dict[str, object]] = {
    "huleedu.cj.v1.CjAssessmentService.CreateAssessment": {
        "requestId": "fuzz-a1",
        "essays": _ESSAYS,
        "gradeScaleId": "letter_a_to_f",
        "comparisonBudget": 6,
        "batchId": "fuzz-batch",
        "anchors": [{"anchorId": "a1", "text": "An anchor essay of grade C.", "grade": "C"}],
    },
    "huleedu.cj.v1.CjAssessmentService.CreateAnchor": {
        "requestId": "fuzz-n1",
        "anchor": {"gradeScaleId": "letter_a_to_f", "grade": "B", "text": "A good anchor essay."},
    },
    "huleedu.llm.v1.LlmProviderService.SubmitComparisons": {"requests": [_COMPARISON]},
    "huleedu.llm.v1.LlmProviderService.AckComparisonResults": {"consumer": "fuzz", "requestIds": ["fuzz-c1"]},
    "huleedu.llm.v1.BatchJobService.CreateBatchJob": {
        "requestId": "fuzz-j1",
        "requests": [{**_COMPARISON, "requestId": "fuzz-j1-1"}, {**_COMPARISON, "requestId": "fuzz-j1-2"}],
    },
    "huleedu.results.v1.ResultAggregatorService.RegisterBatch": {
        "eventId": "fuzz-r1",
        "batchId": "fuzz-batch",
        "owner": "teacher-1",
        "essays": [{"essayId": "e0"}, {"essayId": "e1"}, {"essayId": "e2"}],
        "requestedPhases": ["spellcheck", "cj_assessment"],
        "eventTime": _EVENT_TIME,
    },
    "huleedu.results.v1.ResultAggregatorService.RecordPhaseOutcome": {
        "eventId": "fuzz-p1",
        "batchId": "fuzz-batch",
        "essayId": "e0",
        "phase": "spellcheck",
        "status": 2,
        "eventTime": _EVENT_TIME,
    },
    "huleedu.results.v1.ResultAggregatorService.RecordAssessmentResult": {
        "eventId": "fuzz-x1",
        "batchId": "fuzz-batch",
        "assessment": "assessments/fuzz",
        "essays": [{"essayId": "e0", "assessment": {"rank": 1, "score": 0.5}}],
        "reliability": 0.8,
        "gradeScaleId": "letter_a_to_f",
        "eventTime": _EVENT_TIME,
    },
}


def seed(method_full_name: str, cls: type[m.Message]) -> m.Message | None:
    """The valid request for a method, or None; fields the contract no longer has are dropped."""
    payload = SEEDS.get(method_full_name)
    if payload is None:
        return None
    return json_format.ParseDict(payload, cls(), ignore_unknown_fields=True)
