"""Paging shared by every List RPC: page sizes and opaque page tokens.

A token is URL-safe base64 of a small JSON object the server wrote: a keyset position
(`created_at`, `key`) for lists ordered newest first, or an `offset`. Clients treat it as
opaque. A token that does not decode to the kind the list issues is INVALID_ARGUMENT with a
field violation, never an internal error.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from service_core.errors import FieldViolation, InvalidArgument

NOT_OURS = "not a page token this server issued"


def page_size(requested: int, default: int = 20, maximum: int = 100) -> int:
    if requested < 0:
        raise InvalidArgument(FieldViolation("page_size", "must not be negative"))
    return min(requested or default, maximum)


def _encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode()


def _decode(token: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidArgument(FieldViolation("page_token", NOT_OURS)) from exc
    if not isinstance(payload, dict):
        raise InvalidArgument(FieldViolation("page_token", NOT_OURS))
    return payload


def keyset_token(created_at: float, key: str) -> str:
    return _encode({"created_at": created_at, "key": key})


def keyset_after(token: str) -> tuple[float, str] | None:
    """The (created_at, key) position a keyset token points after; None for the first page."""
    if not token:
        return None
    payload = _decode(token)
    created_at, key = payload.get("created_at"), payload.get("key")
    if not isinstance(created_at, int | float) or not isinstance(key, str):
        raise InvalidArgument(FieldViolation("page_token", NOT_OURS))
    return float(created_at), key


def offset_token(offset: int) -> str:
    return _encode({"offset": offset})


def offset_from(token: str) -> int:
    if not token:
        return 0
    offset = _decode(token).get("offset")
    if not isinstance(offset, int) or offset < 0:
        raise InvalidArgument(FieldViolation("page_token", NOT_OURS))
    return offset
