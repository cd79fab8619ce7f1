"""Register, heartbeat and deregister: rows, Prometheus counters, and nothing shipped to PostHog (SPEC §6.1, §7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from multica.db_utils import as_utc, utcnow
from multica.extensions import db
from multica.runtimes.models import Runtime
from tests.conftest import create_user, flush
from tests.runtimes.helpers import bearer, lifecycle_counts, metric, register, runtime_events_in, runtime_rows


def age_runtimes(app, seconds: float, *, status: str | None = None) -> None:
    """Time travel: pretend every runtime's last heartbeat was `seconds` ago (optionally also set status)."""
    values = {"last_heartbeat_at": utcnow() - timedelta(seconds=seconds)}
    if status:
        values["status"] = status
    with app.app_context():
        db.session.execute(sa.update(Runtime).values(**values))
        db.session.commit()


def test_register_inserts_online_runtimes_and_counts_them_once(app, client, owner, workspace, daemon, sink):
    first = register(
        client, daemon, "laptop-1", ["claude", {"provider": " Codex ", "version": "1.2.3"}], cli_version="0.1.0", name="My laptop",
    )

    assert first.status_code == 200, first.json
    runtimes = first.json["runtimes"]
    assert [(r["provider"], r["status"], r["runtime_mode"]) for r in runtimes] == [("claude", "online", "local"), ("codex", "online", "local")]
    codex = runtimes[1]
    assert codex["runtime_version"] == "1.2.3" and codex["cli_version"] == "0.1.0" and codex["name"] == "My laptop"
    assert codex["workspace_id"] == workspace["id"] and codex["daemon_id"] == "laptop-1" and codex["last_heartbeat_at"]
    listed = client.get(f"/api/workspaces/{workspace['id']}/runtimes", headers=owner.headers).json
    assert sorted(r["id"] for r in listed) == sorted(r["id"] for r in runtimes)
    for provider in ("claude", "codex"):
        assert lifecycle_counts(client, provider) == {"registered": 1, "ready": 1, "offline": 0, "failed": 0}

    # Re-registration (a daemon restart) updates the rows in place and never counts again.
    again = register(client, daemon, "laptop-1", ["claude", {"provider": "codex", "version": "1.3.0"}], cli_version="0.2.0")
    assert again.status_code == 200
    assert [r["id"] for r in again.json["runtimes"]] == [r["id"] for r in runtimes]
    assert again.json["runtimes"][1]["runtime_version"] == "1.3.0" and again.json["runtimes"][1]["cli_version"] == "0.2.0"
    assert len(runtime_rows(app)) == 2
    for provider in ("claude", "codex"):
        assert lifecycle_counts(client, provider) == {"registered": 1, "ready": 1, "offline": 0, "failed": 0}

    # Metrics-only events: PostHog sees the workspace being created, and none of the runtime events.
    flush(app)
    assert sink.events("workspace_created")
    assert runtime_events_in(sink) == set()


def test_register_adds_a_new_provider_to_a_known_daemon(client, daemon):
    assert register(client, daemon, "laptop-1", ["claude"]).status_code == 200
    response = register(client, daemon, "laptop-1", ["claude", "gemini"])
    assert [r["provider"] for r in response.json["runtimes"]] == ["claude", "gemini"]
    assert lifecycle_counts(client, "claude")["registered"] == 1
    assert lifecycle_counts(client, "gemini") == {"registered": 1, "ready": 1, "offline": 0, "failed": 0}


def test_unknown_provider_is_stored_as_given_and_counted_as_other(app, client, daemon):
    response = register(client, daemon, "laptop-1", ["  My-Custom-Agent ", "MY-CUSTOM-AGENT", "Claude"])

    assert response.status_code == 200
    assert [r["provider"] for r in response.json["runtimes"]] == ["claude", "my-custom-agent"]
    assert [row.provider for row in runtime_rows(app)] == ["claude", "my-custom-agent"]
    assert lifecycle_counts(client, "other") == {"registered": 1, "ready": 1, "offline": 0, "failed": 0}
    assert metric(client, "multica_runtime_registered_total", provider="my-custom-agent") == 0
    assert metric(client, "multica_runtime_registered_total") == 2


