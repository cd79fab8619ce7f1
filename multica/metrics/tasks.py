"""Agent task lifecycle metrics (SPEC §6.3, Appendix A).

Agent tasks have no analytics event at all: their lifecycle is recorded straight into Prometheus
through the typed methods of `AgentTaskMetrics`. Every label value passes a §6.4 normalizer, and no
metric carries an id label; task ids are only held in memory to keep the in-progress gauge honest.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from multica.metrics.labels import (
    CANONICAL_FAILURE_REASONS,
    normalize_failure_reason,
    normalize_provider,
    normalize_runtime_mode,
    normalize_task_source,
    normalize_terminal_status,
)

DURATION_BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 3600, 7200)
ITERATION_BUCKETS = (1, 2, 3, 4, 5, 10, 20, 50)

# Sources and modes whose failure series exist from the start, so a `rate()` over them is defined
# before the first failure happens (Appendix A).
PRECREATED_SOURCES = ("issue", "chat", "autopilot", "autopilot_issue", "quick_create", "other")
PRECREATED_MODES = ("local", "cloud", "unknown")

# Upper bound on remembered in-flight task ids. A task that never reaches a terminal state (lost
# worker, crashed dispatcher) would otherwise be remembered forever.
DEFAULT_MAX_TRACKED_TASKS = 100_000


def _duration(value: object) -> float | None:
    """Return `value` as seconds when it is a usable, non-negative duration, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    seconds = float(value)
    # Clock skew can make a computed duration negative; observing it would corrupt the histogram.
    if math.isnan(seconds) or seconds < 0:
        return None
    return seconds


