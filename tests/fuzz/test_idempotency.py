"""Concurrent repeats of one idempotency key: every caller gets the one original object, never
INTERNAL and never a second object; the same key with other content is ALREADY_EXISTS."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from google.protobuf import symbol_database

from tests.fuzz.seeds import SEEDS, seed
from tests.fuzz.test_fuzz_rpcs import METHODS, _path, _serialize, channels, servers  # noqa: F401

REPEATS = 24
KEY_FIELDS = {"requestId", "eventId"}
CREATES = [
    (key, method)
    for key, method in METHODS
    if method.full_name in SEEDS and method.name not in ("AckComparisonResults", "RecordPhaseOutcome")
]


def _identity(response) -> str:
    """What names the object a create returned (its resource name, or acceptances' names)."""
    text = str(response)
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("name:", "comparison:", "batch_id:")):
            return stripped
    return text


def _unique(payload: dict, suffix: str) -> dict:
    out = dict(payload)
    for key in KEY_FIELDS & out.keys():
        out[key] = f"{out[key]}-{suffix}"
    if "requests" in out:
        out["requests"] = [{**r, "requestId": f"{r['requestId']}-{suffix}"} for r in out["requests"]]
    if "batchId" in out:
        out["batchId"] = f"{out['batchId']}-{suffix}"
    return out


@pytest.mark.parametrize(("key", "method"), CREATES, ids=[f"{key}.{method.name}" for key, method in CREATES])
def test_concurrent_repeats_get_the_one_original(channels, key, method):  # noqa: F811
    suffix = uuid.uuid4().hex[:8]
    cls = symbol_database.Default().GetSymbol(method.input_type.full_name)
    parse = symbol_database.Default().GetSymbol(method.output_type.full_name).FromString
    original = SEEDS[method.full_name]
    SEEDS[method.full_name] = _unique(original, suffix)
    try:
        request = seed(method.full_name, cls)
    finally:
        SEEDS[method.full_name] = original
    call = channels[key].unary_unary(_path(method), request_serializer=_serialize, response_deserializer=parse)

    def once(_: int) -> tuple[grpc.StatusCode, str]:
        try:
            return grpc.StatusCode.OK, _identity(call(request, timeout=30))
        except grpc.RpcError as error:
            return error.code(), error.details() or ""

    with ThreadPoolExecutor(max_workers=REPEATS) as pool:
        answers = list(pool.map(once, range(REPEATS)))
    codes = {code for code, _ in answers}
    # One answer for all: the original object (or, for an event about an unknown batch, the same
    # refusal for every repeat); never INTERNAL from the unique index.
    assert len(codes) == 1, answers
    assert codes <= {grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND}, answers[:3]
    assert len({identity for _, identity in answers}) == 1, answers[:3]
