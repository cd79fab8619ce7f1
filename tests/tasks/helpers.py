"""Helpers for the task tests: issues, daemon reports, `/metrics` readings and the sink's view."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

TASK_METRICS = (
    "multica_agent_task_enqueued_total", "multica_agent_task_dispatched_total", "multica_agent_task_started_total",
    "multica_agent_task_terminal_total", "multica_agent_task_failed_total",
    "multica_agent_task_queue_wait_seconds_count", "multica_agent_task_run_seconds_count",
    "multica_agent_task_total_seconds_count", "multica_agent_task_in_progress",
)
OLD_TASK_EVENTS = {f"agent_task_{kind}" for kind in ("queued", "dispatched", "started", "completed", "failed", "cancelled")}


def samples(client) -> list:
    """Every sample on `GET /metrics`."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return [sample for family in text_string_to_metric_families(response.get_data(as_text=True)) for sample in family.samples]


def metric(client, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when absent)."""
    return sum(
        sample.value for sample in samples(client)
        if sample.name == name and all(sample.labels.get(key) == value for key, value in labels.items())
    )


def task_metrics(client) -> dict[str, float]:
    """Every §6.3 series summed per metric name, to compare before and after."""
    every = samples(client)
    return {name: sum(sample.value for sample in every if sample.name == name) for name in TASK_METRICS}


def delta(before: dict, after: dict) -> dict:
    """Only the metrics that moved, and by how much."""
    return {name: after[name] - before[name] for name in before if after[name] != before[name]}


def create_issue(client, owner, workspace, agent=None, title: str = "Fix the login bug", **extra) -> dict:
    """An issue through the API, assigned to `agent` when given."""
    body = {"title": title, **extra}
    if agent:
        body["assignee_agent_id"] = agent["id"]
    response = client.post(f"/api/workspaces/{workspace['id']}/issues", json=body, headers=owner.headers)
    assert response.status_code == 201, response.json
    return response.json


def claim(client, daemon, runtime):
    """`POST /api/daemon/tasks/claim` for the runtime."""
    return client.post("/api/daemon/tasks/claim", json={"runtime_id": runtime["id"]}, headers=daemon.headers)


def report(client, daemon, task_id: str, action: str, body: dict | None = None):
    """`POST /api/daemon/tasks/<id>/<action>`."""
    return client.post(f"/api/daemon/tasks/{task_id}/{action}", json=body or {}, headers=daemon.headers)


def tasks(client, owner, workspace, issue=None) -> list[dict]:
    """The workspace's (or the issue's) tasks, newest first."""
    query = f"?issue_id={issue['id']}" if issue else ""
    response = client.get(f"/api/workspaces/{workspace['id']}/tasks{query}", headers=owner.headers)
    assert response.status_code == 200, response.json
    return response.json


def sink_events(sink, name: str | None = None) -> list[dict]:
    """Events the PostHog sink accepted (all, or those named `name`)."""
    return [event for event in sink.events() if name is None or event.get("event") == name]


AGENTS = Path(__file__).resolve().parent / "agents"


def agent_command(script: str) -> str:
    """The shell command that runs one of the agent scripts in `tests/tasks/agents`."""
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(AGENTS / script))}"


def start_daemon(live_server, token: str, script: str, *extra: str) -> subprocess.Popen:
    """A real `python -m multica.daemon --exec <script>` for the live server."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("MULTICA_DAEMON_TOKEN", None)
    return subprocess.Popen(
        [sys.executable, "-m", "multica.daemon", "--server", live_server.url, "--token", token, "--provider", "claude",
         "--daemon-id", "loop-host", "--interval", "0.5", "--poll-interval", "0.1", "--exec", agent_command(script), *extra],
        cwd=Path(__file__).resolve().parents[2], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_until(predicate, timeout: float = 30.0, what: str = "condition"):
    """Poll `predicate` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen, signum=signal.SIGINT) -> tuple[str, str]:
    """Signal the daemon (Ctrl-C by default) and collect its output."""
    if process.poll() is None:
        process.send_signal(signum)
    try:
        return process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
