"""Bad input and credentials on every task endpoint (D14.9, D19.4, D19.11): a 4xx JSON error, nothing stored, no metric moved."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import create_user, create_workspace
from tests.tasks.helpers import claim, create_issue, report, task_metrics, tasks

MALFORMED = [
    ("not json", "{nope", "application/json"),
    ("form", "runtime_id=x", "application/x-www-form-urlencoded"),
    ("array", "[]", "application/json"),
    ("string", '"hello"', "application/json"),
    ("null", "null", "application/json"),
]


@pytest.mark.parametrize("label,body,content_type", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_bodies_are_400_everywhere(client, owner, workspace, daemon, runtime, agent, label, body, content_type):
    create_issue(client, owner, workspace, agent)
    task = claim(client, daemon, runtime).json["task"]
    before = task_metrics(client)
    for url in ("/api/daemon/tasks/claim", f"/api/daemon/tasks/{task['id']}/start",
                f"/api/daemon/tasks/{task['id']}/complete", f"/api/daemon/tasks/{task['id']}/fail"):
        response = client.post(url, data=body, content_type=content_type, headers=daemon.headers)
        assert response.status_code == 400, (url, response.json)
        assert "error" in response.json
    assert task_metrics(client) == before
    assert tasks(client, owner, workspace)[0]["status"] == "dispatched"


@pytest.mark.parametrize("body,message", [
    ({}, "runtime_id is required"),
    ({"runtime_id": 7}, "invalid runtime_id"),
    ({"runtime_id": "x" * 100_000}, "invalid request body"),
    ({"runtime_id": str(uuid.uuid4())}, "runtime not found"),
])
def test_claim_needs_a_runtime_of_the_workspace(client, daemon, runtime, body, message):
    response = client.post("/api/daemon/tasks/claim", json=body, headers=daemon.headers)
    assert response.status_code in (400, 404) and response.json["error"] == message


def test_fail_needs_an_error_and_a_canonical_reason(client, owner, workspace, daemon, runtime, agent):
    create_issue(client, owner, workspace, agent)
    task = claim(client, daemon, runtime).json["task"]
    before = task_metrics(client)
    for body in ({}, {"error": ""}, {"error": 5}, {"error": "boom", "failure_reason": "made_up"}, {"error": "x", "failure_reason": 3}):
        response = report(client, daemon, task["id"], "fail", body)
        assert response.status_code == 400, body
    assert report(client, daemon, task["id"], "complete", {"result": 12}).status_code == 400
    assert task_metrics(client) == before
    huge = client.post(f"/api/daemon/tasks/{task['id']}/fail", data=b'{"error": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                       content_type="application/json", headers=daemon.headers)
    assert huge.status_code == 413 and "error" in huge.json
    assert tasks(client, owner, workspace)[0]["status"] == "dispatched"


def test_daemon_credentials(app, client, owner, workspace, daemon, runtime, agent):
    create_issue(client, owner, workspace, agent)
    # Another workspace's daemon sees neither this runtime nor this workspace's tasks.
    stranger = create_user(app)
    elsewhere = create_workspace(app, stranger)
    foreign = client.post(f"/api/workspaces/{elsewhere['id']}/daemon-tokens", headers=stranger.headers).json["token"]
    foreign_headers = {"Authorization": f"Bearer {foreign}"}
    assert client.post("/api/daemon/tasks/claim", json={"runtime_id": runtime["id"]}, headers=foreign_headers).status_code == 404
    task = claim(client, daemon, runtime).json["task"]
    for action in ("start", "complete", "fail"):
        response = client.post(f"/api/daemon/tasks/{task['id']}/{action}", json={"error": "x"}, headers=foreign_headers)
        assert response.status_code == 404 and response.json["error"] == "task not found"
    assert report(client, daemon, str(uuid.uuid4()), "start").status_code == 404
    assert report(client, daemon, "not-a-uuid", "start").status_code == 404
    # No token, a user's token, a made-up token: 401.
    for headers in ({}, owner.headers, {"Authorization": "Bearer mdt_made-up"}):
        assert client.post("/api/daemon/tasks/claim", json={"runtime_id": runtime["id"]}, headers=headers).status_code == 401
        assert client.post(f"/api/daemon/tasks/{task['id']}/start", headers=headers).status_code == 401
    # A revoked token: 401.
    assert client.delete(f"/api/workspaces/{workspace['id']}/daemon-tokens/{daemon.id}", headers=owner.headers).status_code == 204
    assert claim(client, daemon, runtime).status_code == 401
    assert report(client, daemon, task["id"], "start").status_code == 401
    assert tasks(client, owner, workspace)[0]["status"] == "dispatched"


def test_member_routes_answer_non_members_404_before_anything_else(app, client, owner, workspace, daemon, runtime, agent):
    issue = create_issue(client, owner, workspace, agent)
    [task] = tasks(client, owner, workspace, issue)
    stranger = create_user(app)
    for method, url in (
        ("get", f"/api/workspaces/{workspace['id']}/tasks"),
        ("get", f"/api/workspaces/{workspace['id']}/tasks?issue_id={issue['id']}"),
        ("post", f"/api/workspaces/{workspace['id']}/tasks/{task['id']}/cancel"),
        ("post", f"/api/workspaces/{workspace['id']}/tasks/{uuid.uuid4()}/cancel"),
        ("post", f"/api/workspaces/{workspace['id']}/issues/{issue['id']}/rerun"),
        ("patch", f"/api/workspaces/{workspace['id']}/issues/{issue['id']}"),
        ("post", f"/api/workspaces/{uuid.uuid4()}/issues/{issue['id']}/rerun"),
        ("post", f"/api/workspaces/not-a-uuid/tasks/{task['id']}/cancel"),
    ):
        response = getattr(client, method)(url, json={"assignee_agent_id": None}, headers=stranger.headers)
        assert response.status_code == 404 and response.json["error"] == "workspace not found", url
    assert client.get(f"/api/workspaces/{workspace['id']}/tasks").status_code == 401
    assert tasks(client, owner, workspace)[0]["status"] == "queued"
    assert tasks(client, owner, workspace, issue)[0]["attempt"] == 1


def test_member_routes_refuse_bad_ids_and_bodies(client, owner, workspace, agent):
    issue = create_issue(client, owner, workspace)
    base = f"/api/workspaces/{workspace['id']}"
    assert client.get(f"{base}/tasks?issue_id={uuid.uuid4()}", headers=owner.headers).status_code == 404
    assert client.post(f"{base}/tasks/{uuid.uuid4()}/cancel", headers=owner.headers).status_code == 404
    assert client.post(f"{base}/issues/{uuid.uuid4()}/rerun", headers=owner.headers).status_code == 404
    for body in ({"assignee_agent_id": 5}, {"assignee_agent_id": "nope"}, {"assignee_agent_id": "x" * 100_000}):
        assert client.patch(f"{base}/issues/{issue['id']}", json=body, headers=owner.headers).status_code == 400
    assert client.patch(f"{base}/issues/{issue['id']}", json={"assignee_agent_id": str(uuid.uuid4())}, headers=owner.headers).status_code == 404
    for raw, content_type in (("[]", "application/json"), ("a=b", "application/x-www-form-urlencoded"), ("null", "application/json")):
        response = client.patch(f"{base}/issues/{issue['id']}", data=raw, content_type=content_type, headers=owner.headers)
        assert response.status_code == 400
    assert tasks(client, owner, workspace) == []


@pytest.mark.parametrize("raw", ["a%00b", "ISS-1%00", "%F0%9F%98%80", "x" * 200, "ISS-", "-1"])
def test_an_issue_named_by_what_no_key_can_be_is_404_not_500(client, owner, workspace, agent, raw):
    # A NUL in the issue id (query or path) reached the key lookup, which PostgreSQL refuses with an error.
    issue = create_issue(client, owner, workspace)
    base = f"/api/workspaces/{workspace['id']}"
    for response in (
        client.get(f"{base}/tasks?issue_id={raw}", headers=owner.headers),
        client.patch(f"{base}/issues/{raw}", json={"assignee_agent_id": None}, headers=owner.headers),
        client.post(f"{base}/issues/{raw}/rerun", headers=owner.headers),
    ):
        assert response.status_code == 404 and response.json["error"] == "issue not found"
    # Keys still name issues, in any case and with spaces around them.
    assert client.get(f"{base}/tasks?issue_id={issue['key']}", headers=owner.headers).status_code == 200
    assert client.get(f"{base}/tasks?issue_id=%20{issue['key'].lower()}", headers=owner.headers).status_code == 200
