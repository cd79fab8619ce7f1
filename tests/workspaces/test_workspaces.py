"""Workspace API and `workspace_created` from the wire (D14.1, SPEC §5.3)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from multica.extensions import db
from multica.workspaces.models import Member, Workspace
from multica.workspaces.service import issue_prefix_for, slug_from_name
from tests.conftest import create_user, flush


def test_create_and_list(app, client, sink):
    owner = create_user(app)
    response = client.post("/api/workspaces", json={"name": " Acme Corp ", "slug": "acme"}, headers=owner.headers)
    assert response.status_code == 201
    body = response.json
    assert body["name"] == "Acme Corp" and body["slug"] == "acme" and len(body["id"]) == 36
    listed = client.get("/api/workspaces", headers=owner.headers)
    assert [w["id"] for w in listed.json] == [body["id"]]
    other = create_user(app)
    assert client.get("/api/workspaces", headers=other.headers).json == []
    with app.app_context():
        member = db.session.scalar(sa.select(Member))
        assert str(member.user_id) == owner.id and member.role == "owner"
        assert db.session.scalar(sa.select(Workspace.issue_prefix)) == "ACME"
    flush(app)
    created = sink.events("workspace_created")
    assert len(created) == 1
    props = created[0]["properties"]
    assert created[0]["distinct_id"] == owner.id
    assert props["workspace_id"] == body["id"] and props["user_id"] == owner.id
    assert props["source"] == "manual" and props["is_demo"] is False
    assert "is_first_workspace" not in props
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'multica_workspace_created_total{source="manual"} 1.0' in metrics


def test_duplicate_slug_is_409_and_emits_once(app, client, sink):
    owner = create_user(app)
    assert client.post("/api/workspaces", json={"name": "A", "slug": "dup"}, headers=owner.headers).status_code == 201
    second = client.post("/api/workspaces", json={"name": "B", "slug": "dup"}, headers=owner.headers)
    assert second.status_code == 409 and second.json == {"error": "workspace slug already exists"}
    flush(app)
    assert len(sink.events("workspace_created")) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Workspace)) == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"slug": "acme"}, "name is required"),
        ({"name": "   ", "slug": "acme"}, "name is required"),
        ({"name": "x" * 101, "slug": "acme"}, "name is too long"),
        ({"name": "Acme", "slug": "Not A Slug!"}, "invalid slug"),
        ({"name": "Acme", "slug": "api"}, "invalid slug"),
        ({"name": "Acme", "slug": "a"}, "invalid slug"),
        ({"name": "Acme", "slug": 42}, "invalid slug"),
        ({"name": ["Acme"], "slug": "acme"}, "name is required"),
    ],
)
def test_validation(app, client, sink, body, error):
    owner = create_user(app)
    response = client.post("/api/workspaces", json=body, headers=owner.headers)
    assert response.status_code == 400 and response.json == {"error": error}
    flush(app)
    assert sink.events() == []


def test_slug_defaults_from_name(app, client):
    owner = create_user(app)
    response = client.post("/api/workspaces", json={"name": "Blue Sky Labs"}, headers=owner.headers)
    assert response.status_code == 201 and response.json["slug"] == "blue-sky-labs"


def test_requires_auth(client):
    assert client.post("/api/workspaces", json={"name": "A", "slug": "abc"}).status_code == 401
    assert client.get("/api/workspaces").status_code == 401


def test_creation_can_be_disabled(make_app):
    app = make_app(DISABLE_WORKSPACE_CREATION="true")
    owner = create_user(app)
    response = app.test_client().post("/api/workspaces", json={"name": "A", "slug": "abc"}, headers=owner.headers)
    assert response.status_code == 403


@pytest.mark.parametrize("body", [b"nope", b"[]", b"null", b'"x"'])
def test_malformed_bodies(app, client, body):
    owner = create_user(app)
    response = client.post("/api/workspaces", data=body, content_type="application/json", headers=owner.headers)
    assert response.status_code == 400 and response.json == {"error": "invalid request body"}


def test_helpers():
    assert issue_prefix_for("acme-corp") == "ACMECORP"
    assert issue_prefix_for("123") == "ISS"
    assert slug_from_name("  Hello, World!  ") == "hello-world"
    assert slug_from_name("API") == ""
