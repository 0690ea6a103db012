"""Helpers for wrapping grpc.aio method handlers of all four call types."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

# Services every client may call without credentials, and that are kept out of business logs.
INFRASTRUCTURE_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)

_CODES_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}

# go-grpc-prometheus label values (the Go names of the codes).
GO_CODE_NAMES = {
    grpc.StatusCode.OK: "OK",
    grpc.StatusCode.CANCELLED: "Canceled",
    grpc.StatusCode.UNKNOWN: "Unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.ABORTED: "Aborted",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.UNIMPLEMENTED: "Unimplemented",
    grpc.StatusCode.INTERNAL: "Internal",
    grpc.StatusCode.UNAVAILABLE: "Unavailable",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthenticated",
}


def split_method(full_method: str) -> tuple[str, str]:
    """'/pkg.Service/Method' -> ('pkg.Service', 'Method')."""
    _, service, method = full_method.split("/", 2)
    return service, method


def call_type(handler: grpc.RpcMethodHandler) -> str:
    if handler.request_streaming and handler.response_streaming:
        return "bidi_stream"
    if handler.request_streaming:
        return "client_stream"
    if handler.response_streaming:
        return "server_stream"
    return "unary"


def as_status_code(value: Any) -> grpc.StatusCode | None:
    if value is None or isinstance(value, grpc.StatusCode):
        return value
    if isinstance(value, int):
        return _CODES_BY_NUMBER.get(value, grpc.StatusCode.UNKNOWN)
    return grpc.StatusCode.UNKNOWN


async def invoke_unary(behavior: Callable, request: Any, context: grpc.aio.ServicerContext) -> Any:
    """Call a unary-response behaviour, sync or async."""
    result = behavior(request, context)
    if inspect.isawaitable(result):
        result = await result
    return result


async def iterate_stream(behavior: Callable, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator:
    """Iterate a stream-response behaviour: async generator, sync generator or coroutine."""
    result = behavior(request, context)
    if inspect.isawaitable(result):
        result = await result
    if result is None:
        return
    if hasattr(result, "__aiter__"):
        async for item in result:
            yield item
    else:
        for item in result:
            yield item


UnaryWrapper = Callable[[Callable, Any, grpc.aio.ServicerContext], Any]
StreamWrapper = Callable[[Callable, Any, grpc.aio.ServicerContext], AsyncIterator]


def wrap_handler(handler: grpc.RpcMethodHandler, unary: UnaryWrapper, stream: StreamWrapper) -> grpc.RpcMethodHandler:
    """Return a handler whose behaviour runs through `unary` or `stream`.

    `unary(behavior, request, context)` is awaited for unary responses;
    `stream(behavior, request, context)` is an async generator for streamed ones.
    """
    serializers = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        inner = handler.unary_unary

        async def unary_unary(request, context):
            return await unary(inner, request, context)

        return grpc.unary_unary_rpc_method_handler(unary_unary, **serializers)
    if handler.unary_stream:
        inner = handler.unary_stream

        async def unary_stream(request, context):
            async for item in stream(inner, request, context):
                yield item

        return grpc.unary_stream_rpc_method_handler(unary_stream, **serializers)
    if handler.stream_unary:
        inner = handler.stream_unary

        async def stream_unary(request_iterator, context):
            return await unary(inner, request_iterator, context)

        return grpc.stream_unary_rpc_method_handler(stream_unary, **serializers)
    inner = handler.stream_stream

    async def stream_stream(request_iterator, context):
        async for item in stream(inner, request_iterator, context):
            yield item

    return grpc.stream_stream_rpc_method_handler(stream_stream, **serializers)
