"""Hypothesis strategies for any protobuf message, built from its descriptor.

Every field of every request message is generated from the descriptor alone, so a field added
to a contract is fuzzed without a new test. Besides ordinary values, each kind of field draws
from the adversarial values that found internal errors before: strings past any column width,
NUL bytes, page tokens that are nested JSON or huge offsets, integers at the edges of their
type, NaN and infinities, enum numbers the contract does not define, timestamps with negative
nanos or past the year 9999.
"""

from __future__ import annotations

import base64
import json

from google.protobuf import descriptor as d
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, symbol_database
from google.protobuf import message as m
from hypothesis import strategies as st

INT_RANGES = {
    d.FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    d.FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _nested(depth: int) -> str:
    return base64.urlsafe_b64encode(("[" * depth + "]" * depth).encode()).decode()


ADVERSARIAL_TOKENS = [
    _nested(100_000),
    _token({"offset": 10**30}),
    _token({"offset": 2**63}),
    _token({"offset": -1}),
    _token({"offset": 1e308}),
    _token({"created_at": float("inf"), "key": "x"}),
    _token({"created_at": 1e308, "key": "\x00"}),
    _token({"created_at": 0, "key": "k" * 10_000}),
    _token({"sequence": 2**63}),
    _token([1, 2, 3]),
    "!!!not-base64!!!",
    "e30",  # "{}" without padding
]

ADVERSARIAL_STRINGS = [
    "",
    " ",
    "a" * 129,
    "a" * 257,
    "a" * 20_000,
    "m" * 70_000,
    "\x00",
    "x\x00y",
    "\ud7ff\ue000",
    "Åsa Öberg 张伟 🙂",
    "../../etc/passwd",
    "assessments/",
    "assessments/x/y",
    "batchJobs/" + "z" * 300,
    "comparisons/\x00",
    "' OR 1=1 --",
    "%s%s%s",
    "e1",
    "latent_bt",
    "mock",
    "letter_a_to_f",
    "swedish_f_to_a",
]

ADVERSARIAL_INTS = [
    0,
    1,
    -1,
    2,
    100,
    1001,
    10_001,
    32_768,
    2**31 - 1,
    -(2**31),
    2**32 - 1,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
]
ADVERSARIAL_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-320, 1e308, float("nan"), float("inf"), float("-inf")]


def _ints(field: d.FieldDescriptor) -> st.SearchStrategy[int]:
    low, high = INT_RANGES[field.type]
    edges = [value for value in ADVERSARIAL_INTS if low <= value <= high] + [low, high]
    return st.one_of(st.integers(min_value=max(low, -1000), max_value=min(high, 100_000)), st.sampled_from(edges))


def _strings(field: d.FieldDescriptor) -> st.SearchStrategy[str]:
    ordinary = st.text(max_size=40)
    if field.name.endswith("page_token"):
        return st.one_of(ordinary, st.sampled_from(ADVERSARIAL_TOKENS), st.sampled_from(ADVERSARIAL_STRINGS))
    return st.one_of(ordinary, st.sampled_from(ADVERSARIAL_STRINGS))


def _timestamp() -> st.SearchStrategy[dict[str, int]]:
    seconds = st.one_of(
        st.integers(min_value=0, max_value=4_102_444_800),
        st.sampled_from([-1, -62_135_596_801, 253_402_300_800, 2**63 - 1, -(2**63)]),
    )
    nanos = st.one_of(st.integers(min_value=0, max_value=999_999_999), st.sampled_from([-1, 10**9, 2**31 - 1]))
    return st.fixed_dictionaries({"seconds": seconds, "nanos": nanos})


def _duration() -> st.SearchStrategy[dict[str, int]]:
    seconds = st.one_of(
        st.integers(min_value=0, max_value=10**6), st.sampled_from([-1, 315_576_000_001, 2**63 - 1, -(2**63)])
    )
    nanos = st.one_of(st.integers(min_value=0, max_value=999_999_999), st.sampled_from([-1, 10**9]))
    return st.fixed_dictionaries({"seconds": seconds, "nanos": nanos})


def _scalar(field: d.FieldDescriptor) -> st.SearchStrategy[object]:
    kind = field.type
    if kind in INT_RANGES:
        return _ints(field)
    if kind == d.FieldDescriptor.TYPE_STRING:
        return _strings(field)
    if kind == d.FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if kind == d.FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == d.FieldDescriptor.TYPE_DOUBLE:
        return st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(ADVERSARIAL_FLOATS))
    if kind == d.FieldDescriptor.TYPE_FLOAT:
        return st.one_of(st.floats(width=32, allow_nan=True, allow_infinity=True), st.sampled_from(ADVERSARIAL_FLOATS))
    if kind == d.FieldDescriptor.TYPE_ENUM:
        defined = [value.number for value in field.enum_type.values]
        return st.one_of(st.sampled_from(defined), st.integers(min_value=-3, max_value=1000))
    raise TypeError(f"no strategy for field type {kind} of {field.full_name}")


