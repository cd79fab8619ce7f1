"""Registration and deregistration under real concurrency on PostgreSQL (D2, SPEC §6.1).

Twenty threads start together behind a barrier and hit a live server over HTTP (one werkzeug
thread and database session per request), the way several gunicorn workers would. The once-only
decisions must come from the statements themselves: one row, one `runtime_registered`, one
`runtime_ready`, and one `runtime_offline` per runtime however many requests overlap.
"""

from __future__ import annotations


import httpx
import pytest

from multica.extensions import db
from multica.runtimes.service import sweep_silent_runtimes
from tests.conftest import run_together
from tests.runtimes.helpers import lifecycle_counts, runtime_rows

pytestmark = pytest.mark.postgres

THREADS = 20


def post(url: str, token: str, body: dict) -> int:
    # A client per call: each request has its own connection, so they really overlap.
    with httpx.Client(timeout=30) as http:
        return http.post(url, json=body, headers={"Authorization": f"Bearer {token}"}).status_code


def test_concurrent_registrations_of_one_runtime_insert_one_row_and_count_once(app, client, daemon, live_server):
    body = {"daemon_id": "race-host", "providers": ["claude"], "cli_version": "0.1.0"}

    statuses = run_together(lambda _: post(f"{live_server.url}/api/daemon/register", daemon.token, body))

    assert statuses == [200] * THREADS
    rows = runtime_rows(app)
    assert [(row.daemon_id, row.provider, row.status) for row in rows] == [("race-host", "claude", "online")]
    assert lifecycle_counts(client, "claude") == {"registered": 1, "ready": 1, "offline": 0, "failed": 0}


def test_concurrent_deregistrations_and_sweeps_count_offline_once(app, client, daemon, live_server):
    body = {"daemon_id": "race-host", "providers": ["claude", "codex"]}
    assert post(f"{live_server.url}/api/daemon/register", daemon.token, body) == 200

    def task(index: int):
        if index % 4 == 0:
            # The sweeper racing the daemon's own shutdown (threshold 0: everything online is "silent").
            with app.app_context():
                try:
                    return sweep_silent_runtimes(0)
                finally:
                    db.session.remove()
        return post(f"{live_server.url}/api/daemon/deregister", daemon.token, {"daemon_id": "race-host"})

    results = run_together(task)

    assert [r for i, r in enumerate(results) if i % 4] == [200] * (THREADS - THREADS // 4)
    assert [row.status for row in runtime_rows(app)] == ["offline", "offline"]
    for provider in ("claude", "codex"):
        assert lifecycle_counts(client, provider) == {"registered": 1, "ready": 1, "offline": 1, "failed": 0}
