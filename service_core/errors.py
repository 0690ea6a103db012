"""Domain errors and their mapping to canonical gRPC status codes.

Servicers and domain code raise these; exactly one interceptor
(`ErrorMappingInterceptor`) turns them into a `google.rpc.Status` carrying one
`ErrorInfo` (and `BadRequest` field violations, `RetryInfo` where it applies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

# Trailers travel as HTTP/2 headers: the default clients (grpc C-core, grpc-js, grpc-go) refuse
# response metadata above 8 KiB and report RESOURCE_EXHAUSTED instead of the real error. The
# message goes out percent-encoded (up to 3 bytes per byte) and the details base64-encoded
# (4 per 3), so both are bounded well below that: 3 x 400 + 4/3 x 3,000 < 5.3 KiB.
MAX_MESSAGE_BYTES = 400
MAX_DETAILS_BYTES = 3000
ECHO_CHARS = 64  # how much of a caller's value an error message may quote


def bounded(text: object, limit: int = ECHO_CHARS) -> str:
    """A caller's value as an error may quote it: at most `limit` characters, then a count.

    `bounded("a" * 70000)` is `'aaaa...aaa… (70000 characters)'`; use it (or `!r` of its result)
    wherever a message repeats input, so an error never grows with the input.
    """
    value = text if isinstance(text, str) else repr(text)
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value)} characters)"


def _cut_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    marker = " …(truncated)"
    return encoded[: max_bytes - len(marker)].decode(errors="ignore") + marker


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: `field` is a dotted path such as `requests[3].essay_a_text`."""

    field: str
    description: str


class DomainError(Exception):
    """Base class. `reason` is UPPER_SNAKE and stable; clients may branch on it."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    default_reason = "INTERNAL"

    def __init__(self, message: str, *, reason: str | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata = dict(metadata or {})


class InvalidArgument(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        violations: list[FieldViolation] | FieldViolation,
        *,
        message: str | None = None,
        reason: str | None = None,
    ):
        self.violations = [violations] if isinstance(violations, FieldViolation) else list(violations)
        summary = "; ".join(f"{bounded(v.field, 80)}: {bounded(v.description, 120)}" for v in self.violations[:5])
        more = f" (and {len(self.violations) - 5} more)" if len(self.violations) > 5 else ""
        super().__init__(message or f"invalid request: {summary}{more}", reason=reason)


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND
    default_reason = "NOT_FOUND"

    @classmethod
    def resource(cls, name: str, reason: str) -> NotFound:
        """The one wording of every server's missing resource, its name in the ErrorInfo."""
        return cls(f"{name} does not exist", reason=reason, metadata={"name": name})


class AlreadyExists(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"

    @classmethod
    def ended(cls, name: str, state: str, reason: str) -> FailedPrecondition:
        """A resource that can no longer change (cancel of a finished one), its state in the ErrorInfo."""
        return cls(f"{name} has already ended ({state})", reason=reason, metadata={"state": state})


class Aborted(DomainError):
    code = grpc.StatusCode.ABORTED
    default_reason = "ABORTED"


class ResourceExhausted(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_reason = "RESOURCE_EXHAUSTED"

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: float,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ):
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    code = grpc.StatusCode.UNAVAILABLE
    default_reason = "UNAVAILABLE"

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: float | None = None,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ):
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after_seconds = retry_after_seconds


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED
    default_reason = "PERMISSION_DENIED"


class InvariantBroken(DomainError):
    """A rule the server itself keeps did not hold (a bug, not bad input): INTERNAL, named, logged.
    Raised where a production `assert` would otherwise guard the invariant (asserts vanish under -O)."""

    code = grpc.StatusCode.INTERNAL
    default_reason = "INVARIANT_BROKEN"


@dataclass
class StatusBuilder:
    """Builds a `google.rpc.Status` with at most one detail of each type (AIP-193)."""

    code: grpc.StatusCode
    message: str
    details: list[any_pb2.Any] = field(default_factory=list)

    def add(self, detail: Any) -> StatusBuilder:
        packed = any_pb2.Any()
        packed.Pack(detail)
        self.details.append(packed)
        return self

    def build(self) -> status_pb2.Status:
        """The status, its message and details bounded so its trailers fit any default client."""
        status = status_pb2.Status(code=self.code.value[0], message=_cut_utf8(self.message, MAX_MESSAGE_BYTES))
        used = 0
        for detail in self.details:
            size = detail.ByteSize()
            if used + size > MAX_DETAILS_BYTES:
                continue  # a later, smaller detail (RetryInfo) may still fit
            status.details.append(detail)
            used += size
        return status


def error_info(reason: str, domain: str, metadata: dict[str, str] | None = None) -> error_details_pb2.ErrorInfo:
    bounded_metadata = {bounded(k, 64): bounded(str(v), 128) for k, v in (metadata or {}).items()}
    return error_details_pb2.ErrorInfo(reason=bounded(reason, 64), domain=domain, metadata=bounded_metadata)


# One violation's share of the details budget; more violations than fit are summarised.
_VIOLATION_FIELD_CHARS = 120
_VIOLATION_DESCRIPTION_CHARS = 240
_VIOLATIONS_BUDGET_BYTES = 1800


def bad_request(violations: list[FieldViolation]) -> error_details_pb2.BadRequest:
    """`BadRequest` with as many violations as fit the budget, each bounded, then a summary."""
    detail = error_details_pb2.BadRequest()
    for index, violation in enumerate(violations):
        entry = error_details_pb2.BadRequest.FieldViolation(
            field=bounded(violation.field, _VIOLATION_FIELD_CHARS),
            description=bounded(violation.description, _VIOLATION_DESCRIPTION_CHARS),
        )
        if detail.ByteSize() + entry.ByteSize() > _VIOLATIONS_BUDGET_BYTES:
            detail.field_violations.add(field="", description=f"and {len(violations) - index} more violations")
            break
        detail.field_violations.append(entry)
    return detail


def retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    whole = int(seconds)
    delay = duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))
    return error_details_pb2.RetryInfo(retry_delay=delay)


def domain_error_to_status(error: DomainError, domain: str) -> status_pb2.Status:
    builder = StatusBuilder(error.code, error.message).add(error_info(error.reason, domain, error.metadata))
    if isinstance(error, InvalidArgument):
        builder.add(bad_request(error.violations))
    retry_after = getattr(error, "retry_after_seconds", None)
    if retry_after is not None:
        builder.add(retry_info(retry_after))
    return builder.build()


def status_for(code: grpc.StatusCode, message: str, reason: str, domain: str) -> status_pb2.Status:
    return StatusBuilder(code, message).add(error_info(reason, domain)).build()
