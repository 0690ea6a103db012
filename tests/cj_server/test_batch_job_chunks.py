"""A provider_batch_api wave as CreateBatchJob calls within the contract and the message size."""

from __future__ import annotations

from huleedu.llm.v1 import comparison_pb2

from cj_server.domain.batch_job_chunks import BATCH_JOB_MAX_REQUESTS, FRAMING_BYTES, batch_job_chunks


def test_chunks_respect_the_request_count_and_the_message_size():
    requests = [comparison_pb2.ComparisonRequest(request_id=f"r{i}", essay_a_text="x" * 100) for i in range(25_000)]
    chunks = batch_job_chunks(requests, max_bytes=16 * 1024 * 1024)
    assert [len(c) for c in chunks] == [10_000, 10_000, 5_000]
    small = batch_job_chunks(requests[:100], max_bytes=1_500)
    assert all(sum(r.ByteSize() + FRAMING_BYTES for r in c) <= 1_500 for c in small) and sum(map(len, small)) == 100
    assert BATCH_JOB_MAX_REQUESTS == 10_000
