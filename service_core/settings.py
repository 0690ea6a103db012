"""Settings base: every server reads its environment once, with its own prefix.

Each server subclasses `ServerSettings` and sets `env_prefix` (`CJ_`, `LPS_`,
`RAS_`); the object built at start-up is the one the server runs with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_sqlite_url(server: str) -> str:
    return f"sqlite+aiosqlite:///{Path('var') / f'{server}.db'}"


class ServerSettings(BaseSettings):
    # hide_input_in_errors: a refused value may be a secret (tokens, API keys); name it, never print it.
    model_config = SettingsConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    host: str = "127.0.0.1"
    port: int = Field(default=50051, ge=0, le=65535)
    # Prometheus /metrics HTTP port; 0 picks a free port, -1 disables it.
    metrics_port: int = Field(default=9100, ge=-1, le=65535)
    metrics_host: str = "127.0.0.1"
    database_url: str = ""
    log_level: str = "INFO"
    # Seconds in-flight calls get to finish after SIGTERM.
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    # Seconds between health going NOT_SERVING and the listener closing (endpoint propagation).
    shutdown_drain_seconds: float = Field(default=0.0, ge=0)
    # Comma-separated bearer tokens, each optionally named: "cj:secret1,dashboard:secret2".
    # Empty means the server is open (and says so in its log).
    auth_tokens: SecretStr = SecretStr("")
    max_message_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    keepalive_time_ms: int = Field(default=60_000, ge=1000)
    keepalive_timeout_ms: int = Field(default=20_000, ge=1000)
    min_ping_interval_ms: int = Field(default=30_000, ge=1000)
    max_connection_age_ms: int = Field(default=0, ge=0)
    # Off by default: on, a second process silently binds the same port.
    so_reuseport: bool = False
    max_concurrent_rpcs: int = Field(default=0, ge=0)
    # Unary calls slower than this are logged at INFO although they succeeded (others at DEBUG).
    log_slow_call_seconds: float = Field(default=1.0, ge=0)

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    def env_name(self, field: str) -> str:
        """The environment variable a field is read from, e.g. `LPS_AUTH_TOKENS`."""
        return f"{self.model_config.get('env_prefix', '')}{field}".upper()

    @model_validator(mode="after")
    def _tokens_are_well_formed(self) -> Self:
        self.token_table()  # raises, naming the variable, before the server starts
        return self

    def token_table(self) -> dict[str, str]:
        """Map token -> caller name parsed from `auth_tokens`.

        Refused, with a message naming the variable (never the secret): an empty entry, an
        empty caller name (`:secret`, which would otherwise get full rights under the name ""),
        an empty token (`cj:`), and one token given to two callers.
        """
        raw = self.auth_tokens.get_secret_value()
        table: dict[str, str] = {}
        if not raw.strip():
            return table
        variable = self.env_name("auth_tokens")
        for index, entry in enumerate((e.strip() for e in raw.split(",")), start=1):
            name, sep, token = (part.strip() for part in entry.partition(":"))
            if not entry:
                raise ValueError(f"{variable}: entry {index} is empty (two commas in a row, or a trailing comma?)")
            if not sep:
                name, token = f"client-{index}", entry
            problem = _token_entry_problem(name, token, table)
            if problem:
                raise ValueError(f"{variable}: entry {index} {problem}")
            table[token] = name
        return table

    def grpc_options(self) -> list[tuple[str, int]]:
        options = [
            ("grpc.so_reuseport", 1 if self.so_reuseport else 0),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.keepalive_time_ms", self.keepalive_time_ms),
            ("grpc.keepalive_timeout_ms", self.keepalive_timeout_ms),
            ("grpc.http2.min_ping_interval_without_data_ms", self.min_ping_interval_ms),
            ("grpc.keepalive_permit_without_calls", 1),
        ]
        if self.max_connection_age_ms:
            options.append(("grpc.max_connection_age_ms", self.max_connection_age_ms))
            options.append(("grpc.max_connection_age_grace_ms", int(self.shutdown_grace_seconds * 1000)))
        return options


def _token_entry_problem(name: str, token: str, seen: dict[str, str]) -> str:
    if not name:
        return "has an empty caller name before ':'"
    if not token:
        return f"(caller {name!r}) has an empty token after ':'"
    if token in seen and seen[token] != name:
        return f"(caller {name!r}) repeats the token of caller {seen[token]!r}"
    return ""
