"""domain/batch_job.py: batch job states."""

from __future__ import annotations

from llm_provider_server.domain.batch_job import BatchPoll, JobState, RequestCounts, effective_state


def test_completed_without_output_is_finalizing():
    poll = BatchPoll(JobState.COMPLETED, RequestCounts(total=1, succeeded=1), output_ready=False)
    assert effective_state(poll) is JobState.FINALIZING
