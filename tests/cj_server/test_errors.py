"""How CJ's use cases see a neighbour's failure (cj_server/domain/errors.py)."""

from __future__ import annotations

from cj_server.domain.errors import PERMANENT_CODES, NeighbourError, NeighbourRefused, NeighbourUnavailable


def test_unavailable_carries_the_neighbours_retry_hint():
    error = NeighbourUnavailable("LPS is restarting", retry_after=2.5)
    assert isinstance(error, NeighbourError) and (error.code, error.retry_after) == ("UNAVAILABLE", 2.5)
    assert str(error) == "LPS is restarting" and NeighbourUnavailable("down").retry_after is None


def test_refusals_are_the_codes_a_retry_cannot_change():
    refused = NeighbourRefused("no such model", "INVALID_ARGUMENT")
    assert refused.code in PERMANENT_CODES and not isinstance(refused, NeighbourUnavailable)
    assert {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "INTERNAL"}.isdisjoint(PERMANENT_CODES)
