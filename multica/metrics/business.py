"""Prometheus counters paired with product events, and the analytics pipeline's own metrics (SPEC §7, D5, D8)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from multica.analytics.catalog import CATALOG, Metric
from multica.metrics.labels import NORMALIZERS
from multica.metrics.tasks import AgentTaskMetrics

RUNTIME_READY_BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600)
PIPELINE_OUTCOMES = ("sent", "dropped", "failed", "retried", "spooled", "replayed", "spool_dropped")


def _label_values(metric: Metric, properties: dict) -> list[str]:
    values = []
    for label in metric.labels:
        if label.value is not None:
            values.append(label.value)
            continue
        raw = properties.get(label.prop)
        if label.normalizer != "bool" and not isinstance(raw, str):
            raw = ""
        values.append(NORMALIZERS[label.normalizer](raw))
    return values


class Metrics:
    """Every business counter of the catalog, declared on one registry (one per app)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.counters: dict[str, Counter] = {}
        for spec in CATALOG.values():
            metric = spec.metric
            if metric is None or metric.name in self.counters:
                continue
            self.counters[metric.name] = Counter(
                metric.name.removesuffix("_total"),
                metric.help or f"{spec.name} events",
                [label.name for label in metric.labels],
                registry=self.registry,
            )
        # `analytics reconcile` reads this counter; it exists at 0 from start-up (D19.14).
        for source in ("manual", "chat", "autopilot"):
            self.counters["multica_issue_executed_total"].labels(source)
        self.runtime_ready_seconds = Histogram(
            "multica_runtime_ready_seconds",
            "Time from daemon start to a ready runtime.",
            ["runtime_mode", "provider"],
            buckets=RUNTIME_READY_BUCKETS,
            registry=self.registry,
        )
        self.analytics_events = Counter(
            "multica_analytics_events",
            "Analytics pipeline outcomes, counted per event.",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in PIPELINE_OUTCOMES:
            self.analytics_events.labels(outcome)
        self.analytics_queue = Gauge(
            "multica_analytics_queue_depth",
            "Events waiting in the analytics queue.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.analytics_spool = Gauge(
            "multica_analytics_spool_bytes",
            "Bytes of undelivered events in the analytics spool directory.",
            registry=self.registry,
            # Workers sharing one directory each report all of it.
            multiprocess_mode="livemax",
        )
        self.schema_violations = Counter(
            "multica_analytics_schema_violations",
            "Shipped events that broke their catalog entry (production only).",
            ["event"],
            registry=self.registry,
        )
        self.tasks = AgentTaskMetrics(self.registry)

    def count_event(self, event) -> None:
        """Increment the counter paired with `event` (SPEC §7); unpaired events count nothing."""
        spec = CATALOG.get(event.name)
        if spec is None or spec.metric is None:
            return
        properties = event.properties or {}
        counter = self.counters[spec.metric.name]
        if spec.metric.labels:
            counter.labels(*_label_values(spec.metric, properties)).inc()
        else:
            counter.inc()
        if event.name == "runtime_ready":
            duration_ms = properties.get("ready_duration_ms")
            if isinstance(duration_ms, (int, float)) and not isinstance(duration_ms, bool) and duration_ms > 0:
                mode, provider = _label_values(spec.metric, properties)
                self.runtime_ready_seconds.labels(mode, provider).observe(duration_ms / 1000)

    # The analytics client's observer interface.
    def outcome(self, outcome: str, count: int) -> None:
        """Count `count` events under one of PIPELINE_OUTCOMES."""
        self.analytics_events.labels(outcome).inc(count)

    def queue_depth(self, depth: int) -> None:
        """Record the current analytics queue depth."""
        self.analytics_queue.set(depth)

    def spool_bytes(self, size: int) -> None:
        """Record the size of the analytics spool."""
        self.analytics_spool.set(size)

    def schema_violation(self, event_name: str) -> None:
        """Count an event shipped despite breaking its schema."""
        name = event_name if event_name in CATALOG else "unknown"
        self.schema_violations.labels(name).inc()