def _attempt(value: object) -> int:
    """Return the attempt count as an int of at least 1 (the reference's minimum)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return 1
    return max(1, int(value))


class AgentTaskMetrics:
    """The §6.3 agent-task metrics, declared on one registry, with typed recording methods."""

    def __init__(self, registry: CollectorRegistry, *, max_tracked_tasks: int = DEFAULT_MAX_TRACKED_TASKS) -> None:
        """Declare every task metric on `registry` and pre-create the failure series at zero."""
        self.enqueued = Counter(
            "multica_agent_task_enqueued_total", "Agent tasks enqueued.",
            ("source", "runtime_mode"), registry=registry,
        )
        self.dispatched = Counter(
            "multica_agent_task_dispatched_total", "Agent tasks dispatched to a runtime.",
            ("source", "runtime_mode"), registry=registry,
        )
        self.started = Counter(
            "multica_agent_task_started_total", "Agent tasks started by a runtime.",
            ("source", "runtime_mode", "provider"), registry=registry,
        )
        self.terminal = Counter(
            "multica_agent_task_terminal_total", "Agent tasks that reached a terminal status.",
            ("source", "runtime_mode", "terminal_status"), registry=registry,
        )
        self.failed = Counter(
            "multica_agent_task_failed_total", "Agent task failures by coarse reason.",
            ("source", "runtime_mode", "failure_reason"), registry=registry,
        )
        self.queue_wait_seconds = Histogram(
            "multica_agent_task_queue_wait_seconds", "Seconds from enqueue to dispatch.",
            ("source", "runtime_mode"), buckets=DURATION_BUCKETS, registry=registry,
        )
        self.run_seconds = Histogram(
            "multica_agent_task_run_seconds", "Seconds from start to terminal status.",
            ("source", "runtime_mode", "terminal_status"), buckets=DURATION_BUCKETS, registry=registry,
        )
        self.total_seconds = Histogram(
            "multica_agent_task_total_seconds", "Seconds from enqueue to terminal status.",
            ("source", "runtime_mode", "terminal_status"), buckets=DURATION_BUCKETS, registry=registry,
        )
        # sum: under gunicorn a task dispatched through one worker may end through another, so a
        # worker's file holds only its half of each task's +1/-1; a dead worker's half must stay.
        self.in_progress = Gauge(
            "multica_agent_task_in_progress", "Agent tasks dispatched and not yet terminal.",
            ("source", "runtime_mode"), multiprocess_mode="sum", registry=registry,
        )
        self.iteration_count = Histogram(
            "multica_agent_task_iteration_count", "Attempts a task took to reach a terminal status.",
            ("source", "terminal_status"), buckets=ITERATION_BUCKETS, registry=registry,
        )
        self._lock = threading.Lock()
        # task id -> the (source, runtime_mode) series it was counted in, oldest first.
        self._in_flight: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._max_tracked = max(1, max_tracked_tasks)
        for source in PRECREATED_SOURCES:
            for mode in PRECREATED_MODES:
                for reason in CANONICAL_FAILURE_REASONS:
                    self.failed.labels(source, mode, reason)
                # Terminal series exist at 0 too: Prometheus sees no increase in a series born at 1,
                # and `analytics reconcile` reads these (D19.14).
                for status in ("completed", "failed", "cancelled"):
                    self.terminal.labels(source, mode, status)

    def record_enqueued(self, source: object, runtime_mode: object) -> None:
        """Count a task entering the queue."""
        self.enqueued.labels(normalize_task_source(source), normalize_runtime_mode(runtime_mode)).inc()

    def record_dispatched(self, task_id: object, source: object, runtime_mode: object, *, once: bool = False) -> None:
        """Count a dispatch and, the first time this task id is seen, raise the in-progress gauge.

        `once`: the caller's database already decided that this dispatch happens once, and the task
        may end in another process; the gauge is raised without remembering the id here (pair it
        with `record_terminal(..., dispatched=...)`).
        """
        labels = (normalize_task_source(source), normalize_runtime_mode(runtime_mode))
        self.dispatched.labels(*labels).inc()
        if once:
            self.in_progress.labels(*labels).inc()
            return
        if not isinstance(task_id, str) or not task_id:
            return
        with self._lock:
            # A re-dispatch (retry, duplicate delivery) is still one task in progress.
            if task_id in self._in_flight:
                return
            if len(self._in_flight) >= self._max_tracked:
                # Forget the oldest task as if it had ended; better a slightly low gauge than
                # unbounded memory and a gauge that only ever climbs.
                _, oldest_labels = self._in_flight.popitem(last=False)
                self.in_progress.labels(*oldest_labels).dec()
            self._in_flight[task_id] = labels
            self.in_progress.labels(*labels).inc()

    def record_started(self, source: object, runtime_mode: object, provider: object) -> None:
        """Count a task picked up by a runtime of `provider`."""
        self.started.labels(
            normalize_task_source(source), normalize_runtime_mode(runtime_mode), normalize_provider(provider),
        ).inc()

    def record_terminal(
        self,
        task_id: object,
        source: object,
        runtime_mode: object,
        terminal_status: object,
        queue_wait_seconds: float | None = None,
        run_seconds: float | None = None,
        total_seconds: float | None = None,
        attempt: int = 1,
        dispatched: bool | None = None,
    ) -> None:
        """Count a task reaching `completed`/`failed`/`cancelled` and observe its durations.

        Durations that are None or negative are not observed. The in-progress gauge is lowered
        only when this task id was counted by `record_dispatched`, so a terminal without a
        dispatch (or a duplicate terminal) cannot drive it below zero. With `dispatched` the
        caller's database says whether the task was dispatched (and that this terminal happens
        once), which holds whichever process counted the dispatch.
        """
        src, mode = normalize_task_source(source), normalize_runtime_mode(runtime_mode)
        status = normalize_terminal_status(terminal_status)
        self.terminal.labels(src, mode, status).inc()
        queue_wait = _duration(queue_wait_seconds)
        if queue_wait is not None:
            self.queue_wait_seconds.labels(src, mode).observe(queue_wait)
        run = _duration(run_seconds)
        if run is not None:
            self.run_seconds.labels(src, mode, status).observe(run)
        total = _duration(total_seconds)
        if total is not None:
            self.total_seconds.labels(src, mode, status).observe(total)
        self.iteration_count.labels(src, status).observe(_attempt(attempt))
        if dispatched is not None:
            if dispatched:
                self.in_progress.labels(src, mode).dec()
            return
        if not isinstance(task_id, str) or not task_id:
            return
        with self._lock:
            counted = self._in_flight.pop(task_id, None)
            if counted is not None:
                # Lower the series the task was counted in, even if its labels changed since.
                self.in_progress.labels(*counted).dec()

    def record_failed(self, source: object, runtime_mode: object, failure_reason: object) -> None:
        """Count a task failure under its coarse reason (free text is classified, Appendix A)."""
        self.failed.labels(
            normalize_task_source(source), normalize_runtime_mode(runtime_mode),
            normalize_failure_reason(failure_reason),
        ).inc()

    def in_flight_count(self) -> int:
        """Return how many dispatched task ids are currently remembered (for tests and debugging)."""
        with self._lock:
            return len(self._in_flight)
