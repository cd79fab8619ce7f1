"""Agent task lifecycle metrics (SPEC §6.3, §6.5, Appendix A)."""

import threading

import pytest
from prometheus_client import CollectorRegistry

from multica.metrics.labels import CANONICAL_FAILURE_REASONS, FORBIDDEN_LABELS
from multica.metrics.tasks import AgentTaskMetrics

BUCKETS = ("1.0", "2.5", "5.0", "10.0", "30.0", "60.0", "120.0", "300.0", "600.0", "1200.0", "3600.0", "7200.0", "+Inf")


@pytest.fixture
def registry():
    return CollectorRegistry()


@pytest.fixture
def tasks(registry):
    return AgentTaskMetrics(registry)


def _series(registry, sample_name):
    """Every label set that has a sample called `sample_name`."""
    return [
        sample.labels
        for family in registry.collect()
        for sample in family.samples
        if sample.name == sample_name
    ]


def test_declares_exact_metrics(registry, tasks):
    tasks.record_enqueued("issue", "local")
    tasks.record_dispatched("t1", "issue", "local")
    tasks.record_started("issue", "local", "codex")
    tasks.record_terminal("t1", "issue", "local", "completed", 1, 2, 3)
    declared = {family.name: (family.type, set(family.samples[0].labels)) for family in registry.collect()}
    assert declared == {
        "multica_agent_task_enqueued": ("counter", {"source", "runtime_mode"}),
        "multica_agent_task_dispatched": ("counter", {"source", "runtime_mode"}),
        "multica_agent_task_started": ("counter", {"source", "runtime_mode", "provider"}),
        "multica_agent_task_terminal": ("counter", {"source", "runtime_mode", "terminal_status"}),
        "multica_agent_task_failed": ("counter", {"source", "runtime_mode", "failure_reason"}),
        "multica_agent_task_queue_wait_seconds": ("histogram", {"source", "runtime_mode", "le"}),
        "multica_agent_task_run_seconds": ("histogram", {"source", "runtime_mode", "terminal_status", "le"}),
        "multica_agent_task_total_seconds": ("histogram", {"source", "runtime_mode", "terminal_status", "le"}),
        "multica_agent_task_in_progress": ("gauge", {"source", "runtime_mode"}),
        "multica_agent_task_iteration_count": ("histogram", {"source", "terminal_status", "le"}),
    }


def test_no_forbidden_label(registry, tasks):
    tasks.record_enqueued("issue", "local")
    tasks.record_dispatched("task-1", "issue", "local")
    tasks.record_started("issue", "local", "codex")
    tasks.record_terminal("task-1", "issue", "local", "failed", 1, 2, 3, attempt=2)
    tasks.record_failed("issue", "local", "boom")
    names = {key for family in registry.collect() for sample in family.samples for key in sample.labels}
    assert names
    assert not names & set(FORBIDDEN_LABELS)


@pytest.mark.parametrize(
    "name", ["multica_agent_task_queue_wait_seconds", "multica_agent_task_run_seconds", "multica_agent_task_total_seconds"]
)
def test_duration_buckets(registry, tasks, name):
    tasks.record_terminal("t", "issue", "local", "completed", 1, 1, 1)
    assert [labels["le"] for labels in _series(registry, f"{name}_bucket")] == list(BUCKETS)


def test_lifecycle_vector(registry, tasks):
    tasks.record_enqueued("issue", "local")
    for index in range(100):
        tasks.record_dispatched(f"task-{index}", "issue", "local")
    tasks.record_started("issue", "local", "codex")
    tasks.record_terminal("task-0", "issue", "local", "completed", queue_wait_seconds=10, run_seconds=10,
                          total_seconds=20, attempt=1)

    base = {"source": "issue", "runtime_mode": "local"}
    done = {**base, "terminal_status": "completed"}
    get = registry.get_sample_value
    assert get("multica_agent_task_enqueued_total", base) == 1
    assert get("multica_agent_task_dispatched_total", base) == 100
    assert get("multica_agent_task_started_total", {**base, "provider": "codex"}) == 1
    assert get("multica_agent_task_terminal_total", done) == 1
    assert _series(registry, "multica_agent_task_in_progress") == [base]
    assert get("multica_agent_task_in_progress", base) == 99
    assert _series(registry, "multica_agent_task_queue_wait_seconds_count") == [base]
    assert _series(registry, "multica_agent_task_run_seconds_count") == [done]
    assert _series(registry, "multica_agent_task_total_seconds_count") == [done]
    assert get("multica_agent_task_queue_wait_seconds_sum", base) == 10
    assert get("multica_agent_task_run_seconds_sum", done) == 10
    assert get("multica_agent_task_total_seconds_sum", done) == 20
    assert get("multica_agent_task_total_seconds_bucket", {**done, "le": "10.0"}) == 0
    assert get("multica_agent_task_total_seconds_bucket", {**done, "le": "30.0"}) == 1
    assert get("multica_agent_task_iteration_count_count", {"source": "issue", "terminal_status": "completed"}) == 1
    assert get("multica_agent_task_iteration_count_sum", {"source": "issue", "terminal_status": "completed"}) == 1
    assert tasks.in_flight_count() == 99


