"""Prometheus metrics of one node's API (a registry per app, so several apps in one process --
tests, a local cluster -- never share counters).

May import: prometheus_client.
"""

from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

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

    def bind_store(self, compaction_stats: Callable[[], dict[int, dict[str, float]]], tree_store_reads: Callable[[], int]) -> None:
        """The block store's LSM levels and the state tree's cache misses, read at scrape time."""
        self.registry.register(_StoreCollector(compaction_stats, tree_store_reads))

    def bind_cpu(self, snapshot: Callable[[], dict]) -> None:
        """The node's CPU by pipeline stage (node/cpu_meter.py), read at scrape time."""
        self.registry.register(_CpuCollector(snapshot))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StoreCollector:
    """LevelDB compacts on a thread of its own; its read and written bytes per level are how
    an operator tells a compaction storm from a slow disk (see node.kv.compaction_stats)."""

    def __init__(self, compaction_stats: Callable[[], dict[int, dict[str, float]]], tree_store_reads: Callable[[], int]):
        self._stats = compaction_stats
        self._tree_reads = tree_store_reads

    def collect(self):
        stats = self._stats()
        files = GaugeMetricFamily("tamga_store_files", "Table files per LevelDB level", labels=["level"])
        size = GaugeMetricFamily("tamga_store_level_bytes", "Bytes in each LevelDB level", labels=["level"])
        read = CounterMetricFamily("tamga_store_compaction_read_bytes", "Bytes compactions read into each level", labels=["level"])
        written = CounterMetricFamily("tamga_store_compaction_written_bytes", "Bytes compactions wrote into each level", labels=["level"])
        seconds = CounterMetricFamily("tamga_store_compaction_seconds", "Time compactions into each level took", labels=["level"])
        for level, row in sorted(stats.items()):
            label = [str(level)]
            files.add_metric(label, row["files"])
            size.add_metric(label, row["size_mb"] * 2**20)
            read.add_metric(label, row["read_mb"] * 2**20)
            written.add_metric(label, row["written_mb"] * 2**20)
            seconds.add_metric(label, row["seconds"])
        yield from (files, size, read, written, seconds)
        yield CounterMetricFamily("tamga_state_tree_store_reads", "State-tree nodes read from the store (cache misses)", value=self._tree_reads())


class _CpuCollector:
    """Where the node's CPU went since it started: each pipeline stage on the event loop,
    the rest of the event loop, and the other threads. rate() of each over the same window,
    divided by the rate of committed txs, is the CPU per tx of each part."""

    def __init__(self, snapshot: Callable[[], dict]):
        self._snapshot = snapshot

    def collect(self):
        snap = self._snapshot()
        stages = CounterMetricFamily("tamga_cpu_seconds", "CPU seconds used by the node, by part: a pipeline stage on the event loop "
                                     "(admission, build, validate, commit, cadastre), the rest of the event loop (loop_other), and the "
                                     "other threads: gRPC's (grpc_threads), the cadastre's checkpointer (checkpoint_thread) and the rest, "
                                     "which is LevelDB's compaction thread (other_threads); all other threads as one (threads) where they "
                                     "cannot be told apart", labels=["part"])
        for stage, seconds in snap["stages"].items():
            stages.add_metric([stage], seconds)
        loop = snap["event_loop"]
        if loop is not None:
            stages.add_metric(["loop_other"], max(0.0, loop - sum(snap["stages"].values())))
            threads = snap.get("threads")
            if threads is None:
                stages.add_metric(["threads"], max(0.0, snap["process"] - loop))
            else:
                for part, seconds in threads.items():
                    stages.add_metric([part], seconds)
        yield stages
