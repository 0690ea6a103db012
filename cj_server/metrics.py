"""CJ domain metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class CjMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.llm_requests = Counter(
            "cj_llm_requests_total",
            "Comparison requests sent to the LLM provider server.",
            ("batching_mode",),
            registry=registry,
        )
        self.batches_started = Counter(
            "cj_llm_batches_started_total",
            "Waves sent to the LLM provider server.",
            ("batching_mode",),
            registry=registry,
        )
        self.judgements = Counter(
            "cj_judgements_total",
            "Results received, by outcome (duplicates and orphans counted apart).",
            ("outcome",),
            registry=registry,
        )
        self.assessments = Counter(
            "cj_assessments_total", "Assessments ended, by final state.", ("state",), registry=registry
        )
        self.fit_seconds = Histogram(
            "cj_fit_duration_seconds",
            "Engine step time: fit, reliability, pairing.",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.reliability = Histogram(
            "cj_reliability_at_finalization",
            "Split-half reliability of finished assessments.",
            buckets=(0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1.0),
            registry=registry,
        )
        self.outbox_delivered = Counter(
            "cj_outbox_delivered_total", "Outbox rows delivered to RAS.", ("kind",), registry=registry
        )
