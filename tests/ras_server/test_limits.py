"""Input limits: one declaration per field, linear checks, bounded messages."""

from __future__ import annotations

import math

import pytest
from huleedu.results.v1 import result_aggregator_service_pb2 as pb

from ras_server.app import REQUEST_LIMITS
from ras_server.domain import limits
from service_core.errors import InvalidArgument
from service_core.request_checks import check_request


def test_ids_are_checked_and_quoted_only_in_part():
    (violation,) = limits.text("batch_id", "x" * 20_000)
    assert "is not 1-128 characters" in violation.description and len(violation.description) < 120
    (violation,) = limits.text("batch_id", "bad id " * 5)
    assert len(violation.description) < 120
    assert not limits.text("class_id", "")
    assert limits.text("owner", "")


def test_declared_lengths_are_the_request_checks_table():
    """One declaration: LIMITS' lengths are what the server's request checks enforce, by field."""
    request = pb.RegisterBatchRequest(
        batch_id="b" * 129, course_code="c" * 65, essays=[pb.RegisteredEssay(essay_id="e1", filename="f\x00")]
    )
    with pytest.raises(InvalidArgument) as caught:
        check_request(request, REQUEST_LIMITS)
    found = {v.field: v.description for v in caught.value.violations}
    assert found == {
        "batch_id": "at most 128 characters",
        "course_code": "at most 64 characters",
        "essays[0].filename": "must not contain a NUL character",
    }
    assert REQUEST_LIMITS.exact["huleedu.results.v1.RegisterBatchRequest.essays"] == limits.MAX_ESSAYS
    assert REQUEST_LIMITS.exact["huleedu.results.v1.RegisteredEssay.filename"] == limits.LIMITS["filename"].max_length
    check_request(pb.RegisterBatchRequest(batch_id="b" * 128, course_code="c" * 64), REQUEST_LIMITS)


def test_duplicates_are_found_in_one_pass_and_reported_in_bounded_number():
    ids = ["same"] * 40_000
    found = limits.distinct_ids("essays", ids, "essay_id")
    assert len(found) == limits.MAX_LIST_VIOLATIONS and found[0].field == "essays[1].essay_id"


def test_numbers_and_timestamps():
    assert limits.finite("reliability", math.nan) and limits.finite("reliability", 2.0, -1.0, 1.0)
    assert not limits.finite("score", -3.5)
    assert limits.count("essays", 0, 10, minimum=1) and limits.count("essays", 11, 10)
