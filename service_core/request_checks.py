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

Every call pays for these checks, so they run in two passes. The first (`_passes`) follows a plan
made once per message type (each field's kind and limits, looked up from its descriptor) and
only answers whether the request passes; it builds no path and no violation. Only a request it
refuses is walked again (`_walk`) to name every violation with its path.
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
    # message full name -> its plan for the first pass (filled on first use; not part of equality)
    _plans: dict[str, _Plan] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def plan(self, descriptor: Any) -> _Plan:
        found = self._plans.get(descriptor.full_name)
        if found is None:
            found = self._plans[descriptor.full_name] = _Plan(descriptor, self)
        return found

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
    limits = limits or _DEFAULT_LIMITS
    if _passes(request, limits):
        return
    violations = []
    for violation in _walk(request, "", limits):
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


# ---- the first pass: does the request pass? ---------------------------------------------------

# Kinds of field the first pass checks (others, integers, booleans and enums, need no check).
_STRING, _BYTES, _NUMBER, _MESSAGE = range(4)
_KINDS = {
    d.FieldDescriptor.TYPE_STRING: _STRING,
    d.FieldDescriptor.TYPE_BYTES: _BYTES,
    d.FieldDescriptor.TYPE_DOUBLE: _NUMBER,
    d.FieldDescriptor.TYPE_FLOAT: _NUMBER,
    d.FieldDescriptor.TYPE_MESSAGE: _MESSAGE,
}
# (kind, limit): a singular field. (kind, limit, element limit): a repeated field. (kind, limit,
# element limit, key kind, value kind): a map (kinds of its key and value, None if unchecked).
_Rule = tuple[Any, ...]


class _Plan:
    """One message type's fields as the first pass checks them: kind and limits per field."""

    __slots__ = ("rules", "special")

    def __init__(self, descriptor: d.Descriptor, limits: Limits) -> None:
        self.special = descriptor.full_name if descriptor.full_name in _SPECIAL else None
        self.rules: dict[d.FieldDescriptor, _Rule] = {}
        for fd in descriptor.fields:
            rule = _rule(fd, limits)
            if rule is not None:
                self.rules[fd] = rule


def _rule(fd: d.FieldDescriptor, limits: Limits) -> _Rule | None:
    kind = _KINDS.get(fd.type)
    if not fd.is_repeated:
        return None if kind is None else (kind, limits.limit(fd))
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        key_fd, value_fd = fd.message_type.fields_by_name["key"], fd.message_type.fields_by_name["value"]
        return (None, limits.limit(fd), limits.element_limit(fd), _KINDS.get(key_fd.type), _KINDS.get(value_fd.type))
    return (kind, limits.limit(fd), limits.element_limit(fd))


def _passes(message: m.Message, limits: Limits) -> bool:
    plan = limits.plan(message.DESCRIPTOR)
    if plan.special is not None:
        return _SPECIAL[plan.special](message)
    rules = plan.rules
    for fd, value in message.ListFields():
        rule = rules.get(fd)
        if rule is None:
            continue
        if len(rule) == 2:
            if not _value_passes(rule[0], value, rule[1], limits):
                return False
        elif len(value) > rule[1]:
            return False
        elif len(rule) == 5:
            if not _map_passes(rule, value, limits):
                return False
        elif rule[0] is not None:
            kind, limit = rule[0], rule[2]
            for item in value:
                if not _value_passes(kind, item, limit, limits):
                    return False
    return True


def _map_passes(rule: _Rule, values: Any, limits: Limits) -> bool:
    _, _, limit, key_kind, value_kind = rule
    for key, item in values.items():
        if key_kind is not None and not _value_passes(key_kind, key, limit, limits):
            return False
        if value_kind is not None and not _value_passes(value_kind, item, limit, limits):
            return False
    return True


def _value_passes(kind: int, value: Any, limit: int, limits: Limits) -> bool:
    if kind == _STRING:
        return len(value) <= limit and "\x00" not in value
    if kind == _MESSAGE:
        return _passes(value, limits)
    if kind == _BYTES:
        return len(value) <= limit
    return math.isfinite(value)


def _timestamp_passes(message: Any) -> bool:
    seconds: int = message.seconds
    nanos: int = message.nanos
    return TIMESTAMP_MIN_SECONDS <= seconds <= TIMESTAMP_MAX_SECONDS and 0 <= nanos < NANOS


def _duration_passes(message: Any) -> bool:
    return not any(_duration(message, ""))


_SPECIAL = {"google.protobuf.Timestamp": _timestamp_passes, "google.protobuf.Duration": _duration_passes}
_DEFAULT_LIMITS = Limits()
