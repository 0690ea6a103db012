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
import contextlib
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
MAX_ACCEPTED_HEADERS = 64

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

    __slots__ = (
        "authenticate",
        "check",
        "infrastructure",
        "kind",
        "logs_slow",
        "name",
        "service",
        "stats",
        "streams_in",
    )

    def __init__(
        self,
        full_method: str,
        kind: str,
        metrics: GrpcServerMetrics,
        authenticate: bool,
        check: Callable[[Any], None] | None,
    ):
        self.service, self.name = split_method(full_method)
        self.kind = kind
        self.infrastructure = self.service in INFRASTRUCTURE_SERVICES
        self.authenticate = authenticate and not self.infrastructure
        self.check = None if self.infrastructure else check
        self.streams_in = kind in ("client_stream", "bidi_stream")
        self.logs_slow = kind in ("unary", "client_stream") and not self.infrastructure
        self.stats = metrics.method(kind, self.service, self.name)


class _Call:
    """Per-call state: request id, start time and the outcome."""

    __slots__ = ("caller", "code", "exc", "request_id", "started")

    def __init__(self, request_id: str, caller: str) -> None:
        self.request_id = request_id
        self.caller = caller
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
        # `authorization` values that matched a token, so that a caller's next call skips the
        # comparisons. Only matches are kept (a wrong token is compared every time, in constant
        # time), at most MAX_ACCEPTED_HEADERS; a lookup hashes the presented value with the
        # process's random hash key, so how long a miss takes says nothing about the tokens.
        self._accepted: dict[str, str] = {}
        self.slow_call_seconds = slow_call_seconds
        # Handlers running: counted, not kept by task (asyncio.current_task costs a call per RPC).
        self.calls = 0
        self.business_calls = 0
        self._finished: asyncio.Event | None = None  # set when a call finishes, while someone waits
        self.draining = False
        self.last_refused = 0.0  # monotonic time of the last call refused while draining

    def running(self, *, business_only: bool = False) -> int:
        """How many handlers are running (business calls only: not health or reflection)."""
        return self.business_calls if business_only else self.calls

    async def wait_for_calls(self, seconds: float, *, business_only: bool = False) -> int:
        """Wait until no handler runs (business calls only: not health or reflection), at most
        `seconds`; how many still run then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self.running(business_only=business_only) and (left := deadline - loop.time()) > 0:
            self._finished = finished = self._finished or asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), left)
            finished.clear()
        return self.running(business_only=business_only)

    # -- registration -------------------------------------------------------------------------

    def registrar(self, server: grpc.aio.Server) -> grpc.aio.Server:
        """A stand-in for `server` that wraps every handler added through it."""
        return _Registrar(server, self)

    def wrap(self, full_method: str, handler: grpc.RpcMethodHandler[Any, Any]) -> grpc.RpcMethodHandler[Any, Any]:
        method = _Method(full_method, call_type(handler), self.metrics, bool(self.tokens), self.request_check)
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
                request = self._admit(method, request, call)
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
        generates = inspect.isasyncgenfunction(inner)  # else it returns an iterable or writes itself

        async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
            call = self._begin(method, context)
            responses: Any = None
            sent = 0
            try:
                request = self._admit(method, request, call)
                responses = inner(request, context) if generates else await _responses(inner(request, context))
                if responses is not None:
                    # The loop is here, not in a helper: each write's resumption passes through every
                    # coroutine frame awaiting it, so a helper would cost a frame per message.
                    write = context.write
                    async for item in responses:
                        await write(item)
                        sent += 1
                responses = None  # ran to its end: nothing to close (aclose costs ~10 µs)
                code = context.code()
                if code is not None:
                    call.code = as_status_code(code) or grpc.StatusCode.OK
            except Exception as exc:
                await self._fail(method, context, call, exc)
            except BaseException as exc:
                call.exc, call.code = exc, outcome_code(context, exc)
                raise
            finally:
                method.stats.sent += sent
                if responses is not None:
                    await _close(responses)
                self._finish(method, context, call)

        return handle

    # -- the steps ----------------------------------------------------------------------------

    def _begin(self, method: _Method, context: grpc.aio.ServicerContext[Any, Any]) -> _Call:
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
        caller = ""
        if method.authenticate:
            caller = self._caller(authorization) or ""
            caller_var.set(caller)
        call = _Call(request_id, caller)
        # Counted last: from here on the handler's `finally` (_finish) uncounts it.
        self.calls += 1
        if not method.infrastructure:
            self.business_calls += 1
        return call

    def _admit(self, method: _Method, request: Any, call: _Call) -> Any:
        if self.draining and not method.infrastructure:
            self.last_refused = time.monotonic()
            raise errors.Unavailable(
                "the server is shutting down; retry on another replica",
                retry_after_seconds=DRAIN_RETRY_SECONDS,
                reason="SHUTTING_DOWN",
            )
        if method.authenticate and not call.caller:
            raise errors.Unauthenticated(
                "missing or invalid bearer token in 'authorization' metadata", reason="INVALID_TOKEN"
            )
        if method.streams_in:
            return _checked_stream(method, request, method.check)
        method.stats.received += 1
        if isinstance(request, Unparseable):
            raise _unparseable_error()
        if method.check is not None:
            method.check(request)
        return request

    def _caller(self, authorization: str) -> str | None:
        accepted = self._accepted.get(authorization)
        if accepted is not None:
            return accepted
        scheme, _, token = authorization.partition(" ")
        presented = token.strip().encode()
        if scheme.lower() != "bearer" or not presented:
            return None
        found = None
        for known, name in self.tokens:  # compare with every token: timing says nothing
            if hmac.compare_digest(known, presented):
                found = name
        if found is not None and len(self._accepted) < MAX_ACCEPTED_HEADERS:
            self._accepted[authorization] = found
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
        code = call.code
        stats.count_handled("OK" if code is grpc.StatusCode.OK else GO_CODE_NAMES[code])  # no Enum.__hash__
        stats.observe(elapsed)
        self.calls -= 1
        if not method.infrastructure:
            self.business_calls -= 1
        if self._finished is not None:
            self._finished.set()
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
            return logging.INFO if method.logs_slow and elapsed >= self.slow_call_seconds else logging.DEBUG
        if code in SERVER_FAULTS:
            return logging.ERROR
        if method.infrastructure:
            return logging.DEBUG
        if code not in QUIET_CODES:
            return logging.INFO
        slow = method.kind in ("unary", "client_stream") and elapsed >= self.slow_call_seconds
        return logging.INFO if slow else logging.DEBUG


async def _responses(returned: Any) -> Any:
    """What a stream handler other than an async generator returned, as an async iterator; None
    when it wrote its responses itself (a coroutine using `context.write`)."""
    if inspect.isawaitable(returned):
        returned = await returned
    if returned is None or hasattr(returned, "__aiter__"):
        return returned
    return _each(returned)


async def _each(responses: Iterable[Any]) -> Any:
    for item in responses:
        yield item


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