def test_dispatch_counts_gauge_once_per_task(registry, tasks):
    base = {"source": "chat", "runtime_mode": "cloud"}
    for _ in range(3):
        tasks.record_dispatched("same", "chat", "cloud")
    assert registry.get_sample_value("multica_agent_task_dispatched_total", base) == 3
    assert registry.get_sample_value("multica_agent_task_in_progress", base) == 1


def test_terminal_without_dispatch_leaves_gauge(registry, tasks):
    base = {"source": "issue", "runtime_mode": "local"}
    tasks.record_dispatched("a", "issue", "local")
    tasks.record_terminal("never-dispatched", "issue", "local", "cancelled")
    tasks.record_terminal("a", "issue", "local", "completed")
    tasks.record_terminal("a", "issue", "local", "completed")  # duplicate terminal
    assert registry.get_sample_value("multica_agent_task_in_progress", base) == 0
    assert registry.get_sample_value(
        "multica_agent_task_terminal_total", {**base, "terminal_status": "completed"}
    ) == 2
    assert tasks.in_flight_count() == 0


def test_terminal_decrements_the_series_it_was_counted_in(registry, tasks):
    tasks.record_dispatched("a", "issue", "local")
    tasks.record_terminal("a", "chat", "cloud", "completed")
    assert registry.get_sample_value("multica_agent_task_in_progress", {"source": "issue", "runtime_mode": "local"}) == 0
    assert registry.get_sample_value("multica_agent_task_in_progress", {"source": "chat", "runtime_mode": "cloud"}) is None


@pytest.mark.parametrize("task_id", [None, "", 17])
def test_dispatch_without_usable_id_counts_but_skips_gauge(registry, tasks, task_id):
    base = {"source": "issue", "runtime_mode": "local"}
    tasks.record_dispatched(task_id, "issue", "local")
    tasks.record_terminal(task_id, "issue", "local", "completed")
    assert registry.get_sample_value("multica_agent_task_dispatched_total", base) == 1
    assert registry.get_sample_value("multica_agent_task_in_progress", base) is None


def test_tracked_ids_are_bounded(registry):
    tasks = AgentTaskMetrics(registry, max_tracked_tasks=3)
    base = {"source": "issue", "runtime_mode": "local"}
    for index in range(5):
        tasks.record_dispatched(f"t{index}", "issue", "local")
    assert tasks.in_flight_count() == 3
    assert registry.get_sample_value("multica_agent_task_in_progress", base) == 3
    tasks.record_terminal("t0", "issue", "local", "completed")  # already forgotten
    assert registry.get_sample_value("multica_agent_task_in_progress", base) == 3
    tasks.record_terminal("t4", "issue", "local", "completed")
    assert registry.get_sample_value("multica_agent_task_in_progress", base) == 2


def test_concurrent_dispatch_and_terminal(registry, tasks):
    base = {"source": "issue", "runtime_mode": "local"}

    def worker(offset):
        for index in range(200):
            task_id = f"w{offset}-{index}"
            tasks.record_dispatched(task_id, "issue", "local")
            tasks.record_dispatched(task_id, "issue", "local")
            if index % 2:
                tasks.record_terminal(task_id, "issue", "local", "completed")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert registry.get_sample_value("multica_agent_task_dispatched_total", base) == 3200
    assert registry.get_sample_value("multica_agent_task_in_progress", base) == 800
    assert tasks.in_flight_count() == 800


@pytest.mark.parametrize(
    ("queue_wait", "run", "total", "observed"),
    [
        (-1, -0.5, -20, (0, 0, 0)),
        (None, None, None, (0, 0, 0)),
        (0, 0, 0, (1, 1, 1)),
        (5, -1, 7, (1, 0, 1)),
        (float("nan"), 3, "12", (0, 1, 0)),
    ],
)
def test_negative_or_missing_durations_not_observed(registry, tasks, queue_wait, run, total, observed):
    tasks.record_terminal("t", "issue", "local", "completed", queue_wait, run, total)
    base = {"source": "issue", "runtime_mode": "local"}
    done = {**base, "terminal_status": "completed"}
    counts = tuple(
        registry.get_sample_value(f"multica_agent_task_{name}_count", labels) or 0
        for name, labels in (("queue_wait_seconds", base), ("run_seconds", done), ("total_seconds", done))
    )
    assert counts == observed


