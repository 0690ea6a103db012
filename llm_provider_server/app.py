"""Wiring: settings, database, providers, queue worker, batch poller, servicers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from huleedu.llm.v1 import (
    batch_job_service_pb2,
    batch_job_service_pb2_grpc,
    llm_provider_service_pb2,
    llm_provider_service_pb2_grpc,
)
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import create_async_engine

from llm_provider_server.batch_poller import BatchPoller
from llm_provider_server.domain.manifest import Manifest
from llm_provider_server.domain.mock_batch import MockBatchTiming
from llm_provider_server.domain.mock_judge import MockConfig
from llm_provider_server.domain.model import Provider
from llm_provider_server.domain.resilience import CircuitBreaker, RateLimiter
from llm_provider_server.executor import Executor, ProviderRuntime
from llm_provider_server.metrics import LpsMetrics
from llm_provider_server.providers.base import ProviderAdapter
from llm_provider_server.providers.mock import MockProvider
from llm_provider_server.queue_worker import QueueWorker
from llm_provider_server.service import ComparisonService
from llm_provider_server.servicer import BatchJobServicer, LlmProviderServicer
from llm_provider_server.settings import LpsSettings
from llm_provider_server.store import BatchJobStore, LpsStore
from service_core.db import Database, is_sqlite, normalize_url
from service_core.retry import RetryPolicy
from service_core.server import GrpcServer, Service
from service_core.settings import default_sqlite_url

SERVER_NAME = "llm_provider_server"
ERROR_DOMAIN = "llm.huleedu.dev"
MIGRATIONS = Path(__file__).parent / "migrations"
LLM_SERVICE = llm_provider_service_pb2.DESCRIPTOR.services_by_name["LlmProviderService"].full_name
BATCH_JOB_SERVICE = batch_job_service_pb2.DESCRIPTOR.services_by_name["BatchJobService"].full_name
add_llm_servicer = llm_provider_service_pb2_grpc.add_LlmProviderServiceServicer_to_server
add_batch_job_servicer = batch_job_service_pb2_grpc.add_BatchJobServiceServicer_to_server


def mock_config(settings: LpsSettings) -> MockConfig:
    return MockConfig(
        profile=settings.mock_mode.value,
        seed=settings.mock_seed,
        latent_sigma=settings.mock_latent_sigma,
        latent_bias=settings.mock_latent_bias,
        latency_scale=settings.mock_latency_scale,
        latency_ms=settings.mock_latency_ms,
        latency_jitter_ms=settings.mock_latency_jitter_ms,
        error_rate=settings.mock_error_rate,
        error_codes=settings.error_codes(),
    )


def mock_provider(settings: LpsSettings, clock) -> MockProvider:
    config = mock_config(settings)
    timing = MockBatchTiming(
        validating_seconds=settings.mock_batch_validating_seconds,
        processing_seconds=settings.mock_batch_processing_seconds,
        finalizing_seconds=settings.mock_batch_finalizing_seconds,
        window_seconds=settings.mock_batch_window_seconds,
        output_delay_seconds=settings.mock_batch_output_delay_seconds,
    )
    return MockProvider(config, timing, clock)


def provider_adapters(settings: LpsSettings, clock) -> dict[Provider, ProviderAdapter]:
    mock = mock_provider(settings, clock)
    if settings.use_mock_llm:
        return dict.fromkeys(Provider, mock)
    adapters: dict[Provider, ProviderAdapter] = {Provider.MOCK: mock}
    if settings.openai_api_key.get_secret_value() or settings.openai_base_url:
        from llm_provider_server.providers.openai_provider import OpenAIProvider

        adapters[Provider.OPENAI] = OpenAIProvider(settings)
    if settings.anthropic_api_key.get_secret_value():
        from llm_provider_server.providers.anthropic_provider import AnthropicProvider

        adapters[Provider.ANTHROPIC] = AnthropicProvider(settings)
    return adapters


def lps_database(url: str) -> Database:
    """The LPS's database. On PostgreSQL without the pool's pre-ping: that is a round trip on every
    checkout (6-9 % of the LPS's time under load); a connection that broke raises on its next use,
    the pool discards it, and the queue loops and callers retry."""
    database = Database(url, MIGRATIONS, "lps_alembic_version")
    if not is_sqlite(database.engine):
        database.engine = create_async_engine(normalize_url(url), pool_size=10, max_overflow=10, pool_recycle=1800)
    return database


def provider_runtime(settings: LpsSettings, provider: Provider, adapter: ProviderAdapter) -> ProviderRuntime:
    """A provider's adapter with its circuit breaker, its request and token budgets and its batch
    queue limit (the mock, and every provider under use_mock_llm, has no budgets)."""
    requests = {
        Provider.OPENAI: settings.openai_requests_per_minute,
        Provider.ANTHROPIC: settings.anthropic_requests_per_minute,
    }
    tokens = {
        Provider.OPENAI: settings.openai_tokens_per_minute,
        Provider.ANTHROPIC: settings.anthropic_tokens_per_minute,
    }
    queues = {
        Provider.OPENAI: settings.openai_batch_queue_tokens,
        Provider.ANTHROPIC: settings.anthropic_batch_queue_requests,
    }
    limited = not settings.use_mock_llm
    return ProviderRuntime(
        adapter,
        CircuitBreaker(settings.breaker_failure_threshold, settings.breaker_recovery_seconds),
        RateLimiter(requests.get(provider, 0.0) if limited else 0.0),
        RateLimiter(tokens.get(provider, 0.0) if limited else 0.0),
        queues.get(provider, 0) if limited else 0,
    )


def provider_retry_policy(settings: LpsSettings) -> RetryPolicy:
    """Retries of failed provider calls: full jitter (spreads a burst of 429s apart), the vendor's
    Retry-After as a floor, at most `max_attempts` calls per request."""
    return RetryPolicy(
        name="lps-provider-calls",
        base_seconds=settings.retry_base_seconds,
        cap_seconds=max(settings.retry_cap_seconds, settings.retry_base_seconds),
        jitter=1.0,
        max_attempts=settings.max_attempts,
    )


class LpsApp:
    """Everything one LPS process runs, built from one settings object."""

    def __init__(
        self,
        settings: LpsSettings,
        registry: CollectorRegistry | None = None,
        clock=time.time,
        adapters: dict[Provider, ProviderAdapter] | None = None,
    ):
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = LpsMetrics(self.registry)
        self.database = lps_database(settings.database_url or default_sqlite_url(SERVER_NAME))
        self.store = LpsStore(
            self.database.engine,
            default_ttl_seconds=settings.default_ttl_seconds,
            capacity=settings.queue_capacity,
            queue_full_retry_seconds=settings.queue_full_retry_seconds,
            max_attempts=settings.max_attempts,
        )
        self.jobs = BatchJobStore(self.store)
        self.manifest = Manifest.load(declared=settings.declared_models())
        self.adapters = adapters or provider_adapters(settings, clock)
        runtimes = {
            provider: provider_runtime(settings, provider, adapter) for provider, adapter in self.adapters.items()
        }
        self.executor = Executor(
            runtimes,
            self.manifest,
            provider_retry_policy(settings),
            self.metrics,
            clock,
            timeouts={provider: settings.timeout_seconds(provider.value) for provider in Provider},
        )
        self.worker = QueueWorker(self.store, self.jobs, self.executor, settings, self.metrics, clock)
        self.poller = BatchPoller(self.jobs, self.executor, settings, self.metrics, clock)
        self.service = ComparisonService(
            settings,
            self.store,
            self.jobs,
            self.manifest,
            clock,
            self._wake,
            self._job_scheduled,
            on_rejected=lambda reason: self.metrics.rejected.labels(reason).inc(),
            on_cancel=lambda kind: self.metrics.cancellations.labels(kind).inc(),
        )

    def _job_scheduled(self, job) -> None:
        self.metrics.batch_jobs.labels(job.provider, job.model, "scheduled").inc()
        self.metrics.batch_items.labels(job.provider, job.model).observe(job.item_count)

    def _wake(self) -> None:
        self.worker.wake()
        self.poller.wake()

    async def start(self) -> None:
        await self.database.open()
        await self.worker.start()
        await self.poller.start()

    async def stop(self) -> None:
        await self.worker.stop()
        await self.poller.stop()
        if self.service.background:
            await asyncio.wait(self.service.background, timeout=5)
        for adapter in {id(a): a for a in self.adapters.values()}.values():
            await adapter.close()
        await self.database.close()

    def grpc_server(self) -> GrpcServer:
        llm = LlmProviderServicer(self.settings, self.service, self.manifest, mock_config(self.settings))
        jobs = BatchJobServicer(self.service)
        return GrpcServer(
            name=SERVER_NAME,
            settings=self.settings,
            error_domain=ERROR_DOMAIN,
            registry=self.registry,
            services=[
                Service(LLM_SERVICE, lambda server: add_llm_servicer(llm, server)),
                Service(BATCH_JOB_SERVICE, lambda server: add_batch_job_servicer(jobs, server)),
            ],
            on_start=[self.start],
            on_stop=[self.stop],
        )


def build_server(settings: LpsSettings | None = None, registry: CollectorRegistry | None = None) -> GrpcServer:
    return LpsApp(settings or LpsSettings(), registry).grpc_server()
