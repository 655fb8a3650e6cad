"""Prometheus metrics of one pfioh app (its own registry, so several apps can coexist)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "IohMetrics"]


class IohMetrics:
    """Requests, bytes and objects moved, pushes in flight and their outcomes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pfioh_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pfioh_request_seconds",
            "Time to the first response byte",
            ["route"],
            registry=self.registry,
        )
        self.bytes_in = Counter(
            "pfioh_push_bytes", "Bytes stored by pushes", registry=self.registry
        )
        self.bytes_out = Counter(
            "pfioh_pull_bytes", "Object bytes sent by pulls", registry=self.registry
        )
        self.objects_in = Counter(
            "pfioh_push_objects", "Objects stored by pushes", registry=self.registry
        )
        self.pushes = Counter(
            "pfioh_pushes", "Finished pushes by outcome", ["outcome"], registry=self.registry
        )
        self.in_flight = Gauge(
            "pfioh_transfers_in_flight",
            "Pushes and pulls running",
            ["kind"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
