"""The task lifecycle over the API: queueing by assignment and rerun, claim/start/complete/fail, cancel (D15.1–D15.4).

Each transition must move exactly its §6.3 metrics, a refused report must move none, and the only
PostHog event of the loop is `issue_executed`, once per issue.
"""

from __future__ import annotations

import uuid

from multica.extensions import db
from multica.issues.models import Issue
from tests.conftest import flush
from tests.tasks.helpers import (
    OLD_TASK_EVENTS,
    claim,
    create_issue,
    delta,
    metric,
    report,
    task_metrics,
    tasks,
)


def issue_row(app, issue_id: str) -> Issue:
    with app.app_context():
        row = db.session.get(Issue, uuid.UUID(issue_id))
        db.session.expunge_all()
        return row


def test_assignment_queues_a_task_and_the_loop_executes_the_issue_once(app, client, owner, workspace, daemon, runtime, agent, sink):
    before = task_metrics(client)
    issue = create_issue(client, owner, workspace, agent, description="Users cannot sign in.")
    [queued] = tasks(client, owner, workspace, issue)
    assert queued["status"] == "queued" and queued["attempt"] == 1 and queued["source"] == "issue"
    assert queued["runtime_id"] == runtime["id"] and queued["agent_id"] == agent["id"]
    assert delta(before, task_metrics(client)) == {"multica_agent_task_enqueued_total": 1}
    assert metric(client, "multica_agent_task_enqueued_total", source="issue", runtime_mode="local") == 1

    claimed = claim(client, daemon, runtime)
    assert claimed.status_code == 200
    assert claimed.json["task"] == {
        "id": queued["id"], "agent_id": agent["id"], "issue_id": issue["id"], "chat_session_id": None,
        "prompt": "Fix the login bug\n\nUsers cannot sign in.", "attempt": 1,
    }
    assert claim(client, daemon, runtime).status_code == 204
    assert delta(before, task_metrics(client)) == {
        "multica_agent_task_enqueued_total": 1, "multica_agent_task_dispatched_total": 1, "multica_agent_task_in_progress": 1,
    }

    started = report(client, daemon, queued["id"], "start")
    assert started.status_code == 200 and started.json["status"] == "running"
    assert issue_row(app, issue["id"]).status == "in_progress"
    assert metric(client, "multica_agent_task_started_total", provider="claude", source="issue") == 1

    done = report(client, daemon, queued["id"], "complete", {"result": "Fixed in \x1b[32mabc123\x1b[0m"})
    assert done.status_code == 200
    assert done.json["task"]["status"] == "completed" and done.json["result"] == "Fixed in \x1b[32mabc123\x1b[0m"
    row = issue_row(app, issue["id"])
    assert row.status == "done" and row.first_executed_at is not None
    assert delta(before, task_metrics(client)) == {
        "multica_agent_task_enqueued_total": 1, "multica_agent_task_dispatched_total": 1,
        "multica_agent_task_started_total": 1, "multica_agent_task_terminal_total": 1,
        "multica_agent_task_queue_wait_seconds_count": 1, "multica_agent_task_run_seconds_count": 1,
        "multica_agent_task_total_seconds_count": 1,
    }
    assert metric(client, "multica_agent_task_terminal_total", terminal_status="completed", source="issue", runtime_mode="local") == 1
    assert metric(client, "multica_issue_executed_total", source="manual") == 1

    # A rerun is attempt 2; completing it does not execute the issue again.
    rerun = client.post(f"/api/workspaces/{workspace['id']}/issues/{issue['id']}/rerun", headers=owner.headers)
    assert rerun.status_code == 201 and rerun.json["attempt"] == 2 and rerun.json["status"] == "queued"
    second = claim(client, daemon, runtime).json["task"]
    assert second["id"] == rerun.json["id"] and second["attempt"] == 2
    assert report(client, daemon, second["id"], "start").status_code == 200
    assert report(client, daemon, second["id"], "complete", {}).status_code == 200
    assert metric(client, "multica_issue_executed_total") == 1

    flush(app)
    executed = sink.events("issue_executed")
    assert len(executed) == 1
    props = executed[0]["properties"]
    assert executed[0]["distinct_id"] == owner.id
    assert props["issue_id"] == issue["id"] and props["task_id"] == queued["id"] and props["agent_id"] == agent["id"]
    assert props["source"] == "manual" and props["runtime_mode"] == "local" and props["provider"] == "claude"
    assert props["workspace_id"] == workspace["id"]
    assert isinstance(props["task_duration_ms"], int) and props["task_duration_ms"] >= 0
    names = {event["event"] for event in sink.events(accepted_only=False)}
    assert names & OLD_TASK_EVENTS == set()
    assert owner.email not in str(sink.events(accepted_only=False))


def test_duplicate_and_out_of_order_reports_are_409_and_move_no_metric(client, owner, workspace, daemon, runtime, agent):
    create_issue(client, owner, workspace, agent)
    task = claim(client, daemon, runtime).json["task"]
    before = task_metrics(client)
    complete_early = report(client, daemon, task["id"], "complete", {"result": "too soon"})
    assert complete_early.status_code == 409 and complete_early.json["error"] == "task is not running"
    assert report(client, daemon, task["id"], "start").status_code == 200
    mid = task_metrics(client)
    again = report(client, daemon, task["id"], "start")
    assert again.status_code == 409 and again.json["error"] == "task is not dispatched"
    assert report(client, daemon, task["id"], "complete", {"result": "ok"}).status_code == 200
    done = task_metrics(client)
    for action, body in (("complete", {"result": "twice"}), ("fail", {"error": "late"}), ("start", {})):
        response = report(client, daemon, task["id"], action, body)
        assert response.status_code == 409 and response.json["error"].startswith("task is not")
    assert task_metrics(client) == done
    assert delta(before, mid) == {"multica_agent_task_started_total": 1}
    [row] = tasks(client, owner, workspace)
    assert row["result"] == "ok"


