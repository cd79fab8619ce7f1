"""Malformed bodies on the runtimes endpoints: 400 `{"error": ...}`, nothing stored, nothing counted (D14.9)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from multica.extensions import db
from multica.runtimes.models import DaemonToken
from tests.runtimes.helpers import metric, register, runtime_rows

BIG = "x" * 100_000

REGISTER_CASES = [
    ({"providers": ["claude"]}, "daemon_id is required"),
    ({"daemon_id": "", "providers": ["claude"]}, "daemon_id is required"),
    ({"daemon_id": "   ", "providers": ["claude"]}, "daemon_id is required"),
    ({"daemon_id": 42, "providers": ["claude"]}, "invalid daemon_id"),
    ({"daemon_id": None, "providers": ["claude"]}, "invalid daemon_id"),
    ({"daemon_id": ["laptop"], "providers": ["claude"]}, "invalid daemon_id"),
    ({"daemon_id": {"id": "laptop"}, "providers": ["claude"]}, "invalid daemon_id"),
    ({"daemon_id": True, "providers": ["claude"]}, "invalid daemon_id"),
    ({"daemon_id": "x" * 201, "providers": ["claude"]}, "daemon_id is too long"),
    ({"daemon_id": "é" * 101, "providers": ["claude"]}, "daemon_id is too long"),
    ({"daemon_id": "lap\u0000top", "providers": ["claude"]}, "invalid daemon_id"),
    ({"daemon_id": "lap\ntop", "providers": ["claude"]}, "invalid daemon_id"),
    ({"daemon_id": "\ud800", "providers": ["claude"]}, "invalid daemon_id"),
    ({"daemon_id": "laptop"}, "providers is required"),
    ({"daemon_id": "laptop", "providers": []}, "invalid providers"),
    ({"daemon_id": "laptop", "providers": "claude"}, "invalid providers"),
    ({"daemon_id": "laptop", "providers": None}, "invalid providers"),
    ({"daemon_id": "laptop", "providers": {"provider": "claude"}}, "invalid providers"),
    ({"daemon_id": "laptop", "providers": [f"p{i}" for i in range(21)]}, "invalid providers"),
    ({"daemon_id": "laptop", "providers": [42]}, "invalid providers"),
    ({"daemon_id": "laptop", "providers": [None]}, "invalid providers"),
    ({"daemon_id": "laptop", "providers": [["claude"]]}, "invalid providers"),
    ({"daemon_id": "laptop", "providers": ["claude", 7]}, "invalid providers"),
    ({"daemon_id": "laptop", "providers": [{}]}, "provider is required"),
    ({"daemon_id": "laptop", "providers": [""]}, "provider is required"),
    ({"daemon_id": "laptop", "providers": [{"provider": 1}]}, "invalid provider"),
    ({"daemon_id": "laptop", "providers": [{"provider": None}]}, "invalid provider"),
    ({"daemon_id": "laptop", "providers": ["c" * 65]}, "provider is too long"),
    ({"daemon_id": "laptop", "providers": ["cl\u0000aude"]}, "invalid provider"),
    ({"daemon_id": "laptop", "providers": [{"provider": "claude", "version": 1}]}, "invalid version"),
    ({"daemon_id": "laptop", "providers": [{"provider": "claude", "version": "v" * 65}]}, "version is too long"),
    ({"daemon_id": "laptop", "providers": ["claude"], "cli_version": 3}, "invalid cli_version"),
    ({"daemon_id": "laptop", "providers": ["claude"], "cli_version": None}, "invalid cli_version"),
    ({"daemon_id": "laptop", "providers": ["claude"], "cli_version": "1" * 65}, "cli_version is too long"),
    ({"daemon_id": "laptop", "providers": ["claude"], "name": {}}, "invalid name"),
    ({"daemon_id": "laptop", "providers": ["claude"], "name": "n" * 201}, "name is too long"),
    ({"daemon_id": BIG, "providers": ["claude"]}, "invalid request body"),
    ({"daemon_id": "laptop", "providers": [BIG]}, "invalid request body"),
    ({"daemon_id": "laptop", "providers": ["claude"], "name": BIG}, "invalid request body"),
]

RAW_BODIES = [
    ("{not json", "application/json"),
    ("daemon_id=laptop&providers=claude", "application/x-www-form-urlencoded"),
    ('{"daemon_id": "laptop", "providers": ["claude"]}', "application/x-www-form-urlencoded"),
    ("[]", "application/json"),
    ('[{"daemon_id": "laptop"}]', "application/json"),
    ("null", "application/json"),
    ('"laptop"', "application/json"),
    ("42", "application/json"),
    ("", "application/json"),
    (b"\xff\xfe{}", "application/json"),
]


def assert_nothing_happened(app, client) -> None:
    """No runtime rows, no lifecycle counts, and the token's use was not recorded."""
    assert runtime_rows(app) == []
    for kind in ("registered", "ready", "offline", "failed"):
        assert metric(client, f"multica_runtime_{kind}_total") == 0
    with app.app_context():
        assert db.session.scalar(sa.select(DaemonToken.last_used_at)) is None


