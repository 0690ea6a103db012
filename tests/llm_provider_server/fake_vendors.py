"""A fake OpenAI + Anthropic HTTP server on loopback, speaking both vendors' wire formats.

It answers chat completions, messages, file uploads, OpenAI batches and Anthropic
message batches, and fails the way the vendors do:
- error bodies in each vendor's own shape (OpenAI `{"error": {"message", "type", "param",
  "code"}}`, Anthropic `{"type": "error", "error": {"type", "message"}}`), including a 401
  that echoes the key it was sent;
- request validation: unknown model names (404, as real servers and local ones answer),
  missing fields (400), invalid batch input (an OpenAI batch that fails validation, an
  Anthropic create refused);
- batches that end failed or expired with partial output (OpenAI `batch_expired` error
  lines; Anthropic `expired` items), and a cancelling phase that lasts several polls.

Tests script failures for the next calls (status codes with headers, delays past the
client's timeout, malformed bodies), of the judgement endpoints (`next`) or of any endpoint
by method and path (`next_at`, e.g. a batch poll), and read back what was asked of it:
every call with its time, and the most calls in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERROR_TYPES = {
    # status: (OpenAI type, OpenAI code, Anthropic type)
    400: ("invalid_request_error", "invalid_request", "invalid_request_error"),
    401: ("invalid_request_error", "invalid_api_key", "authentication_error"),
    403: ("invalid_request_error", "unsupported_country_region_territory", "permission_error"),
    404: ("invalid_request_error", "model_not_found", "not_found_error"),
    429: ("requests", "rate_limit_exceeded", "rate_limit_error"),
    500: ("server_error", "server_error", "api_error"),
    503: ("server_error", "service_unavailable", "api_error"),
    529: ("server_error", "overloaded", "overloaded_error"),
}


def error_body(vendor: str, status: int, message: str) -> bytes:
    """The error body `vendor` answers with for `status`."""
    openai_type, code, anthropic_type = ERROR_TYPES.get(status, ("api_error", "error", "api_error"))
    if vendor == "anthropic":
        body: dict[str, Any] = {"type": "error", "error": {"type": anthropic_type, "message": message}}
    else:
        body = {"error": {"message": message, "type": openai_type, "param": None, "code": code}}
    return json.dumps(body).encode()


def vendor_of(path: str) -> str:
    return "anthropic" if path.startswith("/v1/messages") else "openai"


def assert_paced(times: list[float], per_second: float, burst: int, stall: float = 0.25) -> None:
    """The vendor saw no more calls in any window than a token bucket of `burst` filling at `per_second`
    lets through: burst + per_second * (window + stall). The times are arrivals, not token takes: an
    event-loop stall or the first connection's setup can bunch calls that took their tokens apart, so
    a window is widened by `stall` (comparing each call with the first arrival alone failed that way)."""
    times = sorted(times)
    for i, start in enumerate(times):
        for j in range(i + 1, len(times)):
            allowed = burst + per_second * (times[j] - start + stall)
            count, window = j - i + 1, times[j] - start
            assert count <= allowed, f"calls {i}..{j}: {count} in {window:.3f} s, at most {allowed:.1f}"


@dataclass
class Scripted:
    """What to do instead of answering normally."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0
    verdict: Any = None  # replaces the verdict object (e.g. a malformed one)