def _message_class(descriptor: d.Descriptor) -> type[m.Message]:
    return symbol_database.Default().GetSymbol(descriptor.full_name)


def _value(field: d.FieldDescriptor, depth: int) -> st.SearchStrategy[object]:
    if field.type == d.FieldDescriptor.TYPE_MESSAGE:
        return messages(field.message_type, depth + 1)
    return _scalar(field)


def _assign(message: m.Message, field: d.FieldDescriptor, value: object) -> None:
    target = getattr(message, field.name)
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        for key, item in value:  # type: ignore[attr-defined]
            if value_field.type == d.FieldDescriptor.TYPE_MESSAGE:
                target[key].CopyFrom(item)
            else:
                target[key] = item
        del key_field
        return
    if field.is_repeated:
        if field.type == d.FieldDescriptor.TYPE_MESSAGE:
            for item in value:  # type: ignore[attr-defined]
                target.add().CopyFrom(item)
        else:
            target.extend(value)  # type: ignore[arg-type]
        return
    if field.type == d.FieldDescriptor.TYPE_MESSAGE:
        target.CopyFrom(value)
    else:
        setattr(message, field.name, value)


def _field_strategy(field: d.FieldDescriptor, depth: int) -> st.SearchStrategy[object]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        entry = field.message_type
        pair = st.tuples(_value(entry.fields_by_name["key"], depth), _value(entry.fields_by_name["value"], depth))
        return st.lists(pair, max_size=3)
    if field.is_repeated:
        return st.lists(_value(field, depth), max_size=4)
    return _value(field, depth)


MAX_DEPTH = 3


def _raw_time_class() -> type[m.Message]:
    """A message with Timestamp's and Duration's wire layout but no range checks on assignment,
    so out-of-range values can be put on the wire (parsing does not check them either)."""
    pool = descriptor_pool.DescriptorPool()
    proto = descriptor_pb2.FileDescriptorProto(name="fuzz_raw_time.proto", package="fuzz", syntax="proto3")
    raw = proto.message_type.add(name="RawTime")
    raw.field.add(name="seconds", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_INT64)
    raw.field.add(name="nanos", number=2, type=descriptor_pb2.FieldDescriptorProto.TYPE_INT32)
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("fuzz.RawTime"))


RAW_TIME = _raw_time_class()


def _time_message(cls: type[m.Message], values: dict[str, int]) -> m.Message:
    message = cls()
    message.ParseFromString(RAW_TIME(**values).SerializeToString())
    return message


@st.composite
def _build(draw: st.DrawFn, descriptor: d.Descriptor, depth: int) -> m.Message:
    cls = _message_class(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        return _time_message(cls, draw(_timestamp()))
    if descriptor.full_name == "google.protobuf.Duration":
        return _time_message(cls, draw(_duration()))
    message = cls()
    for field in descriptor.fields:
        if depth >= MAX_DEPTH and field.type == d.FieldDescriptor.TYPE_MESSAGE:
            continue
        if not draw(st.booleans()):
            continue  # absent: the default, which fuzzes required-field checks
        _assign(message, field, draw(_field_strategy(field, depth)))
    return message


def messages(descriptor: d.Descriptor, depth: int = 0) -> st.SearchStrategy[m.Message]:
    """Any message of `descriptor`'s type, fields present or absent at random."""
    return _build(descriptor, depth)


@st.composite
def _mutate(draw: st.DrawFn, base: m.Message, depth: int) -> m.Message:
    message = type(base)()
    message.CopyFrom(base)
    for field in base.DESCRIPTOR.fields:
        choice = draw(st.integers(min_value=0, max_value=7))
        if choice == 0:
            message.ClearField(field.name)
        elif choice == 1:
            message.ClearField(field.name)
            _assign(message, field, draw(_field_strategy(field, depth)))
        elif choice == 2 and field.type == d.FieldDescriptor.TYPE_MESSAGE and depth < MAX_DEPTH:
            _mutate_nested(draw, message, field, depth)
    return message


def _mutate_nested(draw: st.DrawFn, message: m.Message, field: d.FieldDescriptor, depth: int) -> None:
    if field.message_type.GetOptions().map_entry:
        return
    target = getattr(message, field.name)
    if field.is_repeated:
        if len(target):
            index = draw(st.integers(min_value=0, max_value=len(target) - 1))
            target[index].CopyFrom(draw(_mutate(target[index], depth + 1)))
    elif message.HasField(field.name):
        target.CopyFrom(draw(_mutate(target, depth + 1)))


def mutations(base: m.Message) -> st.SearchStrategy[m.Message]:
    """`base` with some fields cleared, replaced by generated values, or mutated in depth."""
    return _mutate(base, 0)
