"""`analytics reconcile` against a real Prometheus server scraping a real app process (D16.1, D19.14).

Tasks are completed through the API of a `flask run` process; Prometheus (Debian's `prometheus`)
scrapes it every second; reconcile then reports zero drift, also across an app restart (a counter
reset), and reports drift (exit 1) once rows are written behind the app's back.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from datetime import datetime, timezone

import httpx
import pytest

from multica.extensions import db
from multica.issues.models import Issue
from multica.tasks.models import AgentTask
from tests.conftest import ROOT, create_user, create_workspace
from tests.process.test_shutdown import BIN, free_port, server_env, wait_until_up

PROMETHEUS = shutil.which("prometheus")
COMPLETED = 'sum(multica_agent_task_terminal_total{terminal_status="completed"})'
EXECUTED = "sum(multica_issue_executed_total)"


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Prometheus:
    """A Prometheus server on a free loopback port scraping `target` every second."""

    def __init__(self, tmp_path, target: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: multica\n    static_configs:\n"
            f"      - targets: ['{target}']\n"
        )
        self.process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        wait_for(self._ready, what="prometheus ready")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited: {self.process.stderr.read()[-2000:]}")
        try:
            return httpx.get(self.url + "/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def value(self, query: str) -> float | None:
        """The instant value of a scalar-like query, None when it has no result."""
        result = httpx.get(self.url + "/api/v1/query", params={"query": query}, timeout=5).json()["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class AppProcess:
    """`flask run` on a fixed port, restartable (each start is a new process: its counters start at 0)."""

    def __init__(self, sink, database_url: str, port: int) -> None:
        self.sink, self.database_url, self.port = sink, database_url, port
        self.url = f"http://127.0.0.1:{port}"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [os.path.join(BIN, "flask"), "--app", "app", "run", "--port", str(self.port), "--no-reload"],
            cwd=ROOT, env=server_env(self.sink, self.database_url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        wait_until_up(self.url, self.process)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()


@pytest.fixture
def stack(sink, database_url, tmp_path):
    assert PROMETHEUS, "the prometheus binary is needed (apt-get install prometheus; .ci/run installs it)"
    app_process = AppProcess(sink, database_url, free_port())
    app_process.start()
    prometheus = Prometheus(tmp_path, f"127.0.0.1:{app_process.port}")
    yield app_process, prometheus
    prometheus.stop()
    app_process.stop()


def complete_issue_task(base: str, owner, workspace, agent, daemon_headers, runtime, title: str) -> dict:
    """An issue assigned to the agent through the app's API, its task claimed, started and completed."""
    issue = httpx.post(
        f"{base}/api/workspaces/{workspace['id']}/issues", json={"title": title, "assignee_agent_id": agent["id"]},
        headers=owner.headers, timeout=10,
    )
    assert issue.status_code == 201, issue.text
    complete_next_task(base, daemon_headers, runtime)
    return issue.json()


def complete_next_task(base: str, daemon_headers, runtime) -> None:
    claimed = httpx.post(f"{base}/api/daemon/tasks/claim", json={"runtime_id": runtime["id"]}, headers=daemon_headers, timeout=10)
    assert claimed.status_code == 200, claimed.text
    task_id = claimed.json()["task"]["id"]
    for action, body in (("start", {}), ("complete", {"result": "done"})):
        response = httpx.post(f"{base}/api/daemon/tasks/{task_id}/{action}", json=body, headers=daemon_headers, timeout=10)
        assert response.status_code == 200, response.text


def run_reconcile(app, prometheus_url: str, *extra: str):
    result = app.test_cli_runner().invoke(
        args=["analytics", "reconcile", "--days", "2", "--step", "1", "--prometheus-url", prometheus_url, *extra],
    )
    return result


def today(report: dict) -> dict:
    day = datetime.now(timezone.utc).date().isoformat()
    return next(row for row in report["days"] if row["day"] == day)


