"""The whole loop with real processes: a live app, `python -m multica.daemon --exec` running small agent scripts (D15.8).

A person assigns an issue; the daemon claims the task, runs the script with the prompt on stdin and
reports. Rows, `/metrics` and the PostHog sink must show exactly one run of each transition, one
`issue_executed` for a successful issue, and no `agent_task_*` event ever.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.conftest import flush
from tests.tasks.helpers import OLD_TASK_EVENTS, create_issue, delta, metric, stop, task_metrics, tasks, wait_until

def finished(client, owner, workspace, issue):
    listed = tasks(client, owner, workspace, issue)
    return listed if listed and listed[0]["status"] in ("completed", "failed", "cancelled") else None


def test_a_successful_agent_executes_the_issue(app, client, owner, workspace, loop, sink):
    process, agent, runtime = loop("succeed.py")
    before = task_metrics(client)
    issue = create_issue(client, owner, workspace, agent, title="Add a README")
    [task] = wait_until(lambda: finished(client, owner, workspace, issue), what="task finished")
    out, err = stop(process)
    assert process.returncode == 0, err
    assert task["status"] == "completed" and task["result"].startswith("Done: Add a README"), task
    assert task["started_at"] and task["completed_at"]
    assert delta(before, task_metrics(client)) == {
        "multica_agent_task_enqueued_total": 1, "multica_agent_task_dispatched_total": 1,
        "multica_agent_task_started_total": 1, "multica_agent_task_terminal_total": 1,
        "multica_agent_task_queue_wait_seconds_count": 1, "multica_agent_task_run_seconds_count": 1,
        "multica_agent_task_total_seconds_count": 1,
    }
    assert metric(client, "multica_issue_executed_total", source="manual") == 1
    assert f"task {task['id']} completed" in out
    issues = client.get(f"/api/workspaces/{workspace['id']}/issues", headers=owner.headers).json
    assert issues[0]["status"] == "done"
    flush(app)
    [executed] = sink.events("issue_executed")
    assert executed["distinct_id"] == owner.id
    assert executed["properties"]["task_id"] == task["id"] and executed["properties"]["provider"] == "claude"
    assert {event["event"] for event in sink.events(accepted_only=False)} & OLD_TASK_EVENTS == set()
    # The daemon deregistered on SIGINT.
    assert client.get(f"/api/workspaces/{workspace['id']}/runtimes", headers=owner.headers).json[0]["status"] == "offline"


@pytest.mark.parametrize("script,reason,text", [
    ("provider_error.py", "agent_error.provider_capacity_or_rate_limit", "API Error: 429 overloaded"),
    ("crash.py", "agent_error.process_failure", "exit status 3"),
])
def test_failing_agents_are_failed_with_a_classified_reason(app, client, owner, workspace, loop, sink, script, reason, text):
    process, agent, runtime = loop(script)
    before = task_metrics(client)
    issue = create_issue(client, owner, workspace, agent)
    [task] = wait_until(lambda: finished(client, owner, workspace, issue), what="task finished")
    stop(process)
    assert task["status"] == "failed" and task["failure_reason"] == reason and text in task["error"], task
    assert delta(before, task_metrics(client)) == {
        "multica_agent_task_enqueued_total": 1, "multica_agent_task_dispatched_total": 1,
        "multica_agent_task_started_total": 1, "multica_agent_task_terminal_total": 1, "multica_agent_task_failed_total": 1,
        "multica_agent_task_queue_wait_seconds_count": 1, "multica_agent_task_run_seconds_count": 1,
        "multica_agent_task_total_seconds_count": 1,
    }
    assert metric(client, "multica_agent_task_failed_total", failure_reason=reason, source="issue", runtime_mode="local") == 1
    assert metric(client, "multica_issue_executed_total") == 0
    flush(app)
    assert sink.events("issue_executed") == []


def test_an_agent_past_the_timeout_is_killed_and_failed(client, owner, workspace, loop):
    process, agent, runtime = loop("hang.py", "--task-timeout", "1")
    issue = create_issue(client, owner, workspace, agent)
    [task] = wait_until(lambda: finished(client, owner, workspace, issue), what="task timed out")
    stop(process)
    assert task["status"] == "failed" and task["failure_reason"] == "agent_error.agent_timeout"
    assert "timed out after 1s" in task["error"]


def test_sigint_fails_the_running_task_and_deregisters(client, owner, workspace, loop):
    process, agent, runtime = loop("hang.py")
    issue = create_issue(client, owner, workspace, agent)
    wait_until(lambda: tasks(client, owner, workspace, issue)[0]["status"] == "running", what="task running")
    begun = time.monotonic()
    out, err = stop(process, signal.SIGINT)
    assert time.monotonic() - begun < 10
    assert process.returncode == 0, err
    [task] = tasks(client, owner, workspace, issue)
    assert task["status"] == "failed" and task["failure_reason"] == "agent_error.process_failure", task
    assert metric(client, "multica_agent_task_in_progress") == 0
    assert client.get(f"/api/workspaces/{workspace['id']}/runtimes", headers=owner.headers).json[0]["status"] == "offline"
    assert "deregistered daemon loop-host" in out


def test_concurrency_runs_tasks_side_by_side(client, owner, workspace, loop):
    process, agent, runtime = loop("hang.py", "--concurrency", "2")
    first = create_issue(client, owner, workspace, agent, title="one")
    second = create_issue(client, owner, workspace, agent, title="two")
    third = create_issue(client, owner, workspace, agent, title="three")
    wait_until(
        lambda: [tasks(client, owner, workspace, issue)[0]["status"] for issue in (first, second)] == ["running", "running"],
        what="two tasks running at once",
    )
    assert tasks(client, owner, workspace, third)[0]["status"] == "queued"
    stop(process)
