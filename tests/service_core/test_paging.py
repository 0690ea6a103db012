"""Page sizes and opaque page tokens, shared by every List RPC."""

from __future__ import annotations

import base64

import pytest

from service_core.errors import InvalidArgument
from service_core.paging import MAX_OFFSET, keyset_after, keyset_token, offset_from, offset_token, page_size


def test_tokens_round_trip_and_empty_means_the_first_page():
    assert keyset_after(keyset_token(1795339444.123456, "assessments-7")) == (1795339444.123456, "assessments-7")
    assert offset_from(offset_token(40)) == 40
    assert keyset_after("") is None and offset_from("") == 0


@pytest.mark.parametrize(
    ("read", "token"),
    [
        (keyset_after, "garbage!"),
        (keyset_after, offset_token(20)),  # another list's token is refused, not a KeyError
        (offset_from, keyset_token(1.0, "x")),
        (offset_from, offset_token(-5)),
        (keyset_after, "WzFd"),  # base64 of a JSON list, not an object
    ],
)
def test_a_token_this_list_did_not_issue_is_invalid_argument(read, token):
    with pytest.raises(InvalidArgument) as raised:
        read(token)
    assert [v.field for v in raised.value.violations] == ["page_token"]


def test_page_size_defaults_caps_and_refuses_negatives():
    assert page_size(0) == 20 and page_size(500) == 100 and page_size(7) == 7
    assert page_size(0, default=100, maximum=500) == 100
    with pytest.raises(InvalidArgument):
        page_size(-1)


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("read", "token"),
    [
        (offset_from, _raw("[" * 100_000 + "]" * 100_000)),  # deeply nested JSON
        (offset_from, _raw('{"offset": ' + "[" * 200 + "]" * 200 + "}")),
        (offset_from, offset_token(2**63)),  # huge offset: past any database integer
        (offset_from, offset_token(10**400)),
        (offset_from, _raw('{"offset": true}')),
        (keyset_after, _raw('{"created_at": NaN, "key": "x"}')),
        (keyset_after, _raw('{"created_at": 1e999, "key": "x"}')),
        (keyset_after, _raw('{"created_at": -1, "key": "x"}')),
        (keyset_after, keyset_token(1.0, "k" * 10_000)),
        (keyset_after, _raw("\xff\xfe not utf-8")),
    ],
)
def test_hostile_tokens_are_refused_cleanly(read, token):
    with pytest.raises(InvalidArgument) as raised:
        read(token)
    assert [v.field for v in raised.value.violations] == ["page_token"]
    assert len(raised.value.message) < 200  # the token is never echoed


def test_the_largest_offset_still_round_trips():
    assert offset_from(offset_token(MAX_OFFSET)) == MAX_OFFSET
