"""The descriptor-driven request checks: each rule, its field path, and what passes."""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from huleedu.cj.v1 import cj_assessment_service_pb2 as cj
from huleedu.llm.v1 import comparison_pb2
from huleedu.llm.v1 import llm_provider_service_pb2 as llm
from huleedu.results.v1 import result_aggregator_service_pb2 as ras
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service_core import request_checks
from service_core.errors import InvalidArgument
from service_core.request_checks import Limits, check_request, string_limit
from tests.fuzz.strategies import RAW_TIME, messages


def violations(request, limits: Limits | None = None) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as caught:
        check_request(request, limits)
    return {v.field: v.description for v in caught.value.violations}


def test_a_valid_request_passes():
    request = cj.CreateAssessmentRequest(request_id="r1", essays=[{"essay_id": "e1", "text": "Åsa Öberg 张伟"}])
    assert check_request(request) is None  # no violation raised


def test_nul_in_a_nested_string_names_the_path():
    request = cj.CreateAssessmentRequest(request_id="r1", essays=[{"essay_id": "e1"}, {"essay_id": "e\x002"}])
    assert violations(request) == {"essays[1].essay_id": "must not contain a NUL character"}


def test_identifier_longer_than_its_column_is_refused_without_echoing_it():
    request = cj.CreateAnchorRequest(request_id="a" * 129)
    found = violations(request)
    assert found == {"request_id": "at most 128 characters"}
    assert "aaaa" not in str(found)


def test_exact_limits_override_defaults():
    request = llm.AckComparisonResultsRequest(consumer="cj", request_ids=[f"r{i}" for i in range(11)])
    limits = Limits({"huleedu.llm.v1.AckComparisonResultsRequest.request_ids": 10})
    assert violations(request, limits) == {"request_ids": "at most 10 entries"}


def test_map_values_are_checked():
    request = llm.SubmitComparisonsRequest(requests=[comparison_pb2.ComparisonRequest(metadata={"k": "v\x00"})])
    assert violations(request) == {"requests[0].metadata[k]": "must not contain a NUL character"}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_numbers_must_be_finite(value):
    request = ras.RecordAssessmentResultRequest(event_id="x", reliability=value)
    assert violations(request) == {"reliability": "must be a finite number"}


@pytest.mark.parametrize(
    ("seconds", "nanos"), [(0, -1), (0, 10**9), (253_402_300_800, 0), (-62_135_596_801, 0), (2**63 - 1, 0)]
)
def test_timestamps_out_of_range_are_refused(seconds, nanos):
    request = ras.RecordPhaseOutcomeRequest(event_id="x")
    request.event_time.ParseFromString(RAW_TIME(seconds=seconds, nanos=nanos).SerializeToString())
    assert violations(request) == {"event_time": "must be a valid timestamp between years 1 and 9999"}


@pytest.mark.parametrize(("seconds", "nanos"), [(0, -(10**9)), (1, -1), (-1, 1), (315_576_000_001, 0)])
def test_durations_out_of_range_are_refused(seconds, nanos):
    request = comparison_pb2.ComparisonRequest(request_id="x")
    request.ttl.ParseFromString(RAW_TIME(seconds=seconds, nanos=nanos).SerializeToString())
    assert violations(request) == {"ttl": "must be a valid duration"}


def test_valid_times_pass():
    request = json_format.ParseDict(
        {"eventId": "x", "eventTime": "9999-12-31T23:59:59.999999999Z"}, ras.RecordPhaseOutcomeRequest()
    )
    assert check_request(request) is None
    assert check_request(comparison_pb2.ComparisonRequest(ttl={"seconds": -2, "nanos": -5})) is None


def test_default_lengths_follow_what_a_field_holds():
    assert string_limit("request_id") == 128
    assert string_limit("essay_a_text") == 200_000
    assert string_limit("page_token") == 1_024
    assert string_limit("name") == 256


# The first pass (`_passes`) must refuse exactly the requests the full walk finds a violation in:
# one that passed a bad request would let it reach the database, one that refused a good request
# would raise InvalidArgument with no violation. Checked on every request type the servers serve.
REQUEST_TYPES = [
    cj.CreateAssessmentRequest,
    cj.CreateAnchorRequest,
    llm.SubmitComparisonsRequest,
    llm.AckComparisonResultsRequest,
    llm.StreamComparisonResultsRequest,
    ras.RecordAssessmentResultRequest,
    ras.RecordPhaseOutcomeRequest,
]


@pytest.mark.parametrize("request_type", REQUEST_TYPES, ids=lambda t: t.DESCRIPTOR.name)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_first_pass_refuses_exactly_what_the_walk_finds(request_type, data):
    message = data.draw(messages(request_type.DESCRIPTOR))
    limits = Limits({"huleedu.llm.v1.AckComparisonResultsRequest.request_ids": 3})
    for checked_with in (Limits(), limits):
        found = list(request_checks._walk(message, "", checked_with))
        assert request_checks._passes(message, checked_with) == (not found), found
