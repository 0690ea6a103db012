"""Server interceptors, outermost first:

1. `RequestContextInterceptor`: request id (from `x-request-id` or new) in a
   context variable and response metadata, and one JSON log line per call.
2. `MetricsInterceptor`: go-grpc-prometheus counters and histogram, counting
   crashes as Unknown and expired deadlines as DeadlineExceeded.
3. `AuthInterceptor`: bearer tokens from `authorization` metadata; health and
   reflection are exempt; no tokens configured means the server is open.
4. `ErrorMappingInterceptor`: the one place domain errors become statuses.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from service_core import errors
from service_core.logs import caller_var, request_id_var
from service_core.metrics import GrpcServerMetrics
from service_core.rpc import (
    GO_CODE_NAMES,
    INFRASTRUCTURE_SERVICES,
    as_status_code,
    call_type,
    invoke_unary,
    iterate_stream,
    split_method,
    wrap_handler,
)

log = logging.getLogger("service_core.rpc")

REQUEST_ID_KEY = "x-request-id"
peer_var: contextvars.ContextVar[str] = contextvars.ContextVar("peer", default="")

Continuation = Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]]


def _metadata_value(metadata: Any, key: str) -> str:
    for item in metadata or ():
        if item[0] == key:
            value = item[1]
            return value.decode() if isinstance(value, bytes) else value
    return ""


def outcome_code(context: grpc.aio.ServicerContext, exc: BaseException | None) -> grpc.StatusCode:
    """The status a call ended with, as the client will see it.

    A done-callback reading `context.code()` reports OK for crashes and expired
    deadlines, so the outcome is decided from the exception instead.
    """
    if exc is None:
        return as_status_code(context.code()) or grpc.StatusCode.OK
    if isinstance(exc, grpc.aio.AbortError):
        return as_status_code(context.code()) or grpc.StatusCode.UNKNOWN
    if isinstance(exc, asyncio.CancelledError):
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


class _WrappingInterceptor(grpc.aio.ServerInterceptor):
    """Wraps each handler's behaviour with `around_unary` / `around_stream`."""

    def applies_to(self, service: str) -> bool:
        return True

    async def intercept_service(
        self, continuation: Continuation, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None:
            return None
        service, method = split_method(details.method)
        if not self.applies_to(service):
            return handler
        kind = call_type(handler)

        async def unary(behavior, request, context):
            return await self.around_unary(behavior, request, context, service, method, kind)

        def stream(behavior, request, context):
            return self.around_stream(behavior, request, context, service, method, kind)

        return wrap_handler(handler, unary, stream)

    async def around_unary(self, behavior, request, context, service: str, method: str, kind: str) -> Any:
        return await invoke_unary(behavior, request, context)

    async def around_stream(self, behavior, request, context, service: str, method: str, kind: str) -> AsyncIterator:
        async for item in iterate_stream(behavior, request, context):
            yield item


class RequestContextInterceptor(_WrappingInterceptor):
    """Request id, JSON log line per call, and the set of tasks running handlers (for shutdown)."""

    def __init__(self) -> None:
        self.in_flight: set[asyncio.Task] = set()

    def _track(self) -> asyncio.Task | None:
        task = asyncio.current_task()
        if task is not None:
            self.in_flight.add(task)
        return task

    async def _begin(self, context: grpc.aio.ServicerContext) -> tuple[str, float]:
        request_id = _metadata_value(context.invocation_metadata(), REQUEST_ID_KEY) or uuid.uuid4().hex
        request_id_var.set(request_id)
        # Read the peer now: after a cancelled stream ends, the C call behind the context may be gone.
        peer_var.set(context.peer())
        await context.send_initial_metadata(((REQUEST_ID_KEY, request_id),))
        return request_id, time.perf_counter()

    def _end(self, context, exc, service, method, started) -> None:
        code = outcome_code(context, exc)
        level = logging.DEBUG if service in INFRASTRUCTURE_SERVICES else logging.INFO
        if code in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS):
            level = logging.ERROR
        log.log(
            level,
            "rpc finished",
            extra={
                "grpc_service": service,
                "grpc_method": method,
                "grpc_code": code.name,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "peer": peer_var.get(),
            },
        )

    async def around_unary(self, behavior, request, context, service, method, kind):
        task = self._track()
        exc: BaseException | None = None
        started = time.perf_counter()
        try:
            _, started = await self._begin(context)
            return await invoke_unary(behavior, request, context)
        except BaseException as caught:
            exc = caught
            raise
        finally:
            self._end(context, exc, service, method, started)
            self.in_flight.discard(task)

    async def around_stream(self, behavior, request, context, service, method, kind):
        task = self._track()
        exc: BaseException | None = None
        started = time.perf_counter()
        try:
            _, started = await self._begin(context)
            async for item in iterate_stream(behavior, request, context):
                yield item
        except BaseException as caught:
            exc = caught
            raise
        finally:
            self._end(context, exc, service, method, started)
            self.in_flight.discard(task)


