"""RAS settings, read once from `RAS_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from service_core.settings import ServerSettings


class RasSettings(ServerSettings):
    model_config = SettingsConfigDict(env_prefix="RAS_", extra="ignore", frozen=True)

    port: int = Field(default=50053, ge=0, le=65535)
    metrics_port: int = Field(default=9103, ge=-1, le=65535)
    # Callers (names from RAS_AUTH_TOKENS) that may ingest events and read every batch. Any other
    # authenticated caller is an owner: it reads only the batches registered with its name as owner.
    service_callers: str = "cj,orchestrator,dashboard"
    watch_poll_seconds: float = Field(default=0.5, gt=0)
    # How often the batches-by-state gauge is read from the database.
    metrics_refresh_seconds: float = Field(default=15.0, gt=0)

    def service_caller_names(self) -> set[str]:
        return {name.strip() for name in self.service_callers.split(",") if name.strip()}
