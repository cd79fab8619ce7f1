"""Exactly-once dispatch and `issue_executed` under real concurrency on PostgreSQL (D2, D15.2, D15.4).

Twenty threads start together behind a barrier and call a live server over HTTP, each request with
its own connection, werkzeug thread and database session, as several gunicorn workers would.
"""

from __future__ import annotations


import httpx
import pytest

from tests.conftest import flush, run_together
from tests.tasks.helpers import claim, create_issue, delta, metric, report, task_metrics, tasks

pytestmark = pytest.mark.postgres

THREADS = 20


def post(url: str, token: str, body: dict) -> httpx.Response:
    with httpx.Client(timeout=30) as http:
        return http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})


def test_twenty_concurrent_claims_dispatch_one_queued_task_once(client, owner, workspace, daemon, runtime, agent, live_server):
    create_issue(client, owner, workspace, agent)
    before = task_metrics(client)

    responses = run_together(lambda _: post(f"{live_server.url}/api/daemon/tasks/claim", daemon.token, {"runtime_id": runtime["id"]}))

    assert sorted(response.status_code for response in responses) == [200] + [204] * (THREADS - 1)
    assert delta(before, task_metrics(client)) == {"multica_agent_task_dispatched_total": 1, "multica_agent_task_in_progress": 1}
    assert [task["status"] for task in tasks(client, owner, workspace)] == ["dispatched"]


def test_concurrent_claims_of_many_tasks_never_hand_one_out_twice(client, owner, workspace, daemon, runtime, agent, live_server):
    for number in range(10):
        create_issue(client, owner, workspace, agent, title=f"issue {number}")

    responses = run_together(lambda _: post(f"{live_server.url}/api/daemon/tasks/claim", daemon.token, {"runtime_id": runtime["id"]}))

    claimed = [response.json()["task"]["id"] for response in responses if response.status_code == 200]
    assert len(claimed) == len(set(claimed)) == 10
    assert metric(client, "multica_agent_task_dispatched_total") == 10


def test_twenty_concurrent_completions_of_one_issue_execute_it_once(app, client, owner, workspace, daemon, runtime, agent, live_server, sink):
    issue = create_issue(client, owner, workspace, agent)
    for _ in range(THREADS - 1):
        assert client.post(f"/api/workspaces/{workspace['id']}/issues/{issue['id']}/rerun", headers=owner.headers).status_code == 201
    running = []
    for _ in range(THREADS):
        task = claim(client, daemon, runtime).json["task"]
        assert report(client, daemon, task["id"], "start").status_code == 200
        running.append(task["id"])

    responses = run_together(lambda index: post(
        f"{live_server.url}/api/daemon/tasks/{running[index]}/complete", daemon.token, {"result": f"done {index}"},
    ))

    assert [response.status_code for response in responses] == [200] * THREADS
    assert metric(client, "multica_issue_executed_total", source="manual") == 1
    assert metric(client, "multica_agent_task_terminal_total", terminal_status="completed") == THREADS
    flush(app)
    assert len(sink.events("issue_executed")) == 1


def test_duplicate_reports_race_to_one_transition(client, owner, workspace, daemon, runtime, agent, live_server):
    create_issue(client, owner, workspace, agent)
    task = claim(client, daemon, runtime).json["task"]
    url = f"{live_server.url}/api/daemon/tasks/{task['id']}"

    starts = run_together(lambda _: post(f"{url}/start", daemon.token, {}))
    assert sorted(response.status_code for response in starts) == [200] + [409] * (THREADS - 1)
    before = task_metrics(client)
    endings = run_together(lambda index: post(f"{url}/complete", daemon.token, {"result": "ok"}) if index % 2
                           else post(f"{url}/fail", daemon.token, {"error": "boom"}))
    assert sorted(response.status_code for response in endings) == [200] + [409] * (THREADS - 1)
    moved = delta(before, task_metrics(client))
    assert moved["multica_agent_task_terminal_total"] == 1
    assert metric(client, "multica_agent_task_started_total") == 1
