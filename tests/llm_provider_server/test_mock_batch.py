"""domain/mock_batch.py: the mock batch lifecycle."""

from __future__ import annotations

from llm_provider_server.domain import mock_batch
from llm_provider_server.domain.batch_job import JobState


class TestMockBatchLifecycle:
    timing = mock_batch.MockBatchTiming(
        validating_seconds=1, processing_seconds=10, finalizing_seconds=1, window_seconds=100, output_delay_seconds=2
    )

    def at(self, now, cancel_at=None):
        return mock_batch.snapshot(submitted_at=0, count=10, now=now, timing=self.timing, cancel_at=cancel_at)

    def test_states_in_order(self):
        assert [self.at(t).state for t in (0.5, 5, 11.5, 12.5, 14)] == [
            JobState.VALIDATING,
            JobState.IN_PROGRESS,
            JobState.FINALIZING,
            JobState.COMPLETED,
            JobState.COMPLETED,
        ]
        assert self.at(5).items.count(mock_batch.ItemState.DONE) == 4
        assert not self.at(12.5).output_ready and self.at(14).output_ready

    def test_cancel_keeps_finished_items(self):
        snap = self.at(8, cancel_at=6)
        assert snap.state is JobState.CANCELLED
        assert snap.items.count(mock_batch.ItemState.DONE) == 5
        assert snap.items.count(mock_batch.ItemState.CANCELLED) == 5
        assert self.at(6.5, cancel_at=6).state is JobState.CANCELLING

    def test_expiry_keeps_finished_items(self):
        timing = mock_batch.MockBatchTiming(validating_seconds=1, processing_seconds=10, window_seconds=6)
        snap = mock_batch.snapshot(submitted_at=0, count=10, now=7, timing=timing)
        assert snap.state is JobState.EXPIRED
        assert snap.items.count(mock_batch.ItemState.DONE) == 5 and snap.items.count(mock_batch.ItemState.EXPIRED) == 5
