"""Prometheus metrics: the go-grpc-prometheus server metrics, and the /metrics endpoint.

Each server owns a `CollectorRegistry`, so several servers can live in one
process (tests, the all-in-one runner) without clashing time series.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, disable_created_metrics, start_http_server
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

# go-grpc-prometheus exports no *_created series; dashboards built for it expect none.
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated

# LLM calls take seconds to minutes; the tail matters as much as the head.
HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

_CALL_LABELS = ("grpc_type", "grpc_service", "grpc_method")


class MethodStats:
    """One method's counters and histogram as plain numbers.

    Every call is observed on the event loop's thread, so increments need no lock (the
    prometheus_client metric objects take one per increment: five per call); the /metrics
    thread reads copies. This is what makes the metrics nearly free per call.
    """

    __slots__ = ("buckets", "handled", "labels", "received", "seconds_sum", "sent", "started")

    def __init__(self, labels: tuple[str, str, str]):
        self.labels = labels
        self.started = 0
        self.received = 0
        self.sent = 0
        self.handled: dict[str, int] = {}
        self.buckets = [0] * (len(HANDLING_BUCKETS) + 1)  # the last is +Inf
        self.seconds_sum = 0.0

    def observe(self, seconds: float) -> None:
        self.buckets[bisect_left(HANDLING_BUCKETS, seconds)] += 1
        self.seconds_sum += seconds

    def count_handled(self, go_code: str) -> None:
        self.handled[go_code] = self.handled.get(go_code, 0) + 1


class GrpcServerMetrics(Collector):
    """The go-grpc-prometheus server metrics (`grpc_server_started_total`, `_handled_total`,
    `_msg_received_total`, `_msg_sent_total`, `_handling_seconds`), collected from `MethodStats`."""

    def __init__(self, registry: CollectorRegistry):
        self._methods: dict[tuple[str, str, str], MethodStats] = {}
        registry.register(self)

    def method(self, grpc_type: str, service: str, method: str) -> MethodStats:
        labels = (grpc_type, service, method)
        stats = self._methods.get(labels)
        if stats is None:
            stats = self._methods[labels] = MethodStats(labels)
        return stats

    def describe(self) -> Iterable[Metric]:
        return self._families([])

    def collect(self) -> Iterable[Metric]:
        return self._families(list(self._methods.copy().values()))

    @staticmethod
    def _families(methods: list[MethodStats]) -> list[Metric]:
        labels = list(_CALL_LABELS)
        started = CounterMetricFamily("grpc_server_started", "RPCs started on the server.", labels=labels)
        handled = CounterMetricFamily(
            "grpc_server_handled", "RPCs completed on the server, by code.", labels=[*labels, "grpc_code"]
        )
        received = CounterMetricFamily("grpc_server_msg_received", "Request messages received.", labels=labels)
        sent = CounterMetricFamily("grpc_server_msg_sent", "Response messages sent.", labels=labels)
        seconds = HistogramMetricFamily(
            "grpc_server_handling_seconds", "Time from RPC start to its completion.", labels=labels
        )
        bounds = [*(str(float(b)) for b in HANDLING_BUCKETS), "+Inf"]
        for stats in methods:
            values = list(stats.labels)
            started.add_metric(values, stats.started)
            received.add_metric(values, stats.received)
            sent.add_metric(values, stats.sent)
            for code, count in stats.handled.copy().items():
                handled.add_metric([*values, code], count)
            cumulative = list(accumulate(stats.buckets.copy()))
            seconds.add_metric(values, list(zip(bounds, cumulative, strict=True)), stats.seconds_sum)
        return [started, handled, received, sent, seconds]


@dataclass
class MetricsEndpoint:
    httpd: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.httpd.server_port

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start_metrics_endpoint(registry: CollectorRegistry, host: str, port: int) -> MetricsEndpoint:
    """Serve /metrics on its own port (0 = any free port)."""
    httpd, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsEndpoint(httpd, thread)
