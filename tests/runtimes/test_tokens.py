"""Daemon tokens and the runtime list: membership, shown-once tokens, revocation (D12, D14.10)."""

from __future__ import annotations

import hashlib
import uuid

import sqlalchemy as sa

from multica.extensions import db
from multica.runtimes.models import DaemonToken
from tests.conftest import create_user, create_workspace
from tests.runtimes.helpers import bearer, register


def token_rows(app) -> list[DaemonToken]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(DaemonToken).order_by(DaemonToken.created_at)))
        db.session.expunge_all()
        return rows


def test_token_is_shown_once_and_only_its_hash_is_stored(app, client, owner, workspace):
    url = f"/api/workspaces/{workspace['id']}/daemon-tokens"
    first = client.post(url, json={"name": "laptop"}, headers=owner.headers)
    second = client.post(url, headers=owner.headers)

    assert first.status_code == 201 and second.status_code == 201
    body = first.json
    assert set(body) == {"id", "token", "workspace_id", "name", "created_at"}
    assert body["workspace_id"] == workspace["id"] and body["name"] == "laptop"
    assert body["token"].startswith("mdt_") and len(body["token"]) >= 4 + 43
    assert second.json["token"] != body["token"]

    [row, _] = token_rows(app)
    assert str(row.id) == body["id"] and str(row.created_by) == owner.id
    assert row.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    # The plain token is nowhere in the row: it cannot be shown again.
    stored = [getattr(row, column.key) for column in DaemonToken.__table__.columns]
    assert not any(body["token"] in str(value) for value in stored)
    assert row.last_used_at is None and row.revoked_at is None
    # ...and it works as a daemon credential, which records its use.
    assert register(client, bearer(body["token"])).status_code == 200
    assert token_rows(app)[0].last_used_at is not None


def test_token_creation_needs_membership(app, client, workspace):
    stranger = create_user(app)
    url = f"/api/workspaces/{workspace['id']}/daemon-tokens"

    assert client.post(url).status_code == 401
    refused = client.post(url, headers=stranger.headers)
    assert refused.status_code == 403 and "error" in refused.json
    missing = client.post(f"/api/workspaces/{uuid.uuid4()}/daemon-tokens", headers=stranger.headers)
    assert missing.status_code == 403
    malformed = client.post("/api/workspaces/not-a-uuid/daemon-tokens", headers=stranger.headers)
    assert malformed.status_code == 400 and malformed.json == {"error": "invalid workspace_id"}
    assert token_rows(app) == []


def test_a_daemon_token_is_not_a_user_credential(client, daemon):
    response = client.post(f"/api/workspaces/{daemon.workspace_id}/daemon-tokens", headers=daemon.headers)
    assert response.status_code == 401
    assert client.get(f"/api/workspaces/{daemon.workspace_id}/runtimes", headers=daemon.headers).status_code == 401


def test_revoked_token_is_refused(app, client, owner, workspace, daemon):
    assert register(client, daemon).status_code == 200
    stranger = create_user(app)
    url = f"/api/workspaces/{workspace['id']}/daemon-tokens/{daemon.id}"
    assert client.delete(url, headers=stranger.headers).status_code == 403
    assert client.delete(f"/api/workspaces/{workspace['id']}/daemon-tokens/{uuid.uuid4()}", headers=owner.headers).status_code == 404
    # A token of another workspace cannot be revoked through this one.
    elsewhere = create_workspace(app, stranger)
    assert client.delete(f"/api/workspaces/{elsewhere['id']}/daemon-tokens/{daemon.id}", headers=stranger.headers).status_code == 404

    assert client.delete(url, headers=owner.headers).status_code == 204
    assert client.delete(url, headers=owner.headers).status_code == 204
    for path in ("register", "heartbeat", "deregister"):
        refused = client.post(f"/api/daemon/{path}", json={"daemon_id": "laptop-1", "providers": ["claude"]}, headers=daemon.headers)
        assert refused.status_code == 401 and refused.json == {"error": "invalid daemon token"}


def test_runtime_list_is_for_members_newest_first(app, client, owner, workspace, daemon):
    assert register(client, daemon, "older", ["claude"]).status_code == 200
    assert register(client, daemon, "newer", ["codex"]).status_code == 200
    url = f"/api/workspaces/{workspace['id']}/runtimes"

    listed = client.get(url, headers=owner.headers)
    assert listed.status_code == 200
    assert [(r["daemon_id"], r["provider"], r["status"]) for r in listed.json] == [("newer", "codex", "online"), ("older", "claude", "online")]

    stranger = create_user(app)
    assert client.get(url, headers=stranger.headers).status_code == 403
    assert client.get(f"/api/workspaces/{uuid.uuid4()}/runtimes", headers=owner.headers).status_code == 403
    assert client.get("/api/workspaces/nope/runtimes", headers=owner.headers).json == {"error": "invalid workspace_id"}
    assert client.get(url).status_code == 401


def test_tokens_are_scoped_to_their_workspace(app, client, owner, workspace, daemon):
    other = create_workspace(app, owner, name="Other")
    minted = client.post(f"/api/workspaces/{other['id']}/daemon-tokens", headers=owner.headers).json
    other_daemon = bearer(minted["token"])

    assert register(client, daemon, "laptop-1").status_code == 200
    assert register(client, other_daemon, "laptop-1").status_code == 200
    # The other workspace's daemon going away must not touch this workspace's runtime of the same id.
    assert client.post("/api/daemon/deregister", json={"daemon_id": "laptop-1"}, headers=other_daemon.headers).status_code == 200

    mine = client.get(f"/api/workspaces/{workspace['id']}/runtimes", headers=owner.headers).json
    theirs = client.get(f"/api/workspaces/{other['id']}/runtimes", headers=owner.headers).json
    assert [(r["workspace_id"], r["status"]) for r in mine] == [(workspace["id"], "online")]
    assert [(r["workspace_id"], r["status"]) for r in theirs] == [(other["id"], "offline")]
    assert mine[0]["id"] != theirs[0]["id"]
