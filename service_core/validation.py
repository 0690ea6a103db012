"""Checks every server makes on request fields, written once: ids, resource names, enum values.

Each check comes in two forms: `*_violation(...)` returns a `FieldViolation` or None (to collect
several before raising), and `require_*` / `parse_*` raise `InvalidArgument` at once. Messages
quote at most a bounded prefix of the caller's value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from service_core.errors import FieldViolation, InvalidArgument, bounded

T = TypeVar("T")

# Ids chosen by callers (request ids, essay ids, batch ids): safe in resource names, URLs, logs
# and every database's indexed text column.
# Always applied with fullmatch (`$` alone would let a trailing newline through).
ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ID_RULE = "1-128 characters from A-Z, a-z, 0-9 and . _ : -"


def id_violation(value: str, field: str) -> FieldViolation | None:
    if ID_PATTERN.fullmatch(value):
        return None
    if not value:
        return FieldViolation(field, f"required: {ID_RULE}")
    return FieldViolation(field, f"{bounded(value)!r} is not an id: {ID_RULE}")


def is_valid_id(value: str) -> bool:
    return ID_PATTERN.fullmatch(value) is not None


def require_id(value: str, field: str) -> str:
    violation = id_violation(value, field)
    if violation:
        raise InvalidArgument(violation)
    return value


@dataclass(frozen=True)
class ResourceName:
    """A collection's resource names, `{collection}/{id}` (AIP-122), e.g. `assessments/a1`."""

    collection: str

    def format(self, resource_id: str) -> str:
        return f"{self.collection}/{resource_id}"

    @property
    def shape(self) -> str:
        return f"{self.collection}/{{id}}"

    def violation(self, name: str, field: str = "name") -> FieldViolation | None:
        prefix, sep, resource_id = name.partition("/")
        if prefix != self.collection or not sep or not is_valid_id(resource_id):
            shown = f" (got {bounded(name)!r})" if name else ""
            return FieldViolation(field, f"must look like {self.shape}{shown}")
        return None

    def parse(self, name: str, field: str = "name") -> str:
        """The id in `name`; INVALID_ARGUMENT with a field violation if it is not one of ours."""
        violation = self.violation(name, field)
        if violation:
            raise InvalidArgument(violation)
        return name.partition("/")[2]


def parse_name(name: str, collection: str, field: str = "name") -> str:
    return ResourceName(collection).parse(name, field)


def enum_violation(table: Mapping[Any, object], value: int, field: str) -> FieldViolation | None:
    """`table` maps the accepted wire numbers of a proto enum (typed as the generated enum;
    UNSPECIFIED left out where a value is required) to what the server uses; a number outside it
    is a violation."""
    if value in table:
        return None
    return FieldViolation(field, f"unknown value {value}")


def enum_value(table: Mapping[Any, T], value: int, field: str) -> T:
    violation = enum_violation(table, value, field)
    if violation:
        raise InvalidArgument(violation)
    return table[value]


def enum_values(table: Mapping[Any, T], values: Iterable[int], field: str) -> list[T]:
    """A repeated enum field (a filter): every value known, else one violation per bad entry."""
    values = list(values)
    violations = [v for i, value in enumerate(values) if (v := enum_violation(table, value, f"{field}[{i}]"))]
    if violations:
        raise InvalidArgument(violations)
    return [table[value] for value in values]
