"""LPS use cases, between the thin servicers and the store: validate, resolve the
provider and model, persist, deliver."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace

from llm_provider_server.domain.batch_job import JobRecord, JobState
from llm_provider_server.domain.manifest import Manifest
from llm_provider_server.domain.model import (
    BATCH_JOBS,
    COMPARISONS,
    Acceptance,
    ComparisonSpec,
    Provider,
    ResultRecord,
    StoredRequest,
)
from llm_provider_server.domain.validation import Limits, consumer_violation, validate_batch
from llm_provider_server.domain.vendor_limits import MAX_JOB_REQUESTS
from llm_provider_server.settings import LpsSettings
from llm_provider_server.store import BatchJobStore, LpsStore, NewRequest
from service_core.errors import (
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    InvariantBroken,
    NotFound,
)


class ComparisonService:
    def __init__(
        self,
        settings: LpsSettings,
        store: LpsStore,
        jobs: BatchJobStore,
        manifest: Manifest,
        clock: Callable[[], float] = time.time,
        on_work: Callable[[], None] = lambda: None,
        on_job_created: Callable[[JobRecord], None] = lambda job: None,
        on_rejected: Callable[[str], None] = lambda reason: None,
        on_cancel: Callable[[str], None] = lambda kind: None,
    ):
        self.settings = settings
        self.store = store
        self.jobs = jobs
        self.manifest = manifest
        self.clock = clock
        self.on_work = on_work
        self.on_job_created = on_job_created
        self.on_rejected = on_rejected
        self.on_cancel = on_cancel
        self.limits = Limits(max_essay_chars=settings.max_essay_chars)
        # CreateBatchJob's contract: 1 to MAX_JOB_REQUESTS requests (split to the vendor's limits later).
        self.job_limits = replace(self.limits, max_requests_per_call=MAX_JOB_REQUESTS)
        self.background: set[asyncio.Task] = set()

    # ---- providers -----------------------------------------------------------------------

    def available_providers(self) -> set[Provider]:
        settings = self.settings
        if settings.use_mock_llm:
            return set(Provider)
        available = {Provider.MOCK} if settings.allow_mock_provider else set()
        if settings.openai_api_key.get_secret_value() or settings.openai_base_url:
            available.add(Provider.OPENAI)
        if settings.anthropic_api_key.get_secret_value():
            available.add(Provider.ANTHROPIC)
        return available

    def resolve(self, spec: ComparisonSpec) -> NewRequest:
        """The provider and model that will actually run the request: under use_mock_llm the mock,
        which results then report, rather than the provider that was asked for."""
        if self.settings.use_mock_llm:
            return NewRequest(spec, Provider.MOCK, self.manifest.default_for(Provider.MOCK).model_id)
        provider = spec.overrides.provider or Provider(self.settings.default_provider.value)
        model = self.manifest.resolve(provider, spec.overrides.model)
        if model is None:  # validation resolved it already
            raise InvariantBroken(f"model {spec.overrides.model!r} of {provider.value} passed validation, yet unknown")
        return NewRequest(spec, provider, model.model_id)

    def validate(
        self,
        specs: Sequence[ComparisonSpec],
        violations: list[FieldViolation],
        field: str = "requests",
        limits: Limits | None = None,
    ) -> list[NewRequest]:
        violations = violations + validate_batch(
            list(specs),
            manifest=self.manifest,
            available=self.available_providers(),
            default_provider=Provider(self.settings.default_provider.value),
            limits=limits or self.limits,
            field_prefix=field,
        )
        if violations:
            raise InvalidArgument(violations)
        return [self.resolve(spec) for spec in specs]

    # ---- comparisons ---------------------------------------------------------------------

    async def submit(self, specs: Sequence[ComparisonSpec], violations: list[FieldViolation]) -> list[Acceptance]:
        try:
            accepted = await self.store.submit(self.validate(specs, violations), self.clock())
        except DomainError as refused:
            self.on_rejected(refused.reason)
            raise
        self.on_work()
        return accepted

    async def get(self, request_id: str) -> StoredRequest:
        stored = await self.store.get(request_id)
        if stored is None:
            raise NotFound.resource(COMPARISONS.format(request_id), "COMPARISON_NOT_FOUND")
        return stored

    async def cancel(self, request_id: str) -> StoredRequest:
        stored = await self.get(request_id)
        if stored.status.is_terminal:
            raise FailedPrecondition.ended(COMPARISONS.format(request_id), stored.status.value, "COMPARISON_ENDED")
        cancelled = await self.store.cancel(request_id, self.clock())
        if cancelled is None:  # pruned between the lookup and the cancel
            raise NotFound(f"comparison {request_id} no longer exists", reason="COMPARISON_NOT_FOUND")
        self.on_cancel("comparison")
        return cancelled

    async def stream(
        self, consumer: str, after_sequence: int, lease_seconds: float, max_in_flight: int
    ) -> AsyncIterator[list[ResultRecord]]:
        """The consumer's results as they are recorded, in batches leased together (each result
        once per lease, oldest first; at most `max_in_flight` unacknowledged at a time)."""
        if violation := consumer_violation(consumer):
            raise InvalidArgument(violation)
        if after_sequence < 0 or lease_seconds < 0 or max_in_flight < 0:
            raise InvalidArgument(FieldViolation("after_sequence", "must not be negative"))
        lease = lease_seconds or self.settings.result_lease_seconds
        window = max_in_flight or self.settings.result_max_in_flight
        subscriber = uuid.uuid4().hex
        try:
            while True:
                leased = await self.store.lease_results(
                    consumer, subscriber, after_sequence, self.clock(), lease, window
                )
                if leased:
                    yield leased
                else:
                    await self.store.wait_for_change(self.settings.idle_poll_seconds)
        finally:
            # Hand this subscriber's unacknowledged results back now rather than when their leases
            # lapse. A task, because the handler is being cancelled; shutdown waits for it.
            release = asyncio.create_task(self.store.release_leases(consumer, subscriber))
            self.background.add(release)
            release.add_done_callback(self.background.discard)

    async def ack(self, consumer: str, request_ids: Sequence[str]) -> int:
        if violation := consumer_violation(consumer):
            raise InvalidArgument(violation)
        if not request_ids:
            raise InvalidArgument(FieldViolation("request_ids", "at least one request id"))
        return await self.store.ack(consumer, request_ids, self.clock())

    # ---- batch jobs ----------------------------------------------------------------------

    async def create_job(
        self, request_id: str, specs: Sequence[ComparisonSpec], violations: list[FieldViolation]
    ) -> JobRecord:
        try:
            return await self._create_job(request_id, specs, violations)
        except DomainError as refused:
            self.on_rejected(refused.reason)
            raise

    async def _create_job(
        self, request_id: str, specs: Sequence[ComparisonSpec], violations: list[FieldViolation]
    ) -> JobRecord:
        if not request_id.strip():
            violations = [*violations, FieldViolation("request_id", "required")]
        resolved = self.validate(specs, violations, limits=self.job_limits)
        if len({(item.provider, item.model) for item in resolved}) > 1:
            raise InvalidArgument(FieldViolation("requests", "all requests of a job must use one provider and model"))
        job, duplicate = await self.jobs.create_job(request_id, resolved, self.clock())
        if not duplicate:
            self.on_job_created(job)
        self.on_work()
        return job

    async def get_job(self, job_id: str) -> JobRecord:
        job = await self.jobs.get(job_id)
        if job is None:
            raise NotFound.resource(BATCH_JOBS.format(job_id), "BATCH_JOB_NOT_FOUND")
        return job

    async def cancel_job(self, job_id: str) -> JobRecord:
        job = await self.get_job(job_id)
        if job.state.is_terminal:
            raise FailedPrecondition.ended(BATCH_JOBS.format(job_id), job.state.value, "BATCH_JOB_ENDED")
        cancelled = await self.jobs.request_cancel(job_id, self.clock())
        if cancelled is None:
            raise NotFound(f"batch job {job_id} no longer exists", reason="BATCH_JOB_NOT_FOUND")
        self.on_cancel("batch_job")
        self.on_work()
        return cancelled

    async def watch_job(self, job_id: str) -> AsyncIterator[JobRecord]:
        job = await self.get_job(job_id)
        yield job
        while not job.state.is_terminal:
            await asyncio.sleep(min(self.settings.batch_poll_interval_seconds, 0.5))
            current = await self.get_job(job_id)
            if (current.state, current.counts, current.updated_at) != (job.state, job.counts, job.updated_at):
                yield current
            job = current

    async def job_comparisons(self, job_id: str) -> list[str]:
        return [claim.spec.request_id for claim in await self.jobs.claims(job_id)]

    @staticmethod
    def job_states(values: Sequence[JobState]) -> list[JobState]:
        return list(values)
