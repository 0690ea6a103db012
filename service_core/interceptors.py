"""The per-call stack every server runs, in this order for each call:

1. **Request id**: `x-request-id` from the caller's metadata (or a new one) in a context
   variable for the logs, and echoed in the *trailing* metadata (trailers are sent anyway; a
   separate `send_initial_metadata` would cost a round of the completion queue per call).
2. **Metrics**: the go-grpc-prometheus counters and histogram, decided from how the call ended
   (a crash is Internal, an expired deadline DeadlineExceeded, a client that cancels
   Canceled).
3. **Drain**: once shutdown has begun, new business calls answer UNAVAILABLE at once, so
   clients retry elsewhere (health and reflection still answer).
4. **Auth**: bearer tokens from `authorization` metadata; health and reflection are exempt; no
   tokens configured means the server is open.
5. **Request parsing**: bytes that do not parse as the request message answer INVALID_ARGUMENT
   (after auth: an anonymous caller learns nothing about the contract).
6. **Error mapping**: the one place domain errors become `google.rpc.Status`; anything
   unexpected is INTERNAL with a generic message (the details go to the log).
7. **Access log**: one JSON line per call at DEBUG; calls that end in an error, and unary calls
   slower than `log_slow_call_seconds`, at INFO (server faults at ERROR). See README.

It is one wrapper per method, built once when the method is registered (`CallStack.registrar`),
not a chain of `grpc.aio.ServerInterceptor`s run on every call: that chain costs an awaited
continuation, a handler lookup and a handler object per interceptor per call.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import grpc
from grpc_status import rpc_status

from service_core import errors
from service_core.db import is_transient_database_error
from service_core.logs import caller_var, request_id_var
from service_core.metrics import GrpcServerMetrics
from service_core.rpc import GO_CODE_NAMES, INFRASTRUCTURE_SERVICES, as_status_code, call_type, split_method

log = logging.getLogger("service_core.rpc")

REQUEST_ID_KEY = "x-request-id"
SERVER_FAULTS = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS})
QUIET_CODES = frozenset({grpc.StatusCode.OK, grpc.StatusCode.CANCELLED})
DRAIN_RETRY_SECONDS = 0.5
DATABASE_RETRY_SECONDS = 1.0  # RetryInfo of UNAVAILABLE when the database could not serve a call

# Request ids need to be unique, not secret: 64 random bits per process and a counter (no
# system call per call, unlike uuid4).
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


class Unparseable:
    """What a request deserializer yields for bytes that are not the request message."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """A deserializer that returns `Unparseable` instead of raising (grpc would answer UNKNOWN)."""
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as exc:
            return Unparseable(exc)

    return deserialize


def _unparseable_error() -> errors.InvalidArgument:
    return errors.InvalidArgument(
        errors.FieldViolation("request", "the bytes received do not parse as this method's request message"),
        reason="MALFORMED_REQUEST",
    )


def outcome_code(context: grpc.aio.ServicerContext[Any, Any], exc: BaseException | None) -> grpc.StatusCode:
    """The status a call ended with, as the client sees it, decided from the exception that ended
    it (a done-callback reading `context.code()` reports OK for crashes and expired deadlines)."""
    if exc is None:
        return as_status_code(context.code()) or grpc.StatusCode.OK
    if isinstance(exc, grpc.aio.AbortError):
        return as_status_code(context.code()) or grpc.StatusCode.UNKNOWN
    if isinstance(exc, asyncio.CancelledError | GeneratorExit | grpc.aio.BaseError):
        # GeneratorExit: the consumer of a stream stopped iterating (the client went away).
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


class _Method:
    """Everything about one method that does not change between calls, looked up once."""

    __slots__ = ("authenticate", "infrastructure", "kind", "name", "service", "stats")

    def __init__(self, full_method: str, kind: str, metrics: GrpcServerMetrics, authenticate: bool):
        self.service, self.name = split_method(full_method)
        self.kind = kind
        self.infrastructure = self.service in INFRASTRUCTURE_SERVICES
        self.authenticate = authenticate and not self.infrastructure
        self.stats = metrics.method(kind, self.service, self.name)


class _Call:
    """Per-call state: request id, start time and the outcome."""

    __slots__ = ("code", "exc", "request_id", "started", "task")

    def __init__(self, request_id: str, task: asyncio.Task[Any] | None) -> None:
        self.request_id = request_id
        self.task = task
        self.started = time.perf_counter()
        self.code = grpc.StatusCode.OK
        self.exc: BaseException | None = None


class CallStack:
    """Request id, metrics, drain, auth, parsing, error mapping and access log for every call."""

    def __init__(
        self,
        *,
        domain: str,
        metrics: GrpcServerMetrics,
        tokens: dict[str, str] | None = None,
        slow_call_seconds: float = 1.0,
        request_check: Callable[[Any], None] | None = None,
    ) -> None:
        self.domain = domain
        # Runs on every parsed business request after auth (raise InvalidArgument to refuse it):
        # the place for descriptor-driven limits that apply to every RPC.
        self.request_check = request_check
        self.metrics = metrics
        self.tokens = [(token.encode(), name) for token, name in (tokens or {}).items()]
        self.slow_call_seconds = slow_call_seconds
        self.in_flight: dict[asyncio.Task[Any], bool] = {}  # handler task -> is it a business call
        self.draining = False
        self.last_refused = 0.0  # monotonic time of the last call refused while draining

    def running(self, *, business_only: bool = False) -> list[asyncio.Task[Any]]:
        """Handler tasks still running (business calls only: not health or reflection)."""
        tasks = self.in_flight.items()
        return [task for task, business in tasks if not task.done() and (business or not business_only)]

    # -- registration -------------------------------------------------------------------------

    def registrar(self, server: grpc.aio.Server) -> grpc.aio.Server:
        """A stand-in for `server` that wraps every handler added through it."""
        return _Registrar(server, self)

    def wrap(self, full_method: str, handler: grpc.RpcMethodHandler[Any, Any]) -> grpc.RpcMethodHandler[Any, Any]:
        method = _Method(full_method, call_type(handler), self.metrics, bool(self.tokens))
        serializers = {
            "request_deserializer": tolerant(handler.request_deserializer),
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(self._unary(method, handler.unary_unary), **serializers)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(self._unary(method, handler.stream_unary), **serializers)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(self._stream(method, handler.unary_stream), **serializers)
        if handler.stream_stream is None:
            raise TypeError(f"{full_method}: the handler has no behaviour")
        return grpc.stream_stream_rpc_method_handler(self._stream(method, handler.stream_stream), **serializers)

    def _unary(self, method: _Method, inner: Callable[..., Any]) -> Callable[..., Any]:
        is_coroutine = inspect.iscoroutinefunction(inner)

        async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            call = self._begin(method, context)
            try:
                request = self._admit(method, request, context)
                if is_coroutine:
                    response = await inner(request, context)
                else:
                    response = inner(request, context)
                    if inspect.isawaitable(response):
                        response = await response
                code = context.code()
                if code is None or code is grpc.StatusCode.OK:
                    method.stats.sent += 1
                else:
                    call.code = as_status_code(code) or grpc.StatusCode.OK
                return response
            except Exception as exc:
                await self._fail(method, context, call, exc)
            except BaseException as exc:
                call.exc, call.code = exc, outcome_code(context, exc)
                raise
            finally:
                self._finish(method, context, call)

        return handle

    def _stream(self, method: _Method, inner: Callable[..., Any]) -> Callable[..., Any]:
        async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
            call = self._begin(method, context)
            responses: Any = None
            try:
                request = self._admit(method, request, context)
                responses = inner(request, context)
                if inspect.isawaitable(responses):  # a coroutine handler that writes for itself
                    responses = await responses
                await self._send_all(method, context, responses)
                responses = None  # ran to its end: nothing to close (aclose costs ~10 µs)
                if context.code() is not None:
                    call.code = as_status_code(context.code()) or grpc.StatusCode.OK
            except Exception as exc:
                await self._fail(method, context, call, exc)
            except BaseException as exc:
                call.exc, call.code = exc, outcome_code(context, exc)
                raise
            finally:
                await _close(responses)
                self._finish(method, context, call)

        return handle

    @staticmethod
    async def _send_all(method: _Method, context: grpc.aio.ServicerContext[Any, Any], responses: Any) -> None:
        if responses is None:
            return
        stats = method.stats
        if hasattr(responses, "__aiter__"):
            async for item in responses:
                await context.write(item)
                stats.sent += 1
        else:
            for item in responses:
                await context.write(item)
                stats.sent += 1

    # -- the steps ----------------------------------------------------------------------------

    def _begin(self, method: _Method, context: grpc.aio.ServicerContext[Any, Any]) -> _Call:
        task = asyncio.current_task()
        if task is not None:
            self.in_flight[task] = not method.infrastructure
        request_id = authorization = ""
        for key, value in context.invocation_metadata() or ():
            if key == REQUEST_ID_KEY:
                request_id = value if isinstance(value, str) else value.decode(errors="replace")
            elif key == "authorization":
                authorization = value if isinstance(value, str) else value.decode(errors="replace")
        request_id = request_id[:128] if request_id else new_request_id()  # it goes back as a header
        request_id_var.set(request_id)
        context.set_trailing_metadata(((REQUEST_ID_KEY, request_id),))
        method.stats.started += 1
        if method.authenticate:
            caller_var.set(self._caller(authorization) or "")
        return _Call(request_id, task)

    def _admit(self, method: _Method, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        if self.draining and not method.infrastructure:
            self.last_refused = time.monotonic()
            raise errors.Unavailable(
                "the server is shutting down; retry on another replica",
                retry_after_seconds=DRAIN_RETRY_SECONDS,
                reason="SHUTTING_DOWN",
            )
        if method.authenticate and not caller_var.get():
            raise errors.Unauthenticated(
                "missing or invalid bearer token in 'authorization' metadata", reason="INVALID_TOKEN"
            )
        if method.kind in ("client_stream", "bidi_stream"):
            return _checked_stream(method, request, None if method.infrastructure else self.request_check)
        method.stats.received += 1
        if isinstance(request, Unparseable):
            raise _unparseable_error()
        if self.request_check is not None and not method.infrastructure:
            self.request_check(request)
        return request

    def _caller(self, authorization: str) -> str | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        presented = token.strip().encode()
        found = None
        for known, name in self.tokens:  # compare with every token: timing says nothing
            if hmac.compare_digest(known, presented):
                found = name
        return found

    async def _fail(
        self, method: _Method, context: grpc.aio.ServicerContext[Any, Any], call: _Call, exc: Exception
    ) -> None:
        """End the call with the status `exc` maps to (this raises grpc's AbortError)."""
        if isinstance(exc, grpc.aio.AbortError):  # the servicer aborted by itself
            call.code = as_status_code(context.code()) or grpc.StatusCode.UNKNOWN
            raise exc
        if isinstance(exc, grpc.aio.BaseError):  # the call is gone (server stopped, RPC finished)
            call.exc, call.code = exc, outcome_code(context, exc)
            raise exc
        status = self.status_for_exception(exc, method)
        call.code = as_status_code(status.code) or grpc.StatusCode.UNKNOWN
        call.exc = exc if call.code in SERVER_FAULTS else None
        trailers = (*rpc_status.to_status(status).trailing_metadata, (REQUEST_ID_KEY, call.request_id))
        await context.abort(call.code, status.message, trailers)

    def status_for_exception(self, exc: Exception, method: _Method) -> Any:
        if isinstance(exc, errors.DomainError):
            return errors.domain_error_to_status(exc, self.domain)
        if isinstance(exc, NotImplementedError):
            return errors.status_for(
                grpc.StatusCode.UNIMPLEMENTED,
                f"{method.service}/{method.name} is not implemented yet",
                "NOT_IMPLEMENTED",
                self.domain,
            )
        if is_transient_database_error(exc):
            log.warning("%s/%s: the database is unavailable: %r", method.service, method.name, exc)
            return errors.domain_error_to_status(
                errors.Unavailable(
                    "the database is unavailable; retry shortly",
                    retry_after_seconds=DATABASE_RETRY_SECONDS,
                    reason="DATABASE_UNAVAILABLE",
                ),
                self.domain,
            )
        log.error("unhandled exception in %s/%s", method.service, method.name, exc_info=exc)
        return errors.status_for(
            grpc.StatusCode.INTERNAL, "internal error; see the server log for this request id", "INTERNAL", self.domain
        )

    def _finish(self, method: _Method, context: grpc.aio.ServicerContext[Any, Any], call: _Call) -> None:
        elapsed = time.perf_counter() - call.started
        stats = method.stats
        stats.count_handled(GO_CODE_NAMES[call.code])
        stats.observe(elapsed)
        if call.task is not None:
            self.in_flight.pop(call.task, None)
        level = self._level(method, call.code, elapsed)
        if log.isEnabledFor(level):
            log.log(
                level,
                "rpc finished",
                extra={
                    "grpc_service": method.service,
                    "grpc_method": method.name,
                    "grpc_code": call.code.name,
                    "duration_ms": round(elapsed * 1000, 3),
                    "peer": _peer(context),
                },
            )

    def _level(self, method: _Method, code: grpc.StatusCode, elapsed: float) -> int:
        if code is grpc.StatusCode.OK:  # the common case first, without hashing the enum
            slow = elapsed >= self.slow_call_seconds and method.kind in ("unary", "client_stream")
            return logging.INFO if slow and not method.infrastructure else logging.DEBUG
        if code in SERVER_FAULTS:
            return logging.ERROR
        if method.infrastructure:
            return logging.DEBUG
        if code not in QUIET_CODES:
            return logging.INFO
        slow = method.kind in ("unary", "client_stream") and elapsed >= self.slow_call_seconds
        return logging.INFO if slow else logging.DEBUG


def _checked_stream(method: _Method, requests: Any, check: Callable[[Any], None] | None) -> Any:
    async def checked() -> Any:
        async for message in requests:
            method.stats.received += 1
            if isinstance(message, Unparseable):
                raise _unparseable_error()
            if check is not None:
                check(message)
            yield message

    return checked()


async def _close(responses: Any) -> None:
    """Close a response generator now, in this task, so its cleanup runs before the call ends."""
    close = getattr(responses, "aclose", None)
    if close is None:
        return
    try:
        await close()
    except Exception:
        log.exception("a response stream failed while closing")


def _peer(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    try:
        return context.peer()
    except Exception:
        return ""


class _WrappedGenericHandler(grpc.GenericRpcHandler):
    def __init__(self, inner: grpc.GenericRpcHandler, stack: CallStack) -> None:
        self._inner = inner
        self._stack = stack
        self._cache: dict[str, tuple[Any, grpc.RpcMethodHandler[Any, Any]]] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = self._inner.service(handler_call_details)
        if handler is None:
            return None
        full_method = handler_call_details.method
        cached = self._cache.get(full_method)
        if cached is None or cached[0] is not handler:
            cached = self._cache[full_method] = (handler, self._stack.wrap(full_method, handler))
        return cached[1]


class _Registrar(grpc.aio.Server):
    """Passed to `add_*Servicer_to_server`: wraps each handler once, then hands it to the server."""

    def __init__(self, server: grpc.aio.Server, stack: CallStack) -> None:
        self._server = server
        self._stack = stack

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers(
            tuple(_WrappedGenericHandler(handler, self._stack) for handler in generic_rpc_handlers)
        )

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: Mapping[str, grpc.RpcMethodHandler[Any, Any]]
    ) -> None:
        wrapped = {
            name: self._stack.wrap(f"/{service_name}/{name}", handler) for name, handler in method_handlers.items()
        }
        self._server.add_registered_method_handlers(service_name, wrapped)

    def add_insecure_port(self, address: str) -> int:
        return self._server.add_insecure_port(address)

    def add_secure_port(self, address: str, server_credentials: grpc.ServerCredentials) -> int:
        return self._server.add_secure_port(address, server_credentials)

    async def start(self) -> None:
        await self._server.start()

    async def stop(self, grace: float | None) -> None:
        await self._server.stop(grace)

    async def wait_for_termination(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 (grpc's API)
        return await self._server.wait_for_termination(timeout)
