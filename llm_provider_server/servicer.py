"""LPS servicers: thin, convert -> service -> convert."""

from __future__ import annotations

from huleedu.llm.v1 import batch_job_service_pb2 as jobs_pb
from huleedu.llm.v1 import batch_job_service_pb2_grpc, comparison_pb2, llm_provider_service_pb2_grpc
from huleedu.llm.v1 import llm_provider_service_pb2 as pb

from llm_provider_server import converters
from llm_provider_server.converters import (
    JOB_STATE_FROM_PROTO,
    PROVIDER_FROM_PROTO,
    job_id_from_name,
    request_id_from_name,
)
from llm_provider_server.domain.manifest import Manifest
from llm_provider_server.domain.mock_judge import MockConfig
from llm_provider_server.service import ComparisonService
from llm_provider_server.settings import LpsSettings
from service_core.paging import keyset_after, keyset_token, offset_from, offset_token, page_size
from service_core.validation import enum_value, enum_values


class LlmProviderServicer(llm_provider_service_pb2_grpc.LlmProviderServiceServicer):
    def __init__(self, settings: LpsSettings, service: ComparisonService, manifest: Manifest, mock_judge: MockConfig):
        self.settings = settings
        self.service = service
        self.manifest = manifest
        self.mock_judge = mock_judge

    async def SubmitComparisons(self, request: pb.SubmitComparisonsRequest, context) -> pb.SubmitComparisonsResponse:
        specs, violations = converters.specs_from_proto(request.requests)
        accepted = await self.service.submit(specs, violations)
        return pb.SubmitComparisonsResponse(acceptances=[converters.acceptance_to_proto(a) for a in accepted])

    async def GetComparison(self, request: pb.GetComparisonRequest, context) -> pb.GetComparisonResponse:
        stored = await self.service.get(request_id_from_name(request.name))
        return pb.GetComparisonResponse(comparison=converters.comparison_to_proto(stored))

    async def CancelComparison(self, request: pb.CancelComparisonRequest, context) -> pb.CancelComparisonResponse:
        stored = await self.service.cancel(request_id_from_name(request.name))
        return pb.CancelComparisonResponse(comparison=converters.comparison_to_proto(stored))

    async def StreamComparisonResults(self, request: pb.StreamComparisonResultsRequest, context):
        lease = request.lease.ToNanoseconds() / 1e9 if request.HasField("lease") else 0.0
        async for leased in self.service.stream(request.consumer, request.after_sequence, lease, request.max_in_flight):
            for result in leased:
                yield pb.StreamComparisonResultsResponse(result=converters.result_to_proto(result))

    async def AckComparisonResults(
        self, request: pb.AckComparisonResultsRequest, context
    ) -> pb.AckComparisonResultsResponse:
        count = await self.service.ack(request.consumer, list(request.request_ids))
        return pb.AckComparisonResultsResponse(acknowledged_count=count)

    async def GetMockMode(self, request: pb.GetMockModeRequest, context) -> pb.GetMockModeResponse:
        return converters.mock_mode_response(self.settings, self.mock_judge)

    async def ListModels(self, request: pb.ListModelsRequest, context) -> pb.ListModelsResponse:
        provider = None
        if request.provider != comparison_pb2.PROVIDER_UNSPECIFIED:
            provider = enum_value(PROVIDER_FROM_PROTO, request.provider, "provider")
        models = self.manifest.list(provider, request.include_deprecated)
        return pb.ListModelsResponse(models=[converters.model_to_proto(m) for m in models])


class BatchJobServicer(batch_job_service_pb2_grpc.BatchJobServiceServicer):
    def __init__(self, service: ComparisonService):
        self.service = service

    async def _job(self, job_id: str):
        job = await self.service.get_job(job_id)
        return converters.job_to_proto(
            job, await self.service.job_comparisons(job_id), await self.service.jobs.parts(job_id)
        )

    async def CreateBatchJob(self, request: jobs_pb.CreateBatchJobRequest, context) -> jobs_pb.CreateBatchJobResponse:
        specs, violations = converters.specs_from_proto(request.requests)
        job = await self.service.create_job(request.request_id, specs, violations)
        return jobs_pb.CreateBatchJobResponse(batch_job=await self._job(job.job_id))

    async def GetBatchJob(self, request: jobs_pb.GetBatchJobRequest, context) -> jobs_pb.GetBatchJobResponse:
        return jobs_pb.GetBatchJobResponse(batch_job=await self._job(job_id_from_name(request.name)))

    async def ListBatchJobs(self, request: jobs_pb.ListBatchJobsRequest, context) -> jobs_pb.ListBatchJobsResponse:
        size = page_size(request.page_size, 20, 100)
        states = enum_values(JOB_STATE_FROM_PROTO, request.states, "states")
        provider = None
        if request.provider != comparison_pb2.PROVIDER_UNSPECIFIED:
            provider = enum_value(PROVIDER_FROM_PROTO, request.provider, "provider").value
        after = keyset_after(request.page_token)
        jobs = await self.service.jobs.list_jobs(limit=size + 1, after=after, states=states, provider=provider)
        next_token = ""
        if len(jobs) > size:
            jobs = jobs[:size]
            next_token = keyset_token(jobs[-1].created_at, jobs[-1].job_id)
        return jobs_pb.ListBatchJobsResponse(
            batch_jobs=[converters.job_to_proto(j) for j in jobs], next_page_token=next_token
        )

    async def CancelBatchJob(self, request: jobs_pb.CancelBatchJobRequest, context) -> jobs_pb.CancelBatchJobResponse:
        job = await self.service.cancel_job(job_id_from_name(request.name))
        return jobs_pb.CancelBatchJobResponse(batch_job=await self._job(job.job_id))

    async def WatchBatchJob(self, request: jobs_pb.WatchBatchJobRequest, context):
        async for job in self.service.watch_job(job_id_from_name(request.name)):
            parts = await self.service.jobs.parts(job.job_id)
            yield jobs_pb.WatchBatchJobResponse(batch_job=converters.job_to_proto(job, parts=parts))

    async def ListBatchJobResults(
        self, request: jobs_pb.ListBatchJobResultsRequest, context
    ) -> jobs_pb.ListBatchJobResultsResponse:
        job_id = job_id_from_name(request.name)
        await self.service.get_job(job_id)
        size = page_size(request.page_size, 100, 500)
        offset = offset_from(request.page_token)
        results = await self.service.jobs.results(job_id, offset=offset, limit=size + 1)
        next_token = offset_token(offset + size) if len(results) > size else ""
        return jobs_pb.ListBatchJobResultsResponse(
            results=[converters.result_to_proto(r) for r in results[:size]], next_page_token=next_token
        )
