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
        self.resends = Counter(
            "cj_llm_resends_total",
            "Sends to the LLM provider server that failed transiently and are retried with backoff.",
            registry=registry,
        )
        self.outbox_dead = Counter(
            "cj_outbox_dead_total",
            "Outbox rows RAS refused permanently, parked as dead (not retried).",
            ("kind",),
            registry=registry,
        )
        self.result_batch = Histogram(
            "cj_result_batch_size",
            "Results from the LLM provider server applied in one transaction.",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
            registry=registry,
        )
        self.background_restarts = Counter(
            "cj_background_restarts_total",
            "Background loops that raised and were restarted by the supervisor, by loop.",
            ("loop",),
            registry=registry,
        )
        self.leases = Counter(
            "cj_lease_takeovers_total",
            "Assessments this replica started advancing (new, or taken over from an expired lease).",
            registry=registry,
        )
