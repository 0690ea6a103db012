"""Checks every request gets before its handler runs, driven by the message descriptor.

A handler can then trust the shape of what it stores: the database never sees a NUL byte, a
string longer than its column, an integer past its type or a timestamp past year 9999, and the
caller gets INVALID_ARGUMENT naming the field (never INTERNAL from the driver). The rules, in the
order they are applied to each set field, recursively:

1. strings hold no NUL character and are at most `limit(field)` characters long;
2. repeated fields hold at most `limit(field)` elements (map fields count entries);
3. doubles and floats are finite (no NaN, no infinities);
4. `google.protobuf.Timestamp` lies in [0001-01-01, 9999-12-31] with 0 <= nanos < 1e9;
5. `google.protobuf.Duration` lies within +-10,000 years, |nanos| < 1e9, nanos with the sign of
   seconds.

Limits are declared once per field: `Limits` holds the defaults (by kind of field) and a table
of exact limits keyed by the field's full name (`huleedu.cj.v1.Essay.text`), which each server
declares beside its domain rules. Messages name the field and the limit, never the value.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor as d
from google.protobuf import message as m

from service_core.errors import FieldViolation, InvalidArgument

TIMESTAMP_MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
TIMESTAMP_MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
DURATION_MAX_SECONDS = 315_576_000_000  # 10,000 years
NANOS = 1_000_000_000

IDENTIFIER_CHARS = 128
NAME_CHARS = 256
TEXT_CHARS = 200_000
OTHER_CHARS = 4_096
PAGE_TOKEN_CHARS = 1_024
ELEMENTS = 100_000
TEXT_WORDS = ("text", "instructions", "rubric", "prompt", "justification", "message", "description", "reason")
IDENTIFIER_NAMES = ("consumer", "owner", "phase", "model", "provider", "grade", "caller")


@dataclass(frozen=True)
class Limits:
    """Maximum characters (strings) or elements (repeated fields) per field."""

    exact: Mapping[str, int] = field(default_factory=dict)

    def limit(self, fd: d.FieldDescriptor) -> int:
        """Elements of a repeated field, characters of a singular string."""
        if fd.full_name in self.exact:
            return self.exact[fd.full_name]
        return ELEMENTS if fd.is_repeated else string_limit(fd.name)

    def element_limit(self, fd: d.FieldDescriptor) -> int:
        """Characters of each string of a repeated field (key `<full name>[]`)."""
        return self.exact.get(fd.full_name + "[]", string_limit(fd.name))


def string_limit(name: str) -> int:
    """The default length of a string field, from what its name says it holds."""
    if name.endswith("page_token"):
        return PAGE_TOKEN_CHARS
    if any(word in name for word in TEXT_WORDS):
        return TEXT_CHARS
    if name.endswith(("_id", "_ids")) or name in IDENTIFIER_NAMES or name.endswith("_version"):
        return IDENTIFIER_CHARS
    if name.endswith(("name", "names")) or name in ("assessment", "comparison", "batch_job"):
        return NAME_CHARS
    return OTHER_CHARS


def check_request(request: m.Message, limits: Limits | None = None) -> None:
    """Raise InvalidArgument with every violation found (at most 20), or return."""
    violations = []
    for violation in _walk(request, "", limits or Limits()):
        violations.append(violation)
        if len(violations) >= 20:
            break
    if violations:
        raise InvalidArgument(violations)


def _walk(message: m.Message, prefix: str, limits: Limits) -> Iterator[FieldViolation]:
    full_name = message.DESCRIPTOR.full_name
    if full_name == "google.protobuf.Timestamp":
        yield from _timestamp(message, prefix)
        return
    if full_name == "google.protobuf.Duration":
        yield from _duration(message, prefix)
        return
    for fd, value in message.ListFields():
        path = f"{prefix}{fd.name}"
        if fd.is_repeated:
            yield from _repeated(fd, value, path, limits)
        else:
            yield from _single(fd, value, path, limits, limits.limit(fd))


def _repeated(fd: d.FieldDescriptor, values: Any, path: str, limits: Limits) -> Iterator[FieldViolation]:
    if len(values) > limits.limit(fd):
        yield FieldViolation(path, f"at most {limits.limit(fd)} entries")
        return
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        key_fd, value_fd = fd.message_type.fields_by_name["key"], fd.message_type.fields_by_name["value"]
        for key, item in values.items():
            yield from _single(key_fd, key, f"{path}.key", limits, limits.element_limit(fd))
            yield from _single(value_fd, item, f"{path}[{_safe_key(key)}]", limits, limits.element_limit(fd))
        return
    for index, item in enumerate(values):
        yield from _single(fd, item, f"{path}[{index}]", limits, limits.element_limit(fd))


def _safe_key(key: object) -> str:
    text = str(key).replace("\x00", "")
    return text if len(text) <= 40 else text[:40] + "..."


def _single(fd: d.FieldDescriptor, value: Any, path: str, limits: Limits, limit: int) -> Iterator[FieldViolation]:
    kind = fd.type
    if kind == d.FieldDescriptor.TYPE_MESSAGE:
        yield from _walk(value, f"{path}.", limits)
    elif kind == d.FieldDescriptor.TYPE_STRING:
        if "\x00" in value:
            yield FieldViolation(path, "must not contain a NUL character")
        elif len(value) > limit:
            yield FieldViolation(path, f"at most {limit} characters")
    elif kind == d.FieldDescriptor.TYPE_BYTES:
        if len(value) > limit:
            yield FieldViolation(path, f"at most {limit} bytes")
    elif kind in (d.FieldDescriptor.TYPE_DOUBLE, d.FieldDescriptor.TYPE_FLOAT) and not math.isfinite(value):
        yield FieldViolation(path, "must be a finite number")


def _timestamp(message: m.Message, prefix: str) -> Iterator[FieldViolation]:
    seconds, nanos = message.seconds, message.nanos  # type: ignore[attr-defined]
    if not TIMESTAMP_MIN_SECONDS <= seconds <= TIMESTAMP_MAX_SECONDS or not 0 <= nanos < NANOS:
        yield FieldViolation(prefix.rstrip("."), "must be a valid timestamp between years 1 and 9999")


def _duration(message: m.Message, prefix: str) -> Iterator[FieldViolation]:
    seconds, nanos = message.seconds, message.nanos  # type: ignore[attr-defined]
    in_range = abs(seconds) <= DURATION_MAX_SECONDS and abs(nanos) < NANOS
    same_sign = seconds == 0 or nanos == 0 or (seconds > 0) == (nanos > 0)
    if not (in_range and same_sign):
        yield FieldViolation(prefix.rstrip("."), "must be a valid duration")
