"""Vendor SDK exceptions -> ProviderFailure, the same way for OpenAI and Anthropic.

Retryable: timeouts, connection errors, 408, 409, 429 and 5xx (Anthropic's 529
included), honouring Retry-After. Permanent: authentication (401/403) and other
4xx rejections. The SDKs' own retries are switched off (max_retries=0) so that one
retry budget, the queue's, applies.
"""

from __future__ import annotations

import email.utils
import time
from types import ModuleType

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


def classify(exc: Exception, sdk: ModuleType, vendor: str) -> ProviderFailure:
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderFailure("PROVIDER_TIMEOUT", f"{vendor} did not answer in time", retryable=True)
    if isinstance(exc, sdk.APIConnectionError):
        return ProviderFailure("PROVIDER_UNAVAILABLE", f"could not reach {vendor}: {exc}", retryable=True)
    if isinstance(exc, sdk.APIResponseValidationError):
        return ProviderFailure("UNPARSEABLE_VERDICT", f"{vendor} sent a reply the SDK could not read", retryable=True)
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        retry_after = retry_after_seconds(getattr(exc.response, "headers", None))
        message = f"{vendor} answered HTTP {status}: {str(exc)[:300]}"
        if status == 429:
            return ProviderFailure("RATE_LIMITED", message, True, retry_after, status)
        if status in (408, 409) or status >= 500:
            return ProviderFailure("PROVIDER_UNAVAILABLE", message, True, retry_after, status)
        if status in (401, 403):
            return ProviderFailure("PROVIDER_AUTH", message, False, None, status)
        return ProviderFailure("PROVIDER_REJECTED", message, False, None, status)
    if isinstance(exc, ValueError):  # a body that is not JSON at all
        return ProviderFailure("UNPARSEABLE_VERDICT", f"{vendor} sent a malformed reply: {exc}", retryable=True)
    raise exc
