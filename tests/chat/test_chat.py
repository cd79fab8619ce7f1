"""Chat from the wire: sessions, messages that queue a `chat` task, `chat_message_sent` without content, replies (D15.5)."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import create_user, flush
from tests.tasks.helpers import claim, metric, report, task_metrics


def start(client, owner, workspace, agent):
    response = client.post(f"/api/workspaces/{workspace['id']}/chat-sessions", json={"agent_id": agent["id"]}, headers=owner.headers)
    assert response.status_code == 201, response.json
    return response.json


def test_a_message_queues_a_chat_task_and_the_result_is_the_reply(app, client, owner, workspace, daemon, runtime, agent, sink):
    session = start(client, owner, workspace, agent)
    assert set(session) >= {"id", "agent_id", "created_at"} and session["agent_id"] == agent["id"]
    before = task_metrics(client)
    url = f"/api/workspaces/{workspace['id']}/chat-sessions/{session['id']}/messages"
    sent = client.post(url, json={"content": "  What does the login module do?  "}, headers={**owner.headers, "X-Client-Platform": "web"})
    assert sent.status_code == 201
    assert sent.json["message"]["content"] == "What does the login module do?" and sent.json["message"]["role"] == "user"
    task = sent.json["task"]
    assert task["source"] == "chat" and task["status"] == "queued" and task["chat_session_id"] == session["id"]
    assert metric(client, "multica_agent_task_enqueued_total", source="chat", runtime_mode="local") == 1
    assert task_metrics(client)["multica_agent_task_enqueued_total"] - before["multica_agent_task_enqueued_total"] == 1
    assert metric(client, "multica_chat_message_sent_total", platform="web") == 1

    claimed = claim(client, daemon, runtime).json["task"]
    assert claimed["chat_session_id"] == session["id"] and claimed["issue_id"] is None
    assert claimed["prompt"] == "What does the login module do?"
    report(client, daemon, claimed["id"], "start")
    assert report(client, daemon, claimed["id"], "complete", {"result": "It signs people in."}).status_code == 200
    assert report(client, daemon, claimed["id"], "complete", {"result": "again"}).status_code == 409
    listed = client.get(url, headers=owner.headers).json
    assert [(m["role"], m["content"]) for m in listed] == [("user", "What does the login module do?"), ("agent", "It signs people in.")]
    assert metric(client, "multica_issue_executed_total") == 0

    flush(app)
    [event] = sink.events("chat_message_sent")
    assert event["distinct_id"] == owner.id
    props = event["properties"]
    assert props["chat_session_id"] == session["id"] and props["task_id"] == task["id"] and props["agent_id"] == agent["id"]
    assert props["source"] == "chat" and props["provider"] == "claude" and props["runtime_mode"] == "local"
    assert "login module" not in str(sink.events(accepted_only=False))
    assert client.get(f"/api/workspaces/{workspace['id']}/chat-sessions", headers=owner.headers).json[0]["id"] == session["id"]


def test_a_failed_chat_task_leaves_no_reply(client, owner, workspace, daemon, runtime, agent):
    session = start(client, owner, workspace, agent)
    url = f"/api/workspaces/{workspace['id']}/chat-sessions/{session['id']}/messages"
    client.post(url, json={"content": "hi"}, headers=owner.headers)
    task = claim(client, daemon, runtime).json["task"]
    report(client, daemon, task["id"], "fail", {"error": "exit status 1"})
    assert [m["role"] for m in client.get(url, headers=owner.headers).json] == ["user"]


@pytest.mark.parametrize("body,status", [
    ({}, 400), ({"content": ""}, 400), ({"content": "   "}, 400), ({"content": 5}, 400), ({"content": None}, 400),
    ({"content": "x" * 10_001}, 400), ({"content": "é" * 5_001}, 400),
])
def test_bad_messages_store_and_emit_nothing(app, client, owner, workspace, agent, sink, body, status):
    session = start(client, owner, workspace, agent)
    url = f"/api/workspaces/{workspace['id']}/chat-sessions/{session['id']}/messages"
    assert client.post(url, json=body, headers=owner.headers).status_code == status
    for raw, content_type in (("[]", "application/json"), ("content=hi", "application/x-www-form-urlencoded"), ("{", "application/json")):
        assert client.post(url, data=raw, content_type=content_type, headers=owner.headers).status_code == 400
    assert client.get(url, headers=owner.headers).json == []
    assert metric(client, "multica_chat_message_sent_total") == 0
    flush(app)
    assert sink.events("chat_message_sent") == []


def test_sessions_need_an_agent_of_the_workspace_and_a_member(app, client, owner, workspace, agent):
    base = f"/api/workspaces/{workspace['id']}/chat-sessions"
    assert client.post(base, json={}, headers=owner.headers).status_code == 400
    assert client.post(base, json={"agent_id": "nope"}, headers=owner.headers).status_code == 400
    assert client.post(base, json={"agent_id": str(uuid.uuid4())}, headers=owner.headers).status_code == 404
    session = start(client, owner, workspace, agent)
    stranger = create_user(app)
    for method, url, body in (
        ("post", base, {"agent_id": agent["id"]}), ("get", base, None),
        ("post", f"{base}/{session['id']}/messages", {"content": "hi"}), ("get", f"{base}/{session['id']}/messages", None),
        ("post", f"{base}/{uuid.uuid4()}/messages", {"content": "hi"}),
    ):
        response = getattr(client, method)(url, json=body, headers=stranger.headers)
        assert response.status_code == 404 and response.json["error"] == "workspace not found"
    assert client.post(f"{base}/{uuid.uuid4()}/messages", json={"content": "hi"}, headers=owner.headers).status_code == 404
    assert client.get(f"{base}/{session['id']}/messages", headers=owner.headers).json == []
