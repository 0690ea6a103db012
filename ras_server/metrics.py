"""RAS domain metrics, beside the go-grpc-prometheus ones every server exports."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ras_server.domain.status import BatchState


class RasMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.events = Counter(
            "ras_events_total",
            "Ingest events by kind and outcome: applied, duplicate (same event id and content) or rejected.",
            ("kind", "outcome"),
            registry=registry,
        )
        self.batches = Gauge(
            "ras_batches", "Batches by state, as stored (refreshed from the database).", ("state",), registry=registry
        )
        self.completion_seconds = Histogram(
            "ras_batch_completion_seconds",
            "Time from a batch's registration to its final state (event times).",
            buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600, 86400),
            registry=registry,
        )
        self.subscribers = Gauge(
            "ras_live_subscribers", "Open status streams, by stream.", ("stream",), registry=registry
        )

    def set_batches(self, counts: dict[str, int]) -> None:
        for state in BatchState:
            self.batches.labels(state.value).set(counts.get(state.value, 0))