@pytest.mark.timeout(90)
def test_reconcile_zero_drift_across_a_restart_then_drift_behind_the_apps_back(app, client, stack):
    app_process, prometheus = stack
    owner = create_user(app)
    workspace = create_workspace(app, owner)
    token = client.post(f"/api/workspaces/{workspace['id']}/daemon-tokens", headers=owner.headers).json["token"]
    daemon_headers = {"Authorization": f"Bearer {token}"}
    runtime = client.post("/api/daemon/register", json={"daemon_id": "laptop", "providers": ["claude"]}, headers=daemon_headers).json["runtimes"][0]
    agent = client.post(
        f"/api/workspaces/{workspace['id']}/agents", json={"runtime_id": runtime["id"], "template": "coding"}, headers=owner.headers,
    ).json

    # The counters exist at 0 before anything happens (D19.14), so the first completion is an increase.
    wait_for(lambda: prometheus.value(COMPLETED) == 0 and prometheus.value(EXECUTED) == 0, what="zero series scraped")
    issues = [complete_issue_task(app_process.url, owner, workspace, agent, daemon_headers, runtime, f"Issue {i}") for i in range(3)]
    rerun = httpx.post(f"{app_process.url}/api/workspaces/{workspace['id']}/issues/{issues[0]['id']}/rerun", headers=owner.headers, timeout=10)
    assert rerun.status_code == 201, rerun.text
    complete_next_task(app_process.url, daemon_headers, runtime)  # a second completion, not a second execution
    wait_for(lambda: prometheus.value(COMPLETED) == 4 and prometheus.value(EXECUTED) == 3, what="first process scraped")

    # A restart: the new process's counters start again at 0 (a reset), which is not drift.
    app_process.stop()
    app_process.start()
    wait_for(lambda: prometheus.value(COMPLETED) == 0, what="restarted process scraped")
    complete_issue_task(app_process.url, owner, workspace, agent, daemon_headers, runtime, "After the restart")
    wait_for(lambda: prometheus.value(COMPLETED) == 1 and prometheus.value(EXECUTED) == 1, what="second process scraped")

    result = run_reconcile(app, prometheus.url, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    report = json.loads(result.stdout)
    assert report["prometheus_queried"] is True
    assert today(report)["tasks_completed"] == {"db": 5, "prometheus": 5, "drift": 0}
    assert today(report)["issues_executed"] == {"db": 4, "prometheus": 4, "drift": 0}
    assert all(row[key]["drift"] == 0 for row in report["days"] for key in ("tasks_completed", "issues_executed"))

    # Rows written behind the app's back: the database moves, Prometheus does not.
    now = datetime.now(timezone.utc)
    with app.app_context():
        issue = Issue(
            workspace_id=uuid.UUID(workspace["id"]), number=999, key="ISS-999", title="Imported", first_executed_at=now,
        )
        db.session.add(issue)
        db.session.flush()
        db.session.add(AgentTask(
            workspace_id=uuid.UUID(workspace["id"]), issue_id=issue.id, source="issue", status="completed",
            prompt="Imported", created_at=now, completed_at=now,
        ))
        db.session.commit()

    result = run_reconcile(app, prometheus.url, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert today(report)["tasks_completed"] == {"db": 6, "prometheus": 5, "drift": -1}
    assert today(report)["issues_executed"] == {"db": 5, "prometheus": 4, "drift": -1}
    assert report["ok"] is False

    # The table says the same, and a tolerance of 1 accepts it.
    table = run_reconcile(app, prometheus.url)
    assert table.exit_code == 1 and "-1" in table.stdout and "exceeds the tolerance" in table.stderr
    assert run_reconcile(app, prometheus.url, "--tolerance", "1").exit_code == 0

    # Every Grafana panel query is PromQL that this real Prometheus accepts.
    from tests.insight.test_grafana import expressions

    for title, expr in expressions():
        answer = httpx.get(prometheus.url + "/api/v1/query", params={"query": expr.replace("$__range", "1h")}, timeout=5).json()
        assert answer["status"] == "success", (title, expr, answer)
