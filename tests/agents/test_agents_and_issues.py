"""Agents and issues from the wire: `agent_created`, `issue_created` (SPEC §5.3)."""

from __future__ import annotations

import uuid

import pytest

from multica.extensions import db
from multica.runtimes.models import Runtime
from tests.conftest import create_user, create_workspace, flush


def add_runtime(app, workspace_id: str, provider: str = "claude") -> str:
    with app.app_context():
        runtime = Runtime(workspace_id=uuid.UUID(workspace_id), daemon_id="laptop", provider=provider)
        db.session.add(runtime)
        db.session.commit()
        return str(runtime.id)


@pytest.fixture
def setup(app):
    owner = create_user(app)
    workspace = create_workspace(app, owner, slug="acme")
    return owner, workspace, add_runtime(app, workspace["id"])


def test_agent_created(app, client, sink, setup):
    owner, workspace, runtime_id = setup
    url = f"/api/workspaces/{workspace['id']}/agents"
    first = client.post(url, json={"runtime_id": runtime_id, "template": "coding"}, headers=owner.headers)
    assert first.status_code == 201 and first.json["name"] == "Coding agent" and first.json["template"] == "coding"
    second = client.post(url, json={"runtime_id": runtime_id, "template": "", "name": "Helper"}, headers=owner.headers)
    assert second.status_code == 201
    assert [a["id"] for a in client.get(url, headers=owner.headers).json] == [first.json["id"], second.json["id"]]
    flush(app)
    created = sink.events("agent_created")
    assert len(created) == 2
    props = created[0]["properties"]
    assert created[0]["distinct_id"] == owner.id
    assert props["agent_id"] == first.json["id"] and props["workspace_id"] == workspace["id"]
    assert props["provider"] == "claude" and props["runtime_mode"] == "local" and props["template"] == "coding"
    assert props["is_first_agent_in_workspace"] is True
    assert created[1]["properties"]["is_first_agent_in_workspace"] is False
    assert created[1]["properties"]["template"] == ""
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'multica_agent_created_total{runtime_mode="local",source="manual"} 2.0' in metrics


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"template": "coding"}, 400),
        ({"runtime_id": "nope", "template": "coding"}, 400),
        ({"runtime_id": str(uuid.uuid4()), "template": "coding"}, 404),
        ({"template": "wizard"}, 400),
        ({"template": 5}, 400),
    ],
)
def test_agent_validation(app, client, sink, setup, body, status):
    owner, workspace, runtime_id = setup
    if "runtime_id" not in body and body.get("template") != "coding":
        body = {**body, "runtime_id": runtime_id}
    response = client.post(f"/api/workspaces/{workspace['id']}/agents", json=body, headers=owner.headers)
    assert response.status_code == status and "error" in response.json
    flush(app)
    assert sink.events("agent_created") == []


def test_agent_needs_membership_and_own_runtime(app, client, setup):
    owner, workspace, runtime_id = setup
    stranger = create_user(app)
    url = f"/api/workspaces/{workspace['id']}/agents"
    assert client.post(url, json={"runtime_id": runtime_id, "template": "coding"}, headers=stranger.headers).status_code == 403
    other = create_workspace(app, stranger, slug="other")
    foreign = client.post(f"/api/workspaces/{other['id']}/agents", json={"runtime_id": runtime_id, "template": "coding"}, headers=stranger.headers)
    assert foreign.status_code == 404


def test_issue_created(app, client, sink, setup):
    owner, workspace, runtime_id = setup
    agent = client.post(f"/api/workspaces/{workspace['id']}/agents", json={"runtime_id": runtime_id, "template": "coding"}, headers=owner.headers).json
    url = f"/api/workspaces/{workspace['id']}/issues"
    first = client.post(url, json={"title": "Fix the login bug", "assignee_agent_id": agent["id"]}, headers={**owner.headers, "X-Client-Platform": "web"})
    assert first.status_code == 201 and first.json["key"] == "ACME-1"
    second = client.post(url, json={"title": "Write docs"}, headers=owner.headers)
    assert second.json["key"] == "ACME-2"
    assert [i["key"] for i in client.get(url, headers=owner.headers).json] == ["ACME-2", "ACME-1"]
    flush(app)
    created = sink.events("issue_created")
    assert len(created) == 2
    props = created[0]["properties"]
    assert props["issue_id"] == first.json["id"] and props["agent_id"] == agent["id"]
    assert props["source"] == "api" and props["platform"] == "web" and props["workspace_id"] == workspace["id"]
    assert "agent_id" not in created[1]["properties"]
    assert "Fix the login bug" not in str(created)


@pytest.mark.parametrize(
    ("body", "error"),
    [({}, "title is required"), ({"title": "  "}, "title is required"), ({"title": "x" * 501}, "title is too long"),
     ({"title": "ok", "assignee_agent_id": "nope"}, "invalid assignee_agent_id"), ({"title": 5}, "title is required")],
)
def test_issue_validation(app, client, sink, setup, body, error):
    owner, workspace, _ = setup
    response = client.post(f"/api/workspaces/{workspace['id']}/issues", json=body, headers=owner.headers)
    assert response.status_code == 400 and response.json == {"error": error}
    flush(app)
    assert sink.events("issue_created") == []


def test_issue_needs_membership(app, client, setup):
    _, workspace, _ = setup
    stranger = create_user(app)
    assert client.post(f"/api/workspaces/{workspace['id']}/issues", json={"title": "x"}, headers=stranger.headers).status_code == 403
    assert client.get(f"/api/workspaces/{uuid.uuid4()}/issues", headers=stranger.headers).status_code == 403
    assert client.get("/api/workspaces/not-a-uuid/issues", headers=stranger.headers).status_code == 400
