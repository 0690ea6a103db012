"""The shared request-field checks: ids, resource names and enum values."""

from __future__ import annotations

import pytest

from service_core.errors import InvalidArgument
from service_core.validation import (
    ID_PATTERN,
    ResourceName,
    enum_value,
    enum_values,
    id_violation,
    is_valid_id,
    parse_name,
    require_id,
)

ASSESSMENTS = ResourceName("assessments")
STATES = {1: "running", 2: "completed"}


@pytest.mark.parametrize("value", ["a", "essay-1", "cj:abc.def_9", "x" * 128])
def test_ids_that_are_accepted(value):
    assert is_valid_id(value) and require_id(value, "essay_id") == value and id_violation(value, "f") is None


@pytest.mark.parametrize("value", ["", "x" * 129, "a/b", "a b", "é", "a\x00", "a\n"])
def test_ids_that_are_refused_name_the_field(value):
    assert not is_valid_id(value)
    with pytest.raises(InvalidArgument) as raised:
        require_id(value, "essays[3].essay_id")
    assert [v.field for v in raised.value.violations] == ["essays[3].essay_id"]


def test_an_id_with_a_trailing_newline_is_refused():
    assert ID_PATTERN.match("abc\n") is not None  # what `re.match` with `$` lets through
    assert not is_valid_id("abc\n")


def test_an_id_violation_quotes_only_a_bounded_prefix():
    violation = id_violation("/" * 70_000, "request_id")
    assert violation is not None and len(violation.description) < 200


def test_resource_names_round_trip():
    assert ASSESSMENTS.format("a1") == "assessments/a1"
    assert ASSESSMENTS.parse("assessments/a1") == "a1"
    assert parse_name("batchJobs/j-2", "batchJobs", "job") == "j-2"


@pytest.mark.parametrize(
    "name",
    ["", "assessments", "assessments/", "anchors/a1", "assessments/a/b", "Assessments/a1", "assessments/" + "x" * 129],
)
def test_names_of_another_shape_are_invalid_argument_on_the_given_field(name):
    with pytest.raises(InvalidArgument) as raised:
        ASSESSMENTS.parse(name, "parent")
    (violation,) = raised.value.violations
    assert violation.field == "parent" and "assessments/{id}" in violation.description


def test_a_huge_name_is_not_echoed_whole():
    violation = ASSESSMENTS.violation("anchors/" + "x" * 70_000)
    assert violation is not None and len(violation.description) < 200


def test_enum_values_map_through_the_table_or_are_refused():
    assert enum_value(STATES, 2, "state") == "completed"
    with pytest.raises(InvalidArgument) as raised:
        enum_value(STATES, 0, "state")  # UNSPECIFIED, left out of the table: required
    assert raised.value.violations[0].description == "unknown value 0"


def test_repeated_enum_filters_report_every_bad_entry_by_index():
    assert enum_values(STATES, [2, 1], "states") == ["completed", "running"]
    assert enum_values(STATES, [], "states") == []
    with pytest.raises(InvalidArgument) as raised:
        enum_values(STATES, [1, 99, 2, -4], "states")
    assert [v.field for v in raised.value.violations] == ["states[1]", "states[3]"]


@pytest.mark.parametrize(
    "seconds", [0.0, 1e-9, 0.5, 1.7e9 + 0.123456789, -0.25, -1.5, 253_402_300_799.0, -62_135_596_800.0]
)
def test_timestamps_and_durations_are_the_well_known_types_own(seconds):
    from google.protobuf import duration_pb2, timestamp_pb2

    from service_core.protos import duration, timestamp

    expected_time, expected_span = timestamp_pb2.Timestamp(), duration_pb2.Duration()
    expected_time.FromNanoseconds(int(seconds * 1e9))
    expected_span.FromNanoseconds(int(seconds * 1e9))
    assert timestamp(seconds) == expected_time
    assert duration(seconds) == expected_span
