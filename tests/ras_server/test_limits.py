"""Input limits: one declaration per field, linear checks, bounded messages."""

from __future__ import annotations

import math

from ras_server.domain import limits


def test_ids_are_checked_and_quoted_only_in_part():
    (violation,) = limits.text("batch_id", "x" * 20_000)
    assert "at most 128" in violation.description and len(violation.description) < 100
    (violation,) = limits.text("batch_id", "bad id " * 5)
    assert len(violation.description) < 120
    assert limits.text("filename", "a\x00b") and not limits.text("class_id", "")
    assert limits.text("owner", "")


def test_duplicates_are_found_in_one_pass_and_reported_in_bounded_number():
    ids = ["same"] * 40_000
    found = limits.distinct_ids("essays", ids, "essay_id")
    assert len(found) == limits.MAX_LIST_VIOLATIONS and found[0].field == "essays[1].essay_id"


def test_numbers_and_timestamps():
    assert limits.finite("reliability", math.nan) and limits.finite("reliability", 2.0, -1.0, 1.0)
    assert not limits.finite("score", -3.5)
    assert limits.timestamp("event_time", 1, -1) and limits.timestamp("event_time", 253_402_300_800, 0)
    assert not limits.timestamp("event_time", 1_790_000_000, 5)
    assert limits.count("essays", 0, 10, minimum=1) and limits.count("essays", 11, 10)
