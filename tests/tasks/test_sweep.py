"""`flask --app app tasks sweep`: offline runtimes and stale dispatches fail their tasks once (D15.2, D19.9)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from multica.db_utils import utcnow
from multica.extensions import db
from multica.tasks.models import AgentTask
from tests.tasks.helpers import claim, create_issue, delta, metric, report, task_metrics, tasks


def age_dispatch(app, task_id: str, seconds: float) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(AgentTask).where(AgentTask.id == uuid.UUID(task_id)).values(dispatched_at=utcnow() - timedelta(seconds=seconds))
        )
        db.session.commit()


def test_sweep_fails_stale_dispatches_with_timeout(app, client, owner, workspace, daemon, runtime, agent):
    create_issue(client, owner, workspace, agent, title="old")
    old = claim(client, daemon, runtime).json["task"]
    create_issue(client, owner, workspace, agent, title="fresh")
    fresh = claim(client, daemon, runtime).json["task"]
    age_dispatch(app, old["id"], 2 * 3600)
    before = task_metrics(client)
    result = app.test_cli_runner().invoke(args=["tasks", "sweep"])
    assert result.exit_code == 0, result.output
    assert "1 stale task(s)" in result.output
    statuses = {task["id"]: (task["status"], task["failure_reason"]) for task in tasks(client, owner, workspace)}
    assert statuses == {old["id"]: ("failed", "timeout"), fresh["id"]: ("dispatched", None)}
    assert metric(client, "multica_agent_task_failed_total", failure_reason="timeout", source="issue", runtime_mode="local") == 1
    assert delta(before, task_metrics(client))["multica_agent_task_terminal_total"] == 1
    # A second sweep and the daemon's late report change nothing.
    moved = task_metrics(client)
    assert app.test_cli_runner().invoke(args=["tasks", "sweep"]).exit_code == 0
    assert report(client, daemon, old["id"], "start").status_code == 409
    assert task_metrics(client) == moved


def test_sweep_fails_tasks_of_offline_runtimes(app, client, owner, workspace, daemon, runtime, agent):
    create_issue(client, owner, workspace, agent, title="queued")
    create_issue(client, owner, workspace, agent, title="running")
    running = claim(client, daemon, runtime).json["task"]
    assert report(client, daemon, running["id"], "start").status_code == 200
    assert client.post("/api/daemon/deregister", json={"daemon_id": "laptop"}, headers=daemon.headers).status_code == 200
    result = app.test_cli_runner().invoke(args=["tasks", "sweep"])
    assert result.exit_code == 0 and "failed 2 task(s) on offline runtimes" in result.output
    assert {(task["status"], task["failure_reason"]) for task in tasks(client, owner, workspace)} == {("failed", "runtime_offline")}
    assert metric(client, "multica_agent_task_failed_total", failure_reason="runtime_offline") == 2