@dataclass
class FakeBatch:
    vendor: str
    items: list[dict[str, Any]]  # [{"custom_id", "body"}]
    polls: int = 0
    cancel_calls: int = 0
    cancelled_at_poll: int | None = None
    errored_ids: set[str] = field(default_factory=set)
    outcome: str = "completed"  # or "expired" / "failed": ends so, with the first half done
    responses: dict[str, Any] = field(default_factory=dict)  # each item's reply, made once
    invalid: str = ""  # why an OpenAI batch fails validation

    @property
    def cancelled(self) -> bool:
        return self.cancel_calls > 0


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix (binary search over C-level slice compares)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class RequestInvalid(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class FakeVendors:
    """Start with `start()`; `url` is the base for both SDKs (OpenAI adds /v1 itself via base_url)."""

    def __init__(self, winner: str = "Essay A"):
        self.winner = winner
        self.script: deque[Scripted] = deque()
        self.scripts_at: dict[str, deque[Scripted]] = {}  # "METHOD /path prefix" -> for its next calls
        self.calls: list[tuple[float, str, str]] = []  # (time, method, path)
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, FakeBatch] = {}
        # Polls a batch stays in each state before moving on; "completed_without_output" models
        # a vendor that says completed before its output file is readable.
        self.batch_plan = ["validating", "in_progress", "finalizing", "completed_without_output", "completed"]
        self.batch_error_ids: set[str] = set()
        self.batch_outcome = "completed"  # "expired" / "failed": batches end so, half done
        self.cancel_polls = 2  # polls a cancelled batch stays cancelling (canceling)
        self.anthropic_polls = 3  # polls before an Anthropic batch has ended
        # Keys the vendor accepts (None: any); a wrong one gets a 401 that echoes it.
        self.keys: dict[str, str | None] = {"openai": None, "anthropic": None}
        # Model names the server knows (None: any); others get a 404, as real servers answer.
        self.models: set[str] | None = None
        self.refused: list[bytes] = []  # the 401 bodies sent
        # Prompt caching as the vendors do it (off: the fixed usage below). Tokens are
        # estimated at 4 characters each; a prefix of fewer than 1,024 tokens is never cached.
        self.simulate_cache = False
        self.cache_enabled = True  # with simulate_cache: False counts every prompt token as new input
        self._anthropic_cache: set[str] = set()
        self._openai_prompts: deque[str] = deque(maxlen=32)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeVendors:
        vendors = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                return

            def do_GET(self):
                vendors._handle(self, "GET")

            def do_POST(self):
                vendors._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def lps_settings(
        self, *, openai_key: str = "sk-test-openai", anthropic_key: str = "sk-ant-test-anthropic", **overrides: object
    ) -> dict[str, object]:
        """LPS settings overrides that send real provider calls to these fakes (both SDKs, real keys
        of the caller's choosing, so secret-scrubbing tests can search for them)."""
        return {
            "use_mock_llm": False,
            "openai_api_key": openai_key,
            "openai_base_url": f"{self.url}/v1",
            "anthropic_api_key": anthropic_key,
            "anthropic_base_url": self.url,
            "default_provider": "openai",
            "provider_timeout_seconds": 1.0,
            **overrides,
        }

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def next(self, *scripted: Scripted) -> None:
        self.script.extend(scripted)

    def next_at(self, where: str, *scripted: Scripted) -> None:
        """What the next calls to `where` ("GET /v1/batches/": a method and a path prefix) get,
        batch endpoints included; before anything `next` scripted."""
        self.scripts_at.setdefault(where, deque()).extend(scripted)

    def _scripted_at(self, method: str, path: str) -> Scripted | None:
        for where, queue in self.scripts_at.items():
            wanted_method, _, prefix = where.partition(" ")
            if queue and method == wanted_method and path.startswith(prefix):
                return queue.popleft()
        return None

    def count(self, path_prefix: str) -> int:
        return sum(1 for _, _, path in self.calls if path.startswith(path_prefix))

    # ---- dispatch --------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        with self._lock:
            self.calls.append((time.monotonic(), method, handler.path))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            scripted = self._scripted_at(method, handler.path)
            if scripted is None and self.script and self._scriptable(handler.path):
                scripted = self.script.popleft()
        try:
            if scripted and scripted.delay:
                time.sleep(scripted.delay)
            vendor = vendor_of(handler.path)
            if refused := self._unauthorised(handler, vendor):
                self.refused.append(refused)
                self._send(handler, 401, refused, {})
                return
            if scripted and (scripted.status != 200 or scripted.body is not None):
                body = (
                    scripted.body
                    if scripted.body is not None
                    else error_body(vendor, scripted.status, f"scripted HTTP {scripted.status}")
                )
                self._send(handler, scripted.status, body, scripted.headers)
                return
            try:
                status, payload, content_type = self._route(handler, method, raw, scripted)
            except RequestInvalid as invalid:
                self._send(handler, invalid.status, error_body(vendor, invalid.status, invalid.message), {})
                return
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self._send(handler, status, body, {"content-type": content_type})
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self._lock:
                self.in_flight -= 1

    def _unauthorised(self, handler: BaseHTTPRequestHandler, vendor: str) -> bytes | None:
        expected = self.keys.get(vendor)
        if expected is None:
            return None
        if vendor == "anthropic":
            bearer = (handler.headers.get("authorization") or "").removeprefix("Bearer ")
            sent = handler.headers.get("x-api-key") or bearer
            message = f"invalid x-api-key: {sent}"
        else:
            sent = (handler.headers.get("authorization") or "").removeprefix("Bearer ")
            message = f"Incorrect API key provided: {sent}. You can find your API key at https://platform.openai.com."
        return None if sent == expected else error_body(vendor, 401, message)

    def _check_model(self, vendor: str, model: Any) -> None:
        if not isinstance(model, str) or not model:
            raise RequestInvalid(400, "model: Field required")
        if self.models is not None and model not in self.models:
            message = (
                f"model: {model}"
                if vendor == "anthropic"
                else f"The model `{model}` does not exist or you do not have access to it."
            )
            raise RequestInvalid(404, message)

    def _check_chat(self, body: dict[str, Any]) -> None:
        self._check_model("openai", body.get("model"))
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestInvalid(400, "'messages' is a required property")

    def _check_message(self, body: dict[str, Any]) -> None:
        self._check_model("anthropic", body.get("model"))
        if not isinstance(body.get("max_tokens"), int):
            raise RequestInvalid(400, "max_tokens: Field required")
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            raise RequestInvalid(400, "messages: Field required")

    @staticmethod
    def _scriptable(path: str) -> bool:
        return path.startswith(("/v1/chat/completions", "/v1/messages")) and "/batches" not in path

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        handler.send_response(status)
        headers = {"content-type": "application/json", **headers}
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _route(self, handler, method: str, raw: bytes, scripted: Scripted | None):
        path = handler.path.split("?")[0]
        json_type = "application/json"
        if method == "POST" and path == "/v1/chat/completions":
            body = json.loads(raw)
            self.bodies.append(body)
            self._check_chat(body)
            return 200, self.completion(body, scripted), json_type
        if method == "POST" and path == "/v1/messages":
            body = json.loads(raw)
            self.bodies.append(body)
            self._check_message(body)
            return 200, self.message(body, scripted), json_type
        if method == "POST" and path == "/v1/files":
            return 200, self._upload(handler, raw), json_type
        if method == "GET" and path.startswith("/v1/files/") and path.endswith("/content"):
            return 200, self.files[path.split("/")[3]], "application/jsonl"
        if path.startswith("/v1/batches"):
            return self._openai_batch(method, path, raw)
        if path.startswith("/v1/messages/batches"):
            return self._anthropic_batch(method, path, raw)
        return 404, {"error": {"message": f"no route {method} {path}"}}, json_type

    # ---- single calls ----------------------------------------------------------------------------

    def verdict(self, scripted: Scripted | None) -> Any:
        if scripted is not None and scripted.verdict is not None:
            return scripted.verdict
        return {"winner": self.winner, "justification": "It answers the task more fully.", "confidence": 4}

    # ---- prompt caching ----------------------------------------------------------------------------

    @staticmethod
    def tokens(text: str) -> int:
        return (len(text) + 3) // 4

    def _openai_usage(self, body: dict[str, Any]) -> dict[str, Any]:
        """OpenAI caches prompt prefixes automatically, in 128-token steps from 1,024 tokens."""
        text = "".join(str(m.get("content")) for m in body.get("messages") or [])
        with self._lock:
            common = max((_common_prefix(text, seen) for seen in self._openai_prompts), default=0)
            self._openai_prompts.append(text)
        cached = self.tokens(text[:common]) // 128 * 128
        cached = cached if cached >= 1024 and self.cache_enabled else 0
        return {"prompt_tokens": self.tokens(text), "prompt_tokens_details": {"cached_tokens": cached}}

    def _anthropic_usage(self, body: dict[str, Any]) -> dict[str, Any]:
        """Anthropic caches what precedes a cache_control breakpoint (tools, system, blocks)."""
        prefix = json.dumps(body.get("tools")) + json.dumps(body.get("system"))
        rest = ""
        marked = False
        for message in body.get("messages") or []:
            blocks = message["content"] if isinstance(message["content"], list) else [{"text": message["content"]}]
            for block in blocks:
                if marked:
                    rest += block.get("text", "")
                else:
                    prefix += block.get("text", "")
                    marked = "cache_control" in block
        if not marked or self.tokens(prefix) < 1024 or not self.cache_enabled:
            return {"input_tokens": self.tokens(prefix + rest)}
        with self._lock:
            hit = prefix in self._anthropic_cache
            self._anthropic_cache.add(prefix)
        key = "cache_read_input_tokens" if hit else "cache_creation_input_tokens"
        return {"input_tokens": self.tokens(rest), key: self.tokens(prefix)}

    def completion(self, body: dict[str, Any], scripted: Scripted | None = None) -> dict[str, Any]:
        verdict = self.verdict(scripted)
        content = verdict if isinstance(verdict, str) else json.dumps(verdict)
        usage: dict[str, Any] = {
            "prompt_tokens": 1200,
            "completion_tokens": 60,
            "prompt_tokens_details": {"cached_tokens": 200},
        }
        if self.simulate_cache:
            usage |= self._openai_usage(body)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:8]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": usage,
        }

    def message(self, body: dict[str, Any], scripted: Scripted | None = None) -> dict[str, Any]:
        tool = body["tool_choice"]["name"]
        usage: dict[str, Any] = {
            "input_tokens": 900,
            "output_tokens": 70,
            "cache_read_input_tokens": 300,
            "cache_creation_input_tokens": 0,
        }
        if self.simulate_cache:
            usage = {"output_tokens": 70, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
            usage |= self._anthropic_usage(body)
        return {
            "id": f"msg_{uuid.uuid4().hex[:8]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": self.verdict(scripted)}],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": usage,
        }

    # ---- OpenAI files and batches ----------------------------------------------------------------

    def _upload(self, handler, raw: bytes) -> dict[str, Any]:
        message = BytesParser().parsebytes(f"content-type: {handler.headers['content-type']}\r\n\r\n".encode() + raw)
        content = next(
            part.get_payload(decode=True)
            for part in message.get_payload()
            if part.get_param("name", header="content-disposition") == "file"
        )
        file_id = f"file-{uuid.uuid4().hex[:10]}"
        self.files[file_id] = content
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": "batch.jsonl",
            "purpose": "batch",
            "status": "processed",
        }

    def _new_batch(self, vendor: str, items: list[dict[str, Any]], invalid: str = "") -> str:
        batch_id = f"{'msgbatch' if vendor == 'anthropic' else 'batch'}_{uuid.uuid4().hex[:10]}"
        self.batches[batch_id] = FakeBatch(
            vendor, items, errored_ids=set(self.batch_error_ids), outcome=self.batch_outcome, invalid=invalid
        )
        return batch_id

    def _openai_invalid(self, lines: list[dict[str, Any]]) -> str:
        seen: set[str] = set()
        for number, line in enumerate(lines, start=1):
            if line.get("url") != "/v1/chat/completions" or line.get("method") != "POST":
                return f"line {number}: the url and method must be POST /v1/chat/completions"
            if line.get("custom_id") in seen:
                return f"line {number}: the custom_id {line.get('custom_id')} is repeated"
            seen.add(line.get("custom_id"))
            try:
                self._check_chat(line.get("body") or {})
            except RequestInvalid as invalid:
                return f"line {number}: {invalid.message}"
        return ""

    def _openai_batch(self, method: str, path: str, raw: bytes):
        parts = path.strip("/").split("/")
        if method == "POST" and len(parts) == 2:
            body = json.loads(raw)
            if body.get("endpoint") != "/v1/chat/completions" or body.get("completion_window") != "24h":
                raise RequestInvalid(400, "endpoint must be /v1/chat/completions and completion_window 24h")
            if body.get("input_file_id") not in self.files:
                raise RequestInvalid(404, f"No such File object: {body.get('input_file_id')}")
            lines = [json.loads(line) for line in self.files[body["input_file_id"]].decode().splitlines() if line]
            items = [{"custom_id": ln.get("custom_id"), "body": ln.get("body")} for ln in lines]
            batch_id = self._new_batch("openai", items, self._openai_invalid(lines))
            return 200, self._openai_batch_object(batch_id, "validating"), "application/json"
        batch_id = parts[2]
        if batch_id not in self.batches:
            raise RequestInvalid(404, f"No batch found with id '{batch_id}'.")
        batch = self.batches[batch_id]
        if method == "POST" and parts[-1] == "cancel":
            batch.cancel_calls += 1
            if batch.cancelled_at_poll is None:
                batch.cancelled_at_poll = batch.polls
            return 200, self._openai_batch_object(batch_id, "cancelling"), "application/json"
        batch.polls += 1
        return 200, self._openai_batch_object(batch_id, self._openai_status(batch)), "application/json"

    def _openai_status(self, batch: FakeBatch) -> str:
        if batch.invalid:
            return "failed"
        if batch.cancelled_at_poll is not None:
            return "cancelling" if batch.polls - batch.cancelled_at_poll <= self.cancel_polls else "cancelled"
        step = self.batch_plan[min(batch.polls - 1, len(self.batch_plan) - 1)]
        if batch.outcome != "completed" and step in ("finalizing", "completed_without_output", "completed"):
            return batch.outcome
        return step

    def _openai_line(self, item: dict[str, Any], batch: FakeBatch, done: bool) -> tuple[bool, dict[str, Any]]:
        """(goes to the output file, the line)."""
        custom_id = item["custom_id"]
        line: dict[str, Any] = {"id": f"batch_req_{custom_id}", "custom_id": custom_id, "error": None}
        if not done:
            message = "This request could not be executed before the completion window expired."
            line |= {"response": None, "error": {"code": "batch_expired", "message": message}}
            return False, line
        if custom_id in batch.errored_ids:
            body = {"error": {"code": "invalid_prompt", "message": "scripted item failure", "type": "invalid_request"}}
            line["response"] = {"status_code": 400, "request_id": "req", "body": body}
            return False, line
        if custom_id not in batch.responses:
            batch.responses[custom_id] = self.completion(item["body"])
        line["response"] = {"status_code": 200, "request_id": "req", "body": batch.responses[custom_id]}
        return True, line

    def _openai_batch_object(self, batch_id: str, status: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        total = len(batch.items)
        ended = status in ("completed", "cancelled", "expired", "failed")
        if status in ("completed", "completed_without_output"):
            done_items = batch.items
        elif status in ("cancelled", "expired", "failed") and not batch.invalid:
            done_items = batch.items[: total // 2]
        else:
            done_items = []
        output_id = error_id = None
        if ended and not batch.invalid:
            lines = [self._openai_line(i, batch, True) for i in done_items]
            if status == "expired":
                lines += [self._openai_line(i, batch, False) for i in batch.items[len(done_items) :]]
            output_id, error_id = f"file-out-{batch_id}", f"file-err-{batch_id}"
            self.files[output_id] = "\n".join(json.dumps(line) for ok, line in lines if ok).encode()
            self.files[error_id] = "\n".join(json.dumps(line) for ok, line in lines if not ok).encode()
        failed = sum(1 for i in done_items if i["custom_id"] in batch.errored_ids)
        errors = None
        if status == "failed":
            message = batch.invalid or "The batch failed: scripted failure."
            errors = {"object": "list", "data": [{"code": "invalid_request", "message": message, "line": None}]}
        return {
            "id": batch_id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "errors": errors,
            "input_file_id": "file-in",
            "completion_window": "24h",
            "status": "completed" if status == "completed_without_output" else status,
            "output_file_id": output_id,
            "error_file_id": error_id,
            "created_at": int(time.time()),
            "request_counts": {"total": total, "completed": len(done_items) - failed, "failed": failed},
            "metadata": {},
        }

    # ---- Anthropic message batches ---------------------------------------------------------------

    def _anthropic_batch(self, method: str, path: str, raw: bytes):
        parts = path.strip("/").split("/")
        if method == "POST" and len(parts) == 3:
            body = json.loads(raw)
            requests = body.get("requests") or []
            if not requests or len(requests) > 100_000:
                raise RequestInvalid(400, "requests: a batch has 1 to 100,000 requests")
            ids = [r.get("custom_id") for r in requests]
            if len(set(ids)) != len(ids):
                raise RequestInvalid(400, "requests: custom_id values must be unique")
            for index, request in enumerate(requests):
                try:
                    self._check_message(request.get("params") or {})
                except RequestInvalid as invalid:
                    raise RequestInvalid(invalid.status, f"requests.{index}.params.{invalid.message}") from None
            items = [{"custom_id": r["custom_id"], "body": r["params"]} for r in requests]
            batch_id = self._new_batch("anthropic", items)
            return 200, self._anthropic_batch_object(batch_id, "in_progress"), "application/json"
        batch_id = parts[3]
        if batch_id not in self.batches:
            raise RequestInvalid(404, f"batch {batch_id} not found")
        batch = self.batches[batch_id]
        if method == "POST" and parts[-1] == "cancel":
            batch.cancel_calls += 1
            if batch.cancelled_at_poll is None:
                batch.cancelled_at_poll = batch.polls
            return 200, self._anthropic_batch_object(batch_id, "canceling"), "application/json"
        if parts[-1] == "results":
            if self._anthropic_status(batch) != "ended":
                raise RequestInvalid(400, "results are available once processing has ended")
            lines = [
                json.dumps({"custom_id": item["custom_id"], "result": self._anthropic_result(batch, index, item)})
                for index, item in enumerate(batch.items)
            ]
            return 200, "\n".join(lines).encode(), "application/binary"
        batch.polls += 1
        return 200, self._anthropic_batch_object(batch_id, self._anthropic_status(batch)), "application/json"

    def _anthropic_status(self, batch: FakeBatch) -> str:
        if batch.cancelled_at_poll is not None:
            return "canceling" if batch.polls - batch.cancelled_at_poll <= self.cancel_polls else "ended"
        return "ended" if batch.polls >= self.anthropic_polls else "in_progress"

    def _anthropic_result(self, batch: FakeBatch, index: int, item: dict[str, Any]) -> dict[str, Any]:
        if index >= len(batch.items) // 2 and (batch.cancelled or batch.outcome == "expired"):
            return {"type": "canceled" if batch.cancelled else "expired"}
        if item["custom_id"] in batch.errored_ids:
            return {
                "type": "errored",
                "error": {"type": "error", "error": {"type": "invalid_request_error", "message": "scripted failure"}},
            }
        if item["custom_id"] not in batch.responses:
            batch.responses[item["custom_id"]] = self.message(item["body"])
        return {"type": "succeeded", "message": batch.responses[item["custom_id"]]}

    def _anthropic_batch_object(self, batch_id: str, status: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        ended = status == "ended"
        counts = {"processing": len(batch.items), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if ended:
            counts["processing"] = 0
            for index, item in enumerate(batch.items):
                kind = self._anthropic_result(batch, index, item)["type"]
                counts[kind] += 1
        return {
            "id": batch_id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": counts,
            "created_at": "2026-11-22T06:00:00Z",
            "expires_at": "2026-11-23T06:00:00Z",
            "ended_at": "2026-11-22T06:10:00Z" if ended else None,
            "archived_at": None,
            "cancel_initiated_at": "2026-11-22T06:05:00Z" if batch.cancelled else None,
            "results_url": f"{self.url}/v1/messages/batches/{batch_id}/results" if ended else None,
        }
