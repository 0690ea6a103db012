"""LPS domain metrics (the seeds' names and labels, plus requests, tokens, cost,
provider latency, queue depth and circuit-breaker state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
CALL_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


class LpsMetrics:
    def __init__(self, registry: CollectorRegistry):
        def counter(name, doc, labels):
            return Counter(name, doc, labels, registry=registry)

        self.queue_wait = Histogram(
            "llm_provider_queue_wait_time_seconds",
            "Time from acceptance to the recorded outcome.",
            ("queue_processing_mode", "result"),
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self.callbacks = counter(
            "llm_provider_comparison_callbacks_total",
            "Results recorded for delivery, by outcome.",
            ("queue_processing_mode", "result"),
        )
        self.batch_jobs = counter(
            "llm_provider_batch_api_jobs_total",
            "Provider batch jobs by status reached.",
            ("provider", "model", "status"),
        )
        self.batch_items = Histogram(
            "llm_provider_batch_api_items_per_job",
            "Requests per provider batch job.",
            ("provider", "model"),
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096),
            registry=registry,
        )
        self.batch_duration = Histogram(
            "llm_provider_batch_api_job_duration_seconds",
            "Provider batch job time from creation to its end.",
            ("provider", "model"),
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400),
            registry=registry,
        )
        self.requests = counter(
            "llm_provider_requests_total", "Provider calls by outcome.", ("provider", "model", "outcome")
        )
        self.tokens = counter("llm_provider_tokens_total", "Tokens used.", ("provider", "model", "token_type"))
        self.cost = counter(
            "llm_provider_cost_usd_total", "Cost of recorded results in US dollars.", ("provider", "model")
        )
        self.call_seconds = Histogram(
            "llm_provider_call_duration_seconds",
            "Provider call latency.",
            ("provider", "model"),
            buckets=CALL_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "llm_provider_queue_depth", "Requests in the queue by state.", ("state",), registry=registry
        )
        self.breaker_state = Gauge(
            "llm_provider_circuit_breaker_state", "0 closed, 1 open, 2 half-open.", ("provider",), registry=registry
        )
        self.rejected = counter("llm_provider_rejected_total", "Submissions refused, by reason.", ("reason",))
        self.cancellations = counter(
            "llm_provider_cancellations_total", "Cancellations asked for, by what was cancelled.", ("kind",)
        )
        self.batch_splits = counter(
            "llm_provider_batch_api_job_splits_total",
            "Batch jobs split into several vendor jobs to fit the vendor's limits.",
            ("provider",),
        )
        self.vendor_jobs = counter(
            "llm_provider_batch_api_vendor_jobs_total", "Vendor batch jobs submitted.", ("provider",)
        )
        self.vendor_cancels = counter(
            "llm_provider_batch_api_vendor_cancels_total", "Cancels sent to a vendor batch job.", ("provider",)
        )
        self.batch_poll_failures = counter(
            "llm_provider_batch_api_poll_failures_total",
            "Rounds of a batch job that failed (a vendor call or the database) and were retried, by reason.",
            ("provider", "reason"),
        )
        self.retries = counter("llm_provider_retries_total", "Attempts put back for a retry.", ("provider", "reason"))