@pytest.mark.parametrize(("attempt", "observed"), [(1, 1), (3, 3), (0, 1), (-2, 1), (None, 1)])
def test_iteration_count_min_one(registry, tasks, attempt, observed):
    tasks.record_terminal("t", "chat", "cloud", "failed", attempt=attempt)
    labels = {"source": "chat", "terminal_status": "failed"}
    assert registry.get_sample_value("multica_agent_task_iteration_count_sum", labels) == observed
    assert registry.get_sample_value("multica_agent_task_iteration_count_count", labels) == 1


def test_labels_are_normalized(registry, tasks):
    tasks.record_enqueued("task-123", "workspace-123")
    tasks.record_started(" ISSUE ", "Local", "provider-from-user-input")
    tasks.record_terminal("t", None, 5, "exploded")
    assert registry.get_sample_value(
        "multica_agent_task_enqueued_total", {"source": "other", "runtime_mode": "unknown"}
    ) == 1
    assert registry.get_sample_value(
        "multica_agent_task_started_total", {"source": "issue", "runtime_mode": "local", "provider": "other"}
    ) == 1
    assert registry.get_sample_value(
        "multica_agent_task_terminal_total", {"source": "other", "runtime_mode": "unknown", "terminal_status": "other"}
    ) == 1


def test_failed_series_precreated_at_zero(registry, tasks):
    series = _series(registry, "multica_agent_task_failed_total")
    assert len(series) == 6 * 3 * 21
    for source in ("issue", "chat", "autopilot", "autopilot_issue", "quick_create", "other"):
        for mode in ("local", "cloud", "unknown"):
            for reason in CANONICAL_FAILURE_REASONS:
                labels = {"source": source, "runtime_mode": mode, "failure_reason": reason}
                assert registry.get_sample_value("multica_agent_task_failed_total", labels) == 0


def test_record_failed_classifies_free_text(registry, tasks):
    tasks.record_failed("issue", "local", 'API Error: 429 {"error":"overloaded"}')
    base = {"source": "issue", "runtime_mode": "local"}
    assert registry.get_sample_value(
        "multica_agent_task_failed_total", {**base, "failure_reason": "agent_error.provider_capacity_or_rate_limit"}
    ) == 1
    assert registry.get_sample_value(
        "multica_agent_task_failed_total", {**base, "failure_reason": "agent_error.unknown"}
    ) == 0


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("runtime_offline", "runtime_offline"),
        ("agent_error.process_failure", "agent_error.process_failure"),
        ("", "agent_error.unknown"),
        ("agent_error", "agent_error.unknown"),
        (None, "agent_error.unknown"),
    ],
)
def test_record_failed_reason_labels(registry, tasks, reason, label):
    tasks.record_failed("autopilot", "cloud", reason)
    assert registry.get_sample_value(
        "multica_agent_task_failed_total",
        {"source": "autopilot", "runtime_mode": "cloud", "failure_reason": label},
    ) == 1
    assert len(_series(registry, "multica_agent_task_failed_total")) == 6 * 3 * 21


def test_two_registries_are_independent():
    first, second = CollectorRegistry(), CollectorRegistry()
    AgentTaskMetrics(first).record_enqueued("issue", "local")
    AgentTaskMetrics(second)
    labels = {"source": "issue", "runtime_mode": "local"}
    assert first.get_sample_value("multica_agent_task_enqueued_total", labels) == 1
    assert second.get_sample_value("multica_agent_task_enqueued_total", labels) is None


def test_a_dispatch_decided_once_by_the_database_needs_no_memory(registry, tasks):
    base = {"source": "issue", "runtime_mode": "local"}
    for index in range(5):
        tasks.record_dispatched(f"t{index}", "issue", "local", once=True)
    assert registry.get_sample_value("multica_agent_task_in_progress", base) == 5
    assert tasks.in_flight_count() == 0


def test_a_terminal_in_another_process_lowers_the_gauge_by_what_the_database_says(registry, tasks):
    """The process that records the terminal never saw the dispatch: `dispatched` decides."""
    base = {"source": "issue", "runtime_mode": "local"}
    tasks.record_dispatched("elsewhere", "issue", "local", once=True)
    other = AgentTaskMetrics(CollectorRegistry())  # a second worker, its own memory
    other.record_terminal("elsewhere", "issue", "local", "completed", dispatched=True)
    other_gauge = other.in_progress.labels("issue", "local")._value.get()
    assert registry.get_sample_value("multica_agent_task_in_progress", base) + other_gauge == 0
    tasks.record_terminal("queued-only", "issue", "local", "cancelled", dispatched=False)
    assert registry.get_sample_value("multica_agent_task_in_progress", base) == 1
