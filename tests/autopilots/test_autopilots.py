"""Autopilots from the wire: creation, manual/webhook/scheduled runs, both actions, Prometheus-only run events (D15.7, D19.7, D19.8)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from multica.autopilots.models import Autopilot
from multica.db_utils import utcnow
from multica.extensions import db
from tests.conftest import create_user, create_workspace, flush
from tests.tasks.helpers import claim, metric, report, tasks

RUN_EVENTS = {"autopilot_run_started", "autopilot_run_completed", "autopilot_run_failed"}


def create(client, owner, workspace, agent, **fields):
    body = {"name": "Nightly triage", "agent_id": agent["id"], "action": "create_issue", "prompt": "Triage new bugs", "cadence": "manual", **fields}
    response = client.post(f"/api/workspaces/{workspace['id']}/autopilots", json=body, headers=owner.headers)
    assert response.status_code == 201, response.json
    return response.json


def age(app, autopilot_id: str, minutes: float, *, last_run: bool = False) -> None:
    """Make the autopilot's stored timestamps `minutes` old."""
    moment = utcnow() - timedelta(minutes=minutes)
    values = {"created_at": moment, **({"last_run_at": moment} if last_run else {})}
    with app.app_context():
        db.session.execute(sa.update(Autopilot).where(Autopilot.id == uuid.UUID(autopilot_id)).values(**values))
        db.session.commit()


def runs(client, owner, workspace, autopilot) -> list[dict]:
    response = client.get(f"/api/workspaces/{workspace['id']}/autopilots/{autopilot['id']}/runs", headers=owner.headers)
    assert response.status_code == 200
    return response.json


def test_create_issue_autopilot_run_by_hand(app, client, owner, workspace, daemon, runtime, agent, sink):
    autopilot = create(client, owner, workspace, agent)
    assert autopilot["trigger_kind"] == "manual" and "webhook_secret" not in autopilot
    run = client.post(f"/api/workspaces/{workspace['id']}/autopilots/{autopilot['id']}/runs", headers=owner.headers)
    assert run.status_code == 201 and run.json["status"] == "completed" and run.json["trigger_source"] == "manual"
    issue_id = run.json["issue_id"]
    issues = client.get(f"/api/workspaces/{workspace['id']}/issues", headers=owner.headers).json
    assert [(i["id"], i["title"], i["assignee_agent_id"]) for i in issues] == [(issue_id, "Nightly triage", agent["id"])]
    [task] = tasks(client, owner, workspace)
    assert task["source"] == "autopilot_issue" and task["issue_id"] == issue_id
    assert metric(client, "multica_agent_task_enqueued_total", source="autopilot_issue") == 1
    assert metric(client, "multica_autopilot_run_started_total", cadence="manual", trigger_kind="manual") == 1
    assert metric(client, "multica_autopilot_run_terminal_total", cadence="manual", trigger_kind="manual", terminal_status="completed") == 1
    assert metric(client, "multica_issue_created_total", source="autopilot", platform="server") == 1
    # The issue's task runs like any other; its execution is the autopilot's.
    claimed = claim(client, daemon, runtime).json["task"]
    report(client, daemon, claimed["id"], "start")
    report(client, daemon, claimed["id"], "complete", {"result": "3 bugs triaged"})
    assert metric(client, "multica_issue_executed_total", source="autopilot") == 1
    flush(app)
    [created] = sink.events("autopilot_created")
    assert created["distinct_id"] == owner.id
    expected = {"autopilot_id": autopilot["id"], "cadence": "manual", "trigger_kind": "manual", "source": "manual"}
    assert {key: created["properties"].get(key) for key in expected} == expected
    [issue_created] = sink.events("issue_created")
    assert issue_created["distinct_id"] == owner.id
    props = issue_created["properties"]
    assert props["source"] == "autopilot" and props["autopilot_run_id"] == run.json["id"] and props["agent_id"] == agent["id"]
    [executed] = sink.events("issue_executed")
    assert executed["properties"]["source"] == "autopilot" and executed["distinct_id"] == owner.id
    assert {e["event"] for e in sink.events(accepted_only=False)} & RUN_EVENTS == set()


def test_run_agent_autopilot_ends_with_its_task(app, client, owner, workspace, daemon, runtime, agent):
    autopilot = create(client, owner, workspace, agent, action="run_agent", prompt="Summarise yesterday's commits")
    first = client.post(f"/api/workspaces/{workspace['id']}/autopilots/{autopilot['id']}/runs", headers=owner.headers).json
    assert first["status"] == "running" and first["task_id"]
    task = claim(client, daemon, runtime).json["task"]
    assert task["prompt"] == "Summarise yesterday's commits" and task["issue_id"] is None
    assert metric(client, "multica_agent_task_enqueued_total", source="autopilot") == 1
    report(client, daemon, task["id"], "start")
    report(client, daemon, task["id"], "complete", {"result": "ok"})
    assert runs(client, owner, workspace, autopilot)[0]["status"] == "completed"
    client.post(f"/api/workspaces/{workspace['id']}/autopilots/{autopilot['id']}/runs", headers=owner.headers)
    task = claim(client, daemon, runtime).json["task"]
    report(client, daemon, task["id"], "fail", {"error": "API Error: 429 overloaded"})
    latest = runs(client, owner, workspace, autopilot)[0]
    assert latest["status"] == "failed" and latest["error_type"] == "task_error"
    assert latest["failure_reason"] == "agent_error.provider_capacity_or_rate_limit"
    assert metric(client, "multica_autopilot_run_terminal_total", terminal_status="completed") == 1
    assert metric(client, "multica_autopilot_run_terminal_total", terminal_status="failed") == 1
    assert metric(client, "multica_issue_executed_total") == 0


