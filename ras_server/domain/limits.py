"""Input limits, declared once per field and checked before anything is stored.

Two layers, one declaration. `LIMITS` names, per field name, its maximum length, whether it is
required and the pattern it must match. The lengths (and `MAX_ESSAYS`) become the exact table
of the shared descriptor-driven request checks (`request_limits`, applied by the server to every
request before its handler runs: length, NUL characters, finite numbers, valid timestamps); the
rules only RAS knows (required, patterns, uniqueness, ranges) are checked here by the
converters. So no length, NUL or timestamp check is written twice.

Each check returns field violations (never raises), so one bad request reports every bad
field; each check costs time linear in its input. Messages quote at most `PREVIEW`
characters of what was sent, so an error never grows with the input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from google.protobuf import descriptor as d

from service_core.errors import FieldViolation
from service_core.request_checks import Limits
from service_core.validation import ID_PATTERN, ID_RULE

PREVIEW = 40
# Report at most this many violations of one list, so a huge bad list gives a small error.
MAX_LIST_VIOLATIONS = 20


def preview(value: str) -> str:
    shown = value[:PREVIEW]
    return repr(shown) + ("..." if len(value) > PREVIEW else "")


@dataclass(frozen=True)
class Text:
    max_length: int
    pattern: re.Pattern[str] | None = None
    required: bool = False
    rule: str = ""

    def check(self, field: str, value: str) -> list[FieldViolation]:
        """The rules beyond length: the request checks have already bounded its length and
        refused NUL characters (`request_limits`)."""
        if not value:
            return [FieldViolation(field, f"required: {self.rule}")] if self.required else []
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return [FieldViolation(field, f"{preview(value)} is not {self.rule}")]
        return []


ID = Text(128, ID_PATTERN, True, ID_RULE)
OPTIONAL_ID = Text(128, ID_PATTERN, False, ID_RULE)
EVENT_ID = Text(256, re.compile(r"[A-Za-z0-9._:-]{1,256}"), True, "1-256 characters of letters, digits and . _ : -")
PHASE = Text(64, re.compile(r"[a-z][a-z0-9_]{0,63}"), True, "a lower_snake_case phase name")

LIMITS: dict[str, Text] = {
    "event_id": EVENT_ID,
    "batch_id": ID,
    "owner": ID,
    "essay_id": ID,
    "filename": Text(512),
    "assignment_id": Text(128),
    "course_code": Text(64),
    "class_id": OPTIONAL_ID,
    "org_id": OPTIONAL_ID,
    "phase": PHASE,
    "assessment": Text(256),
    "grade_scale_id": Text(128),
    "model": Text(256),
    "grade": Text(16),
    "confidence_label": Text(16),
    "reason": Text(1024),
    "cursor": Text(32),
    "page_token": Text(512),
}
MAX_ESSAYS = 20_000
MAX_ERROR_BYTES = 4096
MAX_ERROR_MESSAGE = 1024


def text(field: str, value: str, limit: str | None = None) -> list[FieldViolation]:
    return LIMITS[limit or field.rsplit(".", 1)[-1]].check(field, value)


def count(field: str, size: int, maximum: int, minimum: int = 0) -> list[FieldViolation]:
    if size < minimum:
        return [FieldViolation(field, f"at least {minimum} required")]
    if size > maximum:
        return [FieldViolation(field, f"at most {maximum} entries (got {size})")]
    return []


def distinct_ids(field: str, ids: Sequence[str], key: str) -> list[FieldViolation]:
    """Each id valid and unique: one pass with a set, so cost is linear in the list."""
    violations: list[FieldViolation] = []
    seen: set[str] = set()
    for index, value in enumerate(ids):
        found = text(f"{field}[{index}].{key}", value, key)
        if not found and value in seen:
            found = [FieldViolation(f"{field}[{index}].{key}", f"{preview(value)} appears more than once")]
        seen.add(value)
        violations += found
        if len(violations) >= MAX_LIST_VIOLATIONS:
            break
    return violations


def finite(field: str, value: float, low: float = -math.inf, high: float = math.inf) -> list[FieldViolation]:
    """Within [low, high]; NaN is refused too (the request checks refuse it first)."""
    if not math.isfinite(value) or not low <= value <= high:
        return [FieldViolation(field, f"must be a finite number between {low} and {high}")]
    return []


def request_limits(services: Iterable[d.ServiceDescriptor]) -> Limits:
    """The exact table of the shared request checks for these services' requests: every string
    field named in `LIMITS` at its declared length, every repeated `essays` at `MAX_ESSAYS`."""
    exact: dict[str, int] = {}
    for message in _messages(method.input_type for service in services for method in service.methods):
        for fd in message.fields:
            if fd.type == d.FieldDescriptor.TYPE_STRING and fd.name in LIMITS:
                exact[fd.full_name] = LIMITS[fd.name].max_length
            elif fd.name == "essays" and fd.is_repeated:
                exact[fd.full_name] = MAX_ESSAYS
    return Limits(exact=exact)


def _messages(roots: Iterable[d.Descriptor]) -> Iterator[d.Descriptor]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        message = stack.pop()
        if message.full_name in seen or message.full_name.startswith("google."):
            continue
        seen.add(message.full_name)
        yield message
        stack.extend(fd.message_type for fd in message.fields if fd.message_type is not None)


def non_negative(field: str, value: int) -> list[FieldViolation]:
    return [] if value >= 0 else [FieldViolation(field, "must not be negative")]


def first(violations: Iterable[list[FieldViolation]]) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    for group in violations:
        found += group
    return found[:MAX_LIST_VIOLATIONS]
