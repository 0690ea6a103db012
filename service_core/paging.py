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
# Tokens this module writes are well under 200 characters; anything much longer is not ours,
# and refusing it before decoding bounds the work (and the JSON nesting) a caller can ask for.
MAX_TOKEN_CHARS = 512
MAX_OFFSET = 2**31 - 1  # beyond any list here; keeps OFFSET inside every database's integer
MAX_KEY_CHARS = 256
MAX_TIMESTAMP_SECONDS = 253402300799.0  # 9999-12-31T23:59:59Z, the protobuf Timestamp maximum


def _not_ours() -> InvalidArgument:
    return InvalidArgument(FieldViolation("page_token", NOT_OURS))


def page_size(requested: int, default: int = 20, maximum: int = 100) -> int:
    if requested < 0:
        raise InvalidArgument(FieldViolation("page_size", "must not be negative"))
    return min(requested or default, maximum)


def _encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode()


def _decode(token: str) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_CHARS:
        raise _not_ours()
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()), parse_constant=_no_constants)
    except (ValueError, binascii.Error, RecursionError, UnicodeError) as exc:
        raise _not_ours() from exc
    if not isinstance(payload, dict):
        raise _not_ours()
    return payload


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not a position")  # NaN, Infinity: json accepts them, we do not


def keyset_token(created_at: float, key: str) -> str:
    return _encode({"created_at": created_at, "key": key})


def keyset_after(token: str) -> tuple[float, str] | None:
    """The (created_at, key) position a keyset token points after; None for the first page."""
    if not token:
        return None
    payload = _decode(token)
    created_at, key = payload.get("created_at"), payload.get("key")
    if isinstance(created_at, bool) or not isinstance(created_at, int | float) or not isinstance(key, str):
        raise _not_ours()
    if not 0 <= created_at <= MAX_TIMESTAMP_SECONDS or len(key) > MAX_KEY_CHARS:
        raise _not_ours()  # also refuses 1e999, which json reads as infinity
    return float(created_at), key


def offset_token(offset: int) -> str:
    return _encode({"offset": offset})


def offset_from(token: str) -> int:
    if not token:
        return 0
    offset = _decode(token).get("offset")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise _not_ours()
    return offset
