"""What can go wrong when CJ calls a neighbour (the LLM provider server, RAS), as the
use cases see it: transient (retry later, maybe after a given delay) or permanent (the
neighbour refused the request; retrying cannot help). The clients translate transport
errors into these, so nothing above them depends on grpc."""

from __future__ import annotations


class NeighbourError(Exception):
    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code


class NeighbourUnavailable(NeighbourError):
    """Try again later; `retry_after` is the neighbour's own hint in seconds, when it gave one."""

    def __init__(self, message: str, code: str = "UNAVAILABLE", retry_after: float | None = None):
        super().__init__(message, code)
        self.retry_after = retry_after


class NeighbourRefused(NeighbourError):
    """A permanent refusal (invalid argument, not found, failed precondition...)."""


PERMANENT_CODES = frozenset(
    {"INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "ALREADY_EXISTS", "PERMISSION_DENIED", "UNAUTHENTICATED"}
)
