"""Prometheus metrics of one pman app: jobs by state and the queue (read from the registry
at scrape time), step durations (observed as jobs finish)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from radswift.jobmanager import JobManager, JobRecord

__all__ = ["CONTENT_TYPE_LATEST", "ManMetrics"]


class _RegistryCollector(Collector):
    def __init__(self, manager: JobManager) -> None:
        self.manager = manager

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("pman_jobs", "Jobs in the registry by state", labels=["state"])
        for state, count in self.manager.registry.counts().items():
            jobs.add_metric([state.value], count)
        yield jobs
        yield GaugeMetricFamily(
            "pman_queue_length",
            "Jobs waiting for a slot (notstarted)",
            value=self.manager.registry.queue_length(),
        )
        yield GaugeMetricFamily(
            "pman_jobs_running",
            "Jobs handed to the backend, not finished",
            value=self.manager.registry.active(),
        )


class ManMetrics:
    """One registry per app, so that several apps can coexist (tests)."""

    def __init__(self, manager: JobManager) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_RegistryCollector(manager))
        self.step_seconds = Histogram(
            "pman_step_seconds",
            "Duration of finished steps",
            ["step"],
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600),
            registry=self.registry,
        )
        self.finished = Counter(
            "pman_jobs_finished",
            "Jobs finished, by state and reason",
            ["state"],
            registry=self.registry,
        )
        manager.on_finished(self.observe)

    def observe(self, record: JobRecord) -> None:
        self.finished.labels(record.state.value).inc()
        for step, view in record.steps.items():
            start, end = view.get("started_at"), view.get("finished_at")
            if isinstance(start, int | float) and isinstance(end, int | float) and end >= start:
                self.step_seconds.labels(step).observe(end - start)

    def render(self) -> bytes:
        return generate_latest(self.registry)
