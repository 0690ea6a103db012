"""Where the servers are and how to reach them: one settings object, one channel per server."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

import grpc
from huleedu.cj.v1 import cj_assessment_service_pb2_grpc as cj_grpc
from huleedu.llm.v1 import batch_job_service_pb2_grpc as jobs_grpc
from huleedu.results.v1 import result_aggregator_service_pb2_grpc as ras_grpc

ENVIRONMENT = {
    "cj_target": "HULEEDU_CJ_TARGET",
    "lps_target": "HULEEDU_LPS_TARGET",
    "ras_target": "HULEEDU_RAS_TARGET",
    "token": "HULEEDU_TOKEN",
    "timeout": "HULEEDU_TIMEOUT",
}
HOST_PORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")
TOKEN = re.compile(r"^[\x21-\x7e]*$")  # what an HTTP/2 header value may hold without quoting


class SettingsError(ValueError):
    """A setting from the environment or the command line is not usable; the message says which and why."""


def check_target(value: str, source: str) -> str:
    """`host:port` ([v6]:port too), or a gRPC URI such as `dns:///host:port` or `unix:/path`."""
    value = value.strip()
    if "://" in value or value.startswith("unix:"):
        return value
    match = HOST_PORT.match(value)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise SettingsError(f"{source}={value!r}: expected host:port, for example 127.0.0.1:50051")
    return value


def check_timeout(value: str | float, source: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise SettingsError(f"{source}={value!r}: expected a number of seconds, for example 30") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise SettingsError(f"{source}={value!r}: the timeout must be a positive number of seconds")
    return seconds


def check_token(value: str, source: str) -> str:
    if not TOKEN.match(value):
        raise SettingsError(f"{source}: a bearer token holds no spaces or control characters")
    return value


@dataclass(frozen=True)
class ClientSettings:
    cj_target: str = "127.0.0.1:50051"
    lps_target: str = "127.0.0.1:50052"
    ras_target: str = "127.0.0.1:50053"
    token: str = ""
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClientSettings:
        """Defaults from the HULEEDU_* variables, each checked, so a bad value fails before any call."""
        env = os.environ if env is None else env
        values: dict[str, str] = {field: env[name] for field, name in ENVIRONMENT.items() if name in env}
        return cls.checked(values, sources=ENVIRONMENT)

    @classmethod
    def checked(cls, values: Mapping[str, str | float], sources: Mapping[str, str]) -> ClientSettings:
        defaults = cls()
        settings: dict[str, str | float] = {}
        for field in ("cj_target", "lps_target", "ras_target"):
            settings[field] = check_target(str(values.get(field, getattr(defaults, field))), sources[field])
        settings["token"] = check_token(str(values.get("token", "")), sources["token"])
        settings["timeout"] = check_timeout(values.get("timeout", defaults.timeout), sources["timeout"])
        return cls(**settings)  # type: ignore[arg-type]


class Clients:
    """Stubs for the three services; channels open lazily (connecting happens on the first call)."""

    def __init__(self, settings: ClientSettings):
        self.settings = settings
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {settings.token}"),) if settings.token else ()
        )
        self._channels: list[grpc.aio.Channel] = []

    def _channel(self, target: str) -> grpc.aio.Channel:
        channel = grpc.aio.insecure_channel(target)
        self._channels.append(channel)
        return channel

    async def __aenter__(self) -> Clients:
        self.cj = cj_grpc.CjAssessmentServiceStub(self._channel(self.settings.cj_target))
        self.ras = ras_grpc.ResultAggregatorServiceStub(self._channel(self.settings.ras_target))
        self.jobs = jobs_grpc.BatchJobServiceStub(self._channel(self.settings.lps_target))
        return self

    async def __aexit__(self, *exc_info) -> None:
        for channel in self._channels:
            await channel.close()

    def call_options(self, timeout: float | None = None) -> dict:
        return {"metadata": self.metadata, "timeout": self.settings.timeout if timeout is None else timeout}
