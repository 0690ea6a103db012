"""Vendor SDK exceptions -> ProviderFailure, the same way for OpenAI and Anthropic.

Retryable: timeouts, connection errors, 408, 409, 429 and 5xx (Anthropic's 529
included), honouring Retry-After. Permanent: authentication (401/403) and other
4xx rejections. The SDKs' own retries are switched off (max_retries=0) so that one
retry budget, the queue's, applies.

Secrets never leave: a vendor's error text (a 401 echoes the key it was sent) is
reduced to the HTTP status, the vendor's error code and a scrubbed message of at
most 200 characters, and the SDK exception is not chained onto the failure (so no
traceback that is logged carries it either).
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from llm_provider_server.domain.batch_job import JobRecord
from llm_provider_server.domain.model import ProviderFailure


def retry_after_seconds(headers, now: float | None = None) -> float | None:
    if headers is None:
        return None
    if (millis := headers.get("retry-after-ms")) is not None:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(parsed.timestamp() - (now or time.time()), 0.0) if parsed else None


# What an API key or token looks like, whoever's it is.
SECRET_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-*.]{4,}"),
    re.compile(r"(?i)(bearer|api[-_ ]?key|x-api-key|authorization)([\s:=\"']+)[^\s\"',}]+"),
    re.compile(r"[A-Za-z0-9_\-]{32,}"),
)
REDACTED = "[redacted]"
MAX_MESSAGE_CHARS = 200
_CODE = re.compile(r"[^A-Za-z0-9_.\-]")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secrets or anything that looks like a key, on one line."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(
            lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}" if m.re.groups == 2 else REDACTED,
            text,
        )
    return " ".join(text.split())


def vendor_error(body: Any) -> tuple[str, str]:
    """(code, message) from an OpenAI ({"error": {"code", "type", "message"}} or the inner object)
    or Anthropic ({"type": "error", "error": {"type", "message"}}) error body."""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    inner = error if isinstance(error, dict) else body
    code = inner.get("code") or inner.get("type") or ""
    message = inner.get("message") or ""
    return _CODE.sub("", str(code))[:64], str(message)


def status_message(vendor: str, status: int, body: Any, secrets: Iterable[str] = ()) -> str:
    code, text = vendor_error(body)
    label = f" {code}" if code else ""
    detail = scrub(text, secrets)[:MAX_MESSAGE_CHARS]
    return f"{vendor} answered HTTP {status}{label}" + (f": {detail}" if detail else "")


def classify(exc: Exception, sdk: ModuleType, vendor: str, secrets: Iterable[str] = ()) -> ProviderFailure:
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderFailure("PROVIDER_TIMEOUT", f"{vendor} did not answer in time", retryable=True)
    if isinstance(exc, sdk.APIConnectionError):
        return ProviderFailure("PROVIDER_UNAVAILABLE", f"could not reach {vendor}", retryable=True)
    if isinstance(exc, sdk.APIResponseValidationError):
        return ProviderFailure("UNPARSEABLE_VERDICT", f"{vendor} sent a reply the SDK could not read", retryable=True)
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        retry_after = retry_after_seconds(getattr(exc.response, "headers", None))
        message = status_message(vendor, status, getattr(exc, "body", None), secrets)
        if status == 429:
            return ProviderFailure("RATE_LIMITED", message, True, retry_after, status)
        if status in (408, 409) or status >= 500:
            return ProviderFailure("PROVIDER_UNAVAILABLE", message, True, retry_after, status)
        if status in (401, 403):
            return ProviderFailure("PROVIDER_AUTH", message, False, None, status)
        return ProviderFailure("PROVIDER_REJECTED", message, False, None, status)
    if isinstance(exc, ValueError):  # a body that is not JSON at all
        return ProviderFailure(
            "UNPARSEABLE_VERDICT", f"{vendor} sent a malformed reply: {scrub(str(exc), secrets)[:100]}", retryable=True
        )
    raise exc


def malformed(vendor: str, what: str) -> ProviderFailure:
    """A vendor reply of the wrong shape: an UNPARSEABLE_VERDICT, retried within the budget."""
    return ProviderFailure("UNPARSEABLE_VERDICT", f"{vendor} sent a malformed reply: {what}", retryable=True)


def vendor_job_id(job: JobRecord) -> str:
    """The vendor's id of a submitted batch job; a job the vendor never accepted has none to ask about."""
    if not job.provider_job_id:
        raise ProviderFailure("PROVIDER_UNAVAILABLE", f"batch job {job.job_id} has no vendor job yet", retryable=True)
    return job.provider_job_id


def object_of(value: Any, vendor: str, what: str) -> dict[str, Any]:
    """`value` when it is a JSON object (None counts as an empty one), else a malformed reply."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise malformed(vendor, f"{what} is not an object")
    return value


def count_of(value: Any, vendor: str, what: str) -> int:
    """A token count: a non-negative integer (absent = 0), else a malformed reply."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise malformed(vendor, f"{what} is not a token count")
    return value
