"""Squads from the wire and the page: agents of this workspace only, `squad_created` once (D15.6, D19.7)."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import create_user, create_workspace, flush
from tests.tasks.helpers import metric

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def second_agent(client, owner, workspace, runtime) -> dict:
    return client.post(
        f"/api/workspaces/{workspace['id']}/agents", json={"runtime_id": runtime["id"], "template": "planning"}, headers=owner.headers,
    ).json


def test_create_and_list_squads(app, client, owner, workspace, runtime, agent, sink):
    other = second_agent(client, owner, workspace, runtime)
    url = f"/api/workspaces/{workspace['id']}/squads"
    created = client.post(url, json={"name": "  Backend  ", "agent_ids": [agent["id"], other["id"], agent["id"]]}, headers=owner.headers)
    assert created.status_code == 201
    assert created.json["name"] == "Backend" and created.json["agent_ids"] == [agent["id"], other["id"]]
    listed = client.get(url, headers=owner.headers).json
    assert [(squad["id"], sorted(squad["agent_ids"])) for squad in listed] == [(created.json["id"], sorted([agent["id"], other["id"]]))]
    assert metric(client, "multica_squad_created_total") == 1
    flush(app)
    [event] = sink.events("squad_created")
    assert event["distinct_id"] == owner.id
    assert event["properties"]["squad_id"] == created.json["id"] and event["properties"]["member_count"] == 2
    assert event["properties"]["source"] == "manual" and event["properties"]["workspace_id"] == workspace["id"]
    assert "Backend" not in str(sink.events(accepted_only=False))


@pytest.mark.parametrize("body", [
    {}, {"name": ""}, {"name": "  "}, {"name": 5}, {"name": "x" * 101}, {"name": "ok", "agent_ids": "not-a-list"},
    {"name": "ok", "agent_ids": [5]}, {"name": "ok", "agent_ids": ["nope"]}, {"name": "ok", "agent_ids": {"a": 1}},
])
def test_bad_squads_are_400_and_emit_nothing(app, client, owner, workspace, agent, sink, body):
    url = f"/api/workspaces/{workspace['id']}/squads"
    assert client.post(url, json=body, headers=owner.headers).status_code == 400
    assert client.get(url, headers=owner.headers).json == []
    assert metric(client, "multica_squad_created_total") == 0


def test_foreign_or_unknown_agents_and_non_members(app, client, owner, workspace, agent, sink):
    stranger = create_user(app)
    elsewhere = create_workspace(app, stranger)
    url = f"/api/workspaces/{workspace['id']}/squads"
    assert client.post(url, json={"name": "x", "agent_ids": [str(uuid.uuid4())]}, headers=owner.headers).status_code == 404
    foreign = client.post(f"/api/workspaces/{elsewhere['id']}/squads", json={"name": "x", "agent_ids": [agent["id"]]}, headers=stranger.headers)
    assert foreign.status_code == 404
    for method in ("get", "post"):
        response = getattr(client, method)(url, json={"name": "x", "agent_ids": []}, headers=stranger.headers)
        assert response.status_code == 404 and response.json["error"] == "workspace not found"
    assert client.get(url, headers=owner.headers).json == []
    flush(app)
    assert sink.events("squad_created") == []


def test_squads_page_without_javascript(app, client, owner, workspace, agent):
    page = app.test_client()
    with page.session_transaction() as session:
        session["user_id"] = owner.id
    html = page.get(f"/{workspace['slug']}/squads").text
    token = CSRF.search(html).group(1)
    assert "No squads yet" in html
    created = page.post(f"/{workspace['slug']}/squads", data={"csrf_token": token, "name": "Docs crew", "agent_ids": [agent["id"]]})
    assert created.status_code == 302
    html = page.get(f"/{workspace['slug']}/squads").text
    assert "Docs crew" in html and agent["name"] in html
    refused = page.post(f"/{workspace['slug']}/squads", data={"csrf_token": token, "name": ""})
    assert refused.status_code == 400 and "Name is required" in refused.text
    stranger = app.test_client()
    with stranger.session_transaction() as session:
        session["user_id"] = create_user(app).id
    assert stranger.get(f"/{workspace['slug']}/squads").status_code == 404