@pytest.mark.parametrize(("body", "error"), REGISTER_CASES)
def test_register_rejects_malformed_fields(app, client, daemon, body, error):
    response = client.post("/api/daemon/register", json=body, headers=daemon.headers)
    assert response.status_code == 400 and response.json == {"error": error}
    assert_nothing_happened(app, client)


@pytest.mark.parametrize(("data", "content_type"), RAW_BODIES)
@pytest.mark.parametrize("path", ["register", "heartbeat", "deregister"])
def test_daemon_endpoints_reject_bodies_that_are_not_json_objects(app, client, daemon, path, data, content_type):
    response = client.post(f"/api/daemon/{path}", data=data, content_type=content_type, headers=daemon.headers)
    assert response.status_code == 400 and response.json == {"error": "invalid request body"}
    assert_nothing_happened(app, client)


@pytest.mark.parametrize("path", ["register", "heartbeat", "deregister"])
def test_a_two_megabyte_body_is_413(app, client, daemon, path):
    response = client.post(f"/api/daemon/{path}", data="{" + " " * (2 * 1024 * 1024) + "}", content_type="application/json", headers=daemon.headers)
    assert response.status_code == 413 and "error" in response.json
    assert_nothing_happened(app, client)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "daemon_id is required"),
        ({"daemon_id": ""}, "daemon_id is required"),
        ({"daemon_id": None}, "invalid daemon_id"),
        ({"daemon_id": 7}, "invalid daemon_id"),
        ({"daemon_id": ["laptop-1"]}, "invalid daemon_id"),
        ({"daemon_id": "x" * 201}, "daemon_id is too long"),
        ({"daemon_id": "laptop-1\u0000"}, "invalid daemon_id"),
        ({"daemon_id": BIG}, "invalid request body"),
    ],
)
@pytest.mark.parametrize("path", ["heartbeat", "deregister"])
def test_heartbeat_and_deregister_reject_malformed_fields(app, client, daemon, path, body, error):
    assert register(client, daemon, "laptop-1").status_code == 200
    [before] = runtime_rows(app)

    response = client.post(f"/api/daemon/{path}", json=body, headers=daemon.headers)

    assert response.status_code == 400 and response.json == {"error": error}
    [after] = runtime_rows(app)
    assert (after.status, after.last_heartbeat_at, after.updated_at) == (before.status, before.last_heartbeat_at, before.updated_at)
    assert metric(client, "multica_runtime_offline_total") == 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"json": {"name": 5}}, "invalid name"),
        ({"json": {"name": None}}, "invalid name"),
        ({"json": {"name": "n" * 101}}, "name is too long"),
        ({"json": {"name": BIG}}, "invalid request body"),
        ({"json": []}, "invalid request body"),
        ({"json": "laptop"}, "invalid request body"),
        ({"data": "null", "content_type": "application/json"}, "invalid request body"),
        ({"data": "{oops", "content_type": "application/json"}, "invalid request body"),
        ({"data": "name=laptop", "content_type": "application/x-www-form-urlencoded"}, "invalid request body"),
    ],
)
def test_token_creation_rejects_malformed_bodies(app, client, owner, workspace, kwargs, error):
    response = client.post(f"/api/workspaces/{workspace['id']}/daemon-tokens", headers=owner.headers, **kwargs)
    assert response.status_code == 400 and response.json == {"error": error}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DaemonToken)) == 0
