"""Small proto helpers the three servers' converters share."""

from __future__ import annotations

from google.protobuf import timestamp_pb2


def timestamp(seconds: float | None) -> timestamp_pb2.Timestamp | None:
    """Epoch seconds -> Timestamp; None stays unset."""
    if seconds is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp
