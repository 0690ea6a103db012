"""A fake OpenAI + Anthropic HTTP server on loopback, speaking both vendors' wire formats.

It answers chat completions, messages, file uploads, OpenAI batches and Anthropic
message batches. Tests script failures for the next calls (status codes with
headers, delays past the client's timeout, malformed bodies) and read back what
was asked of it: every call with its time, and the most calls in flight at once.
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
    cancelled: bool = False
    errored_ids: set[str] = field(default_factory=set)


class FakeVendors:
    """Start with `start()`; `url` is the base for both SDKs (OpenAI adds /v1 itself via base_url)."""

    def __init__(self, winner: str = "Essay A"):
        self.winner = winner
        self.script: deque[Scripted] = deque()
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

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def next(self, *scripted: Scripted) -> None:
        self.script.extend(scripted)

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
            scripted = self.script.popleft() if self.script and self._scriptable(handler.path) else None
        try:
            if scripted and scripted.delay:
                time.sleep(scripted.delay)
            if scripted and (scripted.status != 200 or scripted.body is not None):
                body = (
                    scripted.body
                    if scripted.body is not None
                    else json.dumps(
                        {"error": {"type": "scripted", "message": f"scripted HTTP {scripted.status}"}}
                    ).encode()
                )
                self._send(handler, scripted.status, body, scripted.headers)
                return
            status, payload, content_type = self._route(handler, method, raw, scripted)
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self._send(handler, status, body, {"content-type": content_type})
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self._lock:
                self.in_flight -= 1

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
            return 200, self.completion(body, scripted), json_type
        if method == "POST" and path == "/v1/messages":
            body = json.loads(raw)
            self.bodies.append(body)
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

    def completion(self, body: dict[str, Any], scripted: Scripted | None = None) -> dict[str, Any]:
        verdict = self.verdict(scripted)
        content = verdict if isinstance(verdict, str) else json.dumps(verdict)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:8]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {
                "prompt_tokens": 1200,
                "completion_tokens": 60,
                "total_tokens": 1260,
                "prompt_tokens_details": {"cached_tokens": 200},
            },
        }

    def message(self, body: dict[str, Any], scripted: Scripted | None = None) -> dict[str, Any]:
        tool = body["tool_choice"]["name"]
        return {
            "id": f"msg_{uuid.uuid4().hex[:8]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": self.verdict(scripted)}],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 900,
                "output_tokens": 70,
                "cache_read_input_tokens": 300,
                "cache_creation_input_tokens": 0,
            },
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

    def _openai_batch(self, method: str, path: str, raw: bytes):
        parts = path.strip("/").split("/")
        if method == "POST" and len(parts) == 2:
            body = json.loads(raw)
            lines = [json.loads(line) for line in self.files[body["input_file_id"]].decode().splitlines() if line]
            batch_id = f"batch_{uuid.uuid4().hex[:10]}"
            self.batches[batch_id] = FakeBatch(
                "openai",
                [{"custom_id": ln["custom_id"], "body": ln["body"]} for ln in lines],
                errored_ids=set(self.batch_error_ids),
            )
            return 200, self._openai_batch_object(batch_id, "validating"), "application/json"
        batch_id = parts[2]
        batch = self.batches[batch_id]
        if method == "POST" and parts[-1] == "cancel":
            batch.cancelled = True
            return 200, self._openai_batch_object(batch_id, "cancelling"), "application/json"
        batch.polls += 1
        plan_step = self.batch_plan[min(batch.polls - 1, len(self.batch_plan) - 1)]
        status = "cancelled" if batch.cancelled else plan_step
        return 200, self._openai_batch_object(batch_id, status), "application/json"

    def _openai_batch_object(self, batch_id: str, status: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        total = len(batch.items)
        done_items = (
            batch.items
            if status in ("completed", "completed_without_output")
            else (batch.items[: total // 2] if status == "cancelled" else [])
        )
        output_id = error_id = None
        if status in ("completed", "cancelled"):
            ok = [i for i in done_items if i["custom_id"] not in batch.errored_ids]
            bad = [i for i in done_items if i["custom_id"] in batch.errored_ids]
            output_id, error_id = f"file-out-{batch_id}", f"file-err-{batch_id}"
            self.files[output_id] = "\n".join(
                json.dumps(
                    {
                        "id": f"resp_{i['custom_id']}",
                        "custom_id": i["custom_id"],
                        "error": None,
                        "response": {"status_code": 200, "request_id": "req", "body": self.completion(i["body"])},
                    }
                )
                for i in ok
            ).encode()
            self.files[error_id] = "\n".join(
                json.dumps(
                    {
                        "id": f"resp_{i['custom_id']}",
                        "custom_id": i["custom_id"],
                        "error": None,
                        "response": {
                            "status_code": 400,
                            "request_id": "req",
                            "body": {"error": {"code": "invalid_prompt", "message": "scripted item failure"}},
                        },
                    }
                )
                for i in bad
            ).encode()
        failed = sum(1 for i in done_items if i["custom_id"] in batch.errored_ids)
        return {
            "id": batch_id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "errors": None,
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
            batch_id = f"msgbatch_{uuid.uuid4().hex[:10]}"
            self.batches[batch_id] = FakeBatch(
                "anthropic",
                [{"custom_id": r["custom_id"], "body": r["params"]} for r in body["requests"]],
                errored_ids=set(self.batch_error_ids),
            )
            return 200, self._anthropic_batch_object(batch_id, "in_progress"), "application/json"
        batch_id = parts[3]
        batch = self.batches[batch_id]
        if method == "POST" and parts[-1] == "cancel":
            batch.cancelled = True
            return 200, self._anthropic_batch_object(batch_id, "canceling"), "application/json"
        if parts[-1] == "results":
            lines = []
            for index, item in enumerate(batch.items):
                if batch.cancelled and index >= len(batch.items) // 2:
                    result = {"type": "canceled"}
                elif item["custom_id"] in batch.errored_ids:
                    result = {
                        "type": "errored",
                        "error": {
                            "type": "error",
                            "error": {"type": "invalid_request_error", "message": "scripted item failure"},
                        },
                    }
                else:
                    result = {"type": "succeeded", "message": self.message(item["body"])}
                lines.append(json.dumps({"custom_id": item["custom_id"], "result": result}))
            return 200, "\n".join(lines).encode(), "application/binary"
        batch.polls += 1
        status = "ended" if batch.cancelled or batch.polls >= 3 else "in_progress"
        return 200, self._anthropic_batch_object(batch_id, status), "application/json"

    def _anthropic_batch_object(self, batch_id: str, status: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        total = len(batch.items)
        ended = status == "ended"
        cancelled = total - total // 2 if ended and batch.cancelled else 0
        errored = sum(1 for i in batch.items if i["custom_id"] in batch.errored_ids) if ended else 0
        return {
            "id": batch_id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": {
                "processing": 0 if ended else total,
                "succeeded": total - cancelled - errored if ended else 0,
                "errored": errored,
                "canceled": cancelled,
                "expired": 0,
            },
            "created_at": "2026-11-22T06:00:00Z",
            "expires_at": "2026-11-23T06:00:00Z",
            "ended_at": "2026-11-22T06:10:00Z" if ended else None,
            "archived_at": None,
            "cancel_initiated_at": "2026-11-22T06:05:00Z" if batch.cancelled else None,
            "results_url": f"{self.url}/v1/messages/batches/{batch_id}/results" if ended else None,
        }
