"""Prometheus metrics of one node's API (a registry per app, so several apps in one process --
tests, a local cluster -- never share counters).

May import: prometheus_client.
"""

from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter("tamga_http_requests", "HTTP requests served", ["method", "route", "status"], registry=r)
        self.http_seconds = Histogram(
            "tamga_http_request_seconds", "HTTP request latency", ["route"], registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.info_requests = Counter("tamga_cadastre_info_requests", "Requests for cadastre information (Art 16)", ["action", "outcome"], registry=r)
        self.submitted = Counter("tamga_api_submitted_txs", "Envelopes submitted through the HTTP API", ["result"], registry=r)
        self.projection_errors = Counter("tamga_cadastre_projection_errors", "Failures applying a block to the cadastre", registry=r)
        self.webhook_deliveries = Counter("tamga_webhook_deliveries", "Webhook delivery attempts", ["result"], registry=r)
        self.chain_height = Gauge("tamga_chain_height", "Last committed height", registry=r)
        self.cadastre_height = Gauge("tamga_cadastre_height", "Last height applied to the cadastre", registry=r)
        self.cadastre_lag = Gauge("tamga_cadastre_lag_blocks", "Blocks committed but not yet in the cadastre", registry=r)
        self.mempool = Gauge("tamga_mempool_txs", "Pending transactions", registry=r)
        self.webhook_pending = Gauge("tamga_webhook_pending", "Webhook deliveries not yet acknowledged", registry=r)
        self.sse_clients = Gauge("tamga_sse_clients", "Open event streams", registry=r)

    def bind(self, chain_height: Callable[[], int], cadastre_height: Callable[[], int], mempool: Callable[[], int], webhook_pending: Callable[[], int]) -> None:
        """Gauges read at scrape time, so they are never stale."""
        self.chain_height.set_function(chain_height)
        self.cadastre_height.set_function(cadastre_height)
        self.cadastre_lag.set_function(lambda: max(0, chain_height() - cadastre_height()))
        self.mempool.set_function(mempool)
        self.webhook_pending.set_function(webhook_pending)

    def render(self) -> bytes:
        return generate_latest(self.registry)