def test_webhook_runs_need_the_secret(app, client, owner, workspace, agent):
    autopilot = create(client, owner, workspace, agent, cadence="webhook")
    secret = autopilot["webhook_secret"]
    assert len(secret) >= 16 and autopilot["trigger_kind"] == "webhook"
    with app.app_context():
        stored = db.session.get(Autopilot, uuid.UUID(autopilot["id"]))
        assert secret not in (stored.webhook_secret_hash or "") and stored.webhook_secret_hash
    url = f"/api/autopilots/{autopilot['id']}/webhook"
    assert client.post(url).status_code in (400, 401)
    assert client.post(url, headers={"X-Autopilot-Secret": "wrong-secret-wrong-secret"}).status_code == 403
    assert client.post(f"/api/autopilots/{uuid.uuid4()}/webhook", headers={"X-Autopilot-Secret": secret}).status_code == 404
    assert runs(client, owner, workspace, autopilot) == []
    ran = client.post(url, headers={"X-Autopilot-Secret": secret})
    assert ran.status_code == 201 and ran.json["trigger_source"] == "webhook" and ran.json["id"]
    assert metric(client, "multica_autopilot_run_started_total", cadence="webhook", trigger_kind="webhook") == 1
    assert "webhook_secret" not in client.get(f"/api/workspaces/{workspace['id']}/autopilots", headers=owner.headers).json[0]


def test_tick_starts_one_run_per_due_period(app, client, owner, workspace, agent):
    hourly = create(client, owner, workspace, agent, cadence="hourly", name="hourly")
    daily = create(client, owner, workspace, agent, cadence="daily", name="daily")
    assert hourly["trigger_kind"] == "schedule"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["autopilots", "tick"]).exit_code == 0
    assert runs(client, owner, workspace, hourly) == []
    age(app, hourly["id"], 61)
    age(app, daily["id"], 61)
    result = runner.invoke(args=["autopilots", "tick"])
    assert result.exit_code == 0 and "started 1 autopilot run(s)" in result.output
    assert runner.invoke(args=["autopilots", "tick"]).exit_code == 0
    assert [run["trigger_source"] for run in runs(client, owner, workspace, hourly)] == ["schedule"]
    assert runs(client, owner, workspace, daily) == []
    # Three hours behind is still one due period now, and another once an hour has passed again.
    age(app, hourly["id"], 180, last_run=True)
    runner.invoke(args=["autopilots", "tick"])
    assert len(runs(client, owner, workspace, hourly)) == 2
    assert metric(client, "multica_autopilot_run_started_total", cadence="hourly", trigger_kind="schedule") == 2


@pytest.mark.parametrize("fields", [
    {"name": ""}, {"name": 7}, {"cadence": "every_5_min"}, {"cadence": None}, {"action": "explode"}, {"action": None},
    {"agent_id": None}, {"agent_id": "nope"}, {"agent_id": str(uuid.uuid4())}, {"prompt": 5},
])
def test_bad_autopilots_are_400_and_emit_nothing(app, client, owner, workspace, agent, sink, fields):
    body = {"name": "x", "agent_id": agent["id"], "action": "run_agent", "cadence": "daily", **fields}
    response = client.post(f"/api/workspaces/{workspace['id']}/autopilots", json=body, headers=owner.headers)
    assert response.status_code == 400, response.json
    assert client.get(f"/api/workspaces/{workspace['id']}/autopilots", headers=owner.headers).json == []
    assert metric(client, "multica_autopilot_created_total") == 0


def test_foreign_agents_and_non_members(app, client, owner, workspace, agent):
    stranger = create_user(app)
    elsewhere = create_workspace(app, stranger)
    body = {"name": "x", "agent_id": agent["id"], "action": "run_agent", "cadence": "daily"}
    assert client.post(f"/api/workspaces/{elsewhere['id']}/autopilots", json=body, headers=stranger.headers).status_code == 400
    autopilot = create(client, owner, workspace, agent)
    base = f"/api/workspaces/{workspace['id']}/autopilots"
    for method, url in (("post", base), ("get", base), ("post", f"{base}/{autopilot['id']}/runs"), ("get", f"{base}/{autopilot['id']}/runs"),
                        ("post", f"{base}/{uuid.uuid4()}/runs")):
        response = getattr(client, method)(url, json=body, headers=stranger.headers)
        assert response.status_code == 404 and response.json["error"] == "workspace not found"
    assert client.post(f"{base}/{uuid.uuid4()}/runs", headers=owner.headers).status_code == 404
    assert runs(client, owner, workspace, autopilot) == []


def test_autopilots_page_without_javascript(app, client, owner, workspace, agent):
    import re

    page = app.test_client()
    with page.session_transaction() as session:
        session["user_id"] = owner.id
    html = page.get(f"/{workspace['slug']}/autopilots").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    form = {"csrf_token": token, "name": "Hook", "agent_id": agent["id"], "action": "run_agent", "cadence": "webhook", "prompt": "Go"}
    created = page.post(f"/{workspace['slug']}/autopilots", data=form)
    assert created.status_code == 201 and "data-webhook-secret" in created.text
    [autopilot] = client.get(f"/api/workspaces/{workspace['id']}/autopilots", headers=owner.headers).json
    assert page.post(f"/{workspace['slug']}/autopilots/{autopilot['id']}/runs", data={"csrf_token": token}).status_code == 302
    assert "data-run-status=\"running\"" in page.get(f"/{workspace['slug']}/autopilots").text
    assert page.post(f"/{workspace['slug']}/autopilots", data={**form, "cadence": "sometimes"}).status_code == 400