def test_heartbeat_brings_runtimes_online_without_reemitting(app, client, daemon, sink):
    assert register(client, daemon, "laptop-1", ["claude", "codex"]).status_code == 200
    assert register(client, daemon, "desktop", ["claude"]).status_code == 200
    age_runtimes(app, 500, status="offline")

    response = client.post("/api/daemon/heartbeat", json={"daemon_id": "laptop-1"}, headers=daemon.headers)

    assert response.status_code == 200
    assert [(r["provider"], r["status"]) for r in response.json["runtimes"]] == [("claude", "online"), ("codex", "online")]
    rows = {(row.daemon_id, row.provider): row for row in runtime_rows(app)}
    assert rows[("desktop", "claude")].status == "offline"
    for key in (("laptop-1", "claude"), ("laptop-1", "codex")):
        assert rows[key].status == "online"
        assert as_utc(rows[key].last_heartbeat_at) > utcnow() - timedelta(seconds=30)
    assert as_utc(rows[("desktop", "claude")].last_heartbeat_at) < utcnow() - timedelta(seconds=400)
    # A reconnect is neither a registration nor a new `runtime_ready`.
    assert lifecycle_counts(client, "claude") == {"registered": 2, "ready": 2, "offline": 0, "failed": 0}
    flush(app)
    assert runtime_events_in(sink) == set()


def test_heartbeat_for_an_unknown_daemon_is_404(client, daemon):
    response = client.post("/api/daemon/heartbeat", json={"daemon_id": "never-registered"}, headers=daemon.headers)
    assert response.status_code == 404 and response.json == {"error": "daemon is not registered"}


def test_deregister_marks_online_runtimes_offline_once(app, client, owner, workspace, daemon, sink):
    assert register(client, daemon, "laptop-1", ["claude", "codex"]).status_code == 200
    assert register(client, daemon, "desktop", ["claude"]).status_code == 200

    response = client.post("/api/daemon/deregister", json={"daemon_id": "laptop-1"}, headers=daemon.headers)

    assert response.status_code == 200
    assert [(r["provider"], r["status"]) for r in response.json["runtimes"]] == [("claude", "offline"), ("codex", "offline")]
    listed = client.get(f"/api/workspaces/{workspace['id']}/runtimes", headers=owner.headers).json
    assert sorted((r["daemon_id"], r["provider"], r["status"]) for r in listed) == [
        ("desktop", "claude", "online"), ("laptop-1", "claude", "offline"), ("laptop-1", "codex", "offline"),
    ]
    assert lifecycle_counts(client, "claude")["offline"] == 1
    assert lifecycle_counts(client, "codex")["offline"] == 1

    # Already offline: nothing flips, nothing counts. An unknown daemon is a no-op too.
    assert client.post("/api/daemon/deregister", json={"daemon_id": "laptop-1"}, headers=daemon.headers).status_code == 200
    unknown = client.post("/api/daemon/deregister", json={"daemon_id": "ghost"}, headers=daemon.headers)
    assert unknown.status_code == 200 and unknown.json == {"runtimes": []}
    assert metric(client, "multica_runtime_offline_total") == 2

    # Coming back is a reconnect: online again, still one registration and one ready.
    assert register(client, daemon, "laptop-1", ["claude", "codex"]).json["runtimes"][0]["status"] == "online"
    assert lifecycle_counts(client, "claude") == {"registered": 2, "ready": 2, "offline": 1, "failed": 0}
    flush(app)
    assert runtime_events_in(sink) == set()


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "missing authorization"),
        ({"Authorization": "Bearer "}, "missing authorization"),
        ({"Authorization": "Bearer mdt_not-a-real-token"}, "invalid daemon token"),
        ({"Authorization": "Bearer something-else"}, "invalid daemon token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing authorization"),
    ],
)
@pytest.mark.parametrize("path", ["register", "heartbeat", "deregister"])
def test_daemon_endpoints_need_a_daemon_token(app, client, daemon, path, headers, error):
    assert register(client, daemon, "laptop-1").status_code == 200
    response = client.post(f"/api/daemon/{path}", json={"daemon_id": "laptop-1", "providers": ["codex"]}, headers=headers)
    assert response.status_code == 401 and response.json == {"error": error}
    assert [(row.provider, row.status) for row in runtime_rows(app)] == [("claude", "online")]


def test_a_user_token_is_not_a_daemon_token(app, client, daemon):
    user = create_user(app)
    response = client.post("/api/daemon/register", json={"daemon_id": "x", "providers": ["claude"]}, headers=user.headers)
    assert response.status_code == 401 and response.json == {"error": "invalid daemon token"}
    assert runtime_rows(app) == []
    assert register(client, bearer(daemon.token + "x")).status_code == 401