class MetricsInterceptor(_WrappingInterceptor):
    def __init__(self, metrics: GrpcServerMetrics):
        self.metrics = metrics

    def _begin(self, kind, service, method, request) -> tuple[tuple[str, str, str], float]:
        labels = (kind, service, method)
        self.metrics.started.labels(*labels).inc()
        if kind in ("unary", "server_stream"):
            self.metrics.msg_received.labels(*labels).inc()
        return labels, time.perf_counter()

    def _count_requests(self, labels, request_iterator):
        received = self.metrics.msg_received.labels(*labels)

        async def counted():
            async for message in request_iterator:
                received.inc()
                yield message

        return counted()

    def _end(self, labels, context, exc, started) -> None:
        code = outcome_code(context, exc)
        self.metrics.handled.labels(*labels, GO_CODE_NAMES[code]).inc()
        self.metrics.handling_seconds.labels(*labels).observe(time.perf_counter() - started)

    async def around_unary(self, behavior, request, context, service, method, kind):
        labels, started = self._begin(kind, service, method, request)
        if kind == "client_stream":
            request = self._count_requests(labels, request)
        exc: BaseException | None = None
        try:
            response = await invoke_unary(behavior, request, context)
            self.metrics.msg_sent.labels(*labels).inc()
            return response
        except BaseException as caught:
            exc = caught
            raise
        finally:
            self._end(labels, context, exc, started)

    async def around_stream(self, behavior, request, context, service, method, kind):
        labels, started = self._begin(kind, service, method, request)
        if kind == "bidi_stream":
            request = self._count_requests(labels, request)
        sent = self.metrics.msg_sent.labels(*labels)
        exc: BaseException | None = None
        try:
            async for item in iterate_stream(behavior, request, context):
                sent.inc()
                yield item
        except BaseException as caught:
            exc = caught
            raise
        finally:
            self._end(labels, context, exc, started)


class AuthInterceptor(_WrappingInterceptor):
    """Bearer-token check. `tokens` maps token -> caller name; empty means open."""

    def __init__(self, tokens: dict[str, str], domain: str):
        self.tokens = dict(tokens)
        self.domain = domain

    def applies_to(self, service: str) -> bool:
        return bool(self.tokens) and service not in INFRASTRUCTURE_SERVICES

    def _caller(self, context: grpc.aio.ServicerContext) -> str | None:
        header = _metadata_value(context.invocation_metadata(), "authorization")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        for known, name in self.tokens.items():
            if hmac.compare_digest(known.encode(), token.strip().encode()):
                return name
        return None

    async def _authenticate(self, context) -> None:
        caller = self._caller(context)
        if caller is None:
            status = errors.status_for(
                grpc.StatusCode.UNAUTHENTICATED,
                "missing or invalid bearer token in 'authorization' metadata",
                "INVALID_TOKEN",
                self.domain,
            )
            await context.abort_with_status(rpc_status.to_status(status))
        caller_var.set(caller)

    async def around_unary(self, behavior, request, context, service, method, kind):
        await self._authenticate(context)
        return await invoke_unary(behavior, request, context)

    async def around_stream(self, behavior, request, context, service, method, kind):
        await self._authenticate(context)
        async for item in iterate_stream(behavior, request, context):
            yield item


class ErrorMappingInterceptor(_WrappingInterceptor):
    """Maps domain exceptions to `google.rpc.Status`; anything unexpected is INTERNAL
    with a generic message (the details go to the log, not the client)."""

    def __init__(self, domain: str):
        self.domain = domain

    def status_for_exception(self, exc: Exception, service: str, method: str):
        if isinstance(exc, errors.DomainError):
            return errors.domain_error_to_status(exc, self.domain)
        if isinstance(exc, NotImplementedError):
            return errors.status_for(
                grpc.StatusCode.UNIMPLEMENTED,
                f"{service}/{method} is not implemented yet",
                "NOT_IMPLEMENTED",
                self.domain,
            )
        log.error("unhandled exception in %s/%s", service, method, exc_info=exc)
        return errors.status_for(
            grpc.StatusCode.INTERNAL, "internal error; see the server log for this request id", "INTERNAL", self.domain
        )

    async def around_unary(self, behavior, request, context, service, method, kind):
        try:
            return await invoke_unary(behavior, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await context.abort_with_status(rpc_status.to_status(self.status_for_exception(exc, service, method)))

    async def around_stream(self, behavior, request, context, service, method, kind):
        try:
            async for item in iterate_stream(behavior, request, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await context.abort_with_status(rpc_status.to_status(self.status_for_exception(exc, service, method)))
