"""Small proto helpers the three servers' converters share."""

from __future__ import annotations

from google.protobuf import duration_pb2, timestamp_pb2

NANOS = 1_000_000_000


def timestamp(seconds: float | None) -> timestamp_pb2.Timestamp | None:
    """Epoch seconds -> Timestamp; None stays unset. The value `Timestamp.FromNanoseconds` gives,
    built by the constructor (the well-known-type helper is Python, called per result)."""
    if seconds is None:
        return None
    whole, nanos = divmod(int(seconds * 1e9), NANOS)
    return timestamp_pb2.Timestamp(seconds=whole, nanos=nanos)


def duration(seconds: float) -> duration_pb2.Duration:
    """Seconds -> Duration, as `Duration.FromNanoseconds` normalises it (nanos take the sign of
    seconds), built by the constructor."""
    whole, nanos = divmod(int(seconds * 1e9), NANOS)
    if whole < 0 and nanos > 0:
        whole, nanos = whole + 1, nanos - NANOS
    return duration_pb2.Duration(seconds=whole, nanos=nanos)
