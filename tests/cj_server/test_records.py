"""The records the CJ runtime passes between converters and use cases (cj_server/domain/records.py)."""

from __future__ import annotations

from cj_server.domain.records import Arrived


def arrived(**fields) -> Arrived:
    values = {
        "request_id": "r1",
        "assessment_id": "a1",
        "comparison_id": "c1",
        "succeeded": True,
        "first_won": True,
        "confidence": 4.0,
        "justification": "clearer argument",
        "error_code": 0,
        "error_message": "",
        "provider": "mock",
        "model": "mock-judge",
        "cost_usd": 0.001,
        "payload": b"",
    }
    return Arrived(**(values | fields))


def test_a_success_becomes_the_columns_of_its_comparison():
    assert arrived().values(100.0, None) == {
        "status": "succeeded",
        "completed_at": 100.0,
        "provider": "mock",
        "model": "mock-judge",
        "cost_usd": 0.001,
        "confidence": 4.0,
        "justification": "clearer argument",
        "first_won": True,
        "error_json": None,
    }


def test_a_failure_keeps_its_error_and_no_winner():
    columns = arrived(succeeded=False, first_won=None, confidence=None, justification=None).values(5.0, '{"x": 1}')
    assert (columns["status"], columns["first_won"], columns["error_json"]) == ("failed", None, '{"x": 1}')