def test_fail_classifies_the_error_and_counts_the_reason(client, owner, workspace, daemon, runtime, agent):
    issue = create_issue(client, owner, workspace, agent)
    task = claim(client, daemon, runtime).json["task"]
    assert report(client, daemon, task["id"], "start").status_code == 200
    before = task_metrics(client)
    error = "API Error: 429 overloaded\n" + "x" * 200_000
    failed = report(client, daemon, task["id"], "fail", {"error": error})
    assert failed.status_code == 200
    assert failed.json["failure_reason"] == "agent_error.provider_capacity_or_rate_limit"
    assert failed.json["error"] == error
    assert delta(before, task_metrics(client)) == {
        "multica_agent_task_terminal_total": 1, "multica_agent_task_failed_total": 1,
        "multica_agent_task_queue_wait_seconds_count": 1, "multica_agent_task_run_seconds_count": 1,
        "multica_agent_task_total_seconds_count": 1, "multica_agent_task_in_progress": -1,
    }
    assert metric(
        client, "multica_agent_task_failed_total", source="issue", runtime_mode="local",
        failure_reason="agent_error.provider_capacity_or_rate_limit",
    ) == 1
    assert metric(client, "multica_agent_task_terminal_total", terminal_status="failed") == 1
    assert metric(client, "multica_issue_executed_total") == 0
    # A dispatched task may fail before it starts, with a canonical reason; run time is not observed.
    client.post(f"/api/workspaces/{workspace['id']}/issues/{issue['id']}/rerun", headers=owner.headers)
    second = claim(client, daemon, runtime).json["task"]
    before = task_metrics(client)
    failed = report(client, daemon, second["id"], "fail", {"error": "could not prepare", "failure_reason": "agent_blocked"})
    assert failed.status_code == 200 and failed.json["failure_reason"] == "agent_blocked"
    assert "multica_agent_task_run_seconds_count" not in delta(before, task_metrics(client))


def test_cancel_by_a_member(client, owner, workspace, daemon, runtime, agent):
    issue = create_issue(client, owner, workspace, agent)
    [queued] = tasks(client, owner, workspace, issue)
    before = task_metrics(client)
    cancelled = client.post(f"/api/workspaces/{workspace['id']}/tasks/{queued['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    # A queued task that is cancelled records only its terminal count.
    assert delta(before, task_metrics(client)) == {"multica_agent_task_terminal_total": 1}
    assert metric(client, "multica_agent_task_terminal_total", terminal_status="cancelled") == 1
    assert claim(client, daemon, runtime).status_code == 204
    again = client.post(f"/api/workspaces/{workspace['id']}/tasks/{queued['id']}/cancel", headers=owner.headers)
    assert again.status_code == 409 and again.json["error"].startswith("task is not")

    # Cancelling a dispatched task lowers the in-progress gauge it had raised.
    client.post(f"/api/workspaces/{workspace['id']}/issues/{issue['id']}/rerun", headers=owner.headers)
    task = claim(client, daemon, runtime).json["task"]
    assert metric(client, "multica_agent_task_in_progress") == 1
    assert client.post(f"/api/workspaces/{workspace['id']}/tasks/{task['id']}/cancel", headers=owner.headers).status_code == 200
    assert metric(client, "multica_agent_task_in_progress") == 0
    late = report(client, daemon, task["id"], "start")
    assert late.status_code == 409


def test_reassignment_queues_for_the_new_agent_and_the_same_agent_again_does_nothing(client, owner, workspace, daemon, runtime, agent):
    issue = create_issue(client, owner, workspace)
    assert tasks(client, owner, workspace, issue) == []
    url = f"/api/workspaces/{workspace['id']}/issues/{issue['id']}"
    patched = client.patch(url, json={"assignee_agent_id": agent["id"]}, headers=owner.headers)
    assert patched.status_code == 200 and patched.json["assignee_agent_id"] == agent["id"]
    assert client.patch(url, json={"assignee_agent_id": agent["id"]}, headers=owner.headers).status_code == 200
    assert [task["attempt"] for task in tasks(client, owner, workspace, issue)] == [1]
    other = client.post(
        f"/api/workspaces/{workspace['id']}/agents", json={"runtime_id": runtime["id"], "template": "planning"}, headers=owner.headers,
    ).json
    assert client.patch(url, json={"assignee_agent_id": other["id"]}, headers=owner.headers).status_code == 200
    newest = tasks(client, owner, workspace, issue)[0]
    assert newest["agent_id"] == other["id"] and newest["attempt"] == 2
    assert client.patch(url, json={"assignee_agent_id": None}, headers=owner.headers).json["assignee_agent_id"] is None
    refused = client.post(f"/api/workspaces/{workspace['id']}/issues/{issue['id']}/rerun", headers=owner.headers)
    assert refused.status_code == 409


def test_claims_take_the_oldest_task_first(client, owner, workspace, daemon, runtime, agent):
    first = create_issue(client, owner, workspace, agent, title="first")
    second = create_issue(client, owner, workspace, agent, title="second")
    assert claim(client, daemon, runtime).json["task"]["issue_id"] == first["id"]
    assert claim(client, daemon, runtime).json["task"]["issue_id"] == second["id"]
    assert claim(client, daemon, runtime).status_code == 204
