"""Prometheus metrics: the go-grpc-prometheus server metrics, and the /metrics endpoint.

Each server owns a `CollectorRegistry`, so several servers can live in one
process (tests, the all-in-one runner) without clashing time series.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, start_http_server

# go-grpc-prometheus exports no *_created series; dashboards built for it expect none.
disable_created_metrics()

# LLM calls take seconds to minutes; the tail matters as much as the head.
HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

_CALL_LABELS = ("grpc_type", "grpc_service", "grpc_method")


class GrpcServerMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.started = Counter(
            "grpc_server_started_total", "RPCs started on the server.", _CALL_LABELS, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, by code.",
            (*_CALL_LABELS, "grpc_code"),
            registry=registry,
        )
        self.handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from RPC start to its completion.",
            _CALL_LABELS,
            buckets=HANDLING_BUCKETS,
            registry=registry,
        )
        self.msg_received = Counter(
            "grpc_server_msg_received_total", "Request messages received.", _CALL_LABELS, registry=registry
        )
        self.msg_sent = Counter(
            "grpc_server_msg_sent_total", "Response messages sent.", _CALL_LABELS, registry=registry
        )


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
