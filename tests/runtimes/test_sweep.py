"""`flask runtimes sweep`: silent runtimes go offline once, counted in `multica_runtime_offline_total` (SPEC §6.1)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import sqlalchemy as sa

from multica.db_utils import utcnow
from multica.extensions import db
from multica.runtimes.models import Runtime
from multica.runtimes.service import sweep_silent_runtimes
from tests.conftest import ROOT, flush
from tests.runtimes.helpers import lifecycle_counts, metric, register, runtime_events_in, runtime_rows


def set_last_heartbeat(app, daemon_id: str, seconds_ago: float) -> None:
    """Time travel for one daemon's runtimes."""
    with app.app_context():
        db.session.execute(
            sa.update(Runtime).where(Runtime.daemon_id == daemon_id).values(last_heartbeat_at=utcnow() - timedelta(seconds=seconds_ago))
        )
        db.session.commit()


def statuses(app) -> dict[tuple[str, str], str]:
    return {(row.daemon_id, row.provider): row.status for row in runtime_rows(app)}


def test_sweep_marks_silent_runtimes_offline_once(app, client, daemon, sink):
    assert register(client, daemon, "silent", ["claude", "codex"]).status_code == 200
    assert register(client, daemon, "alive", ["claude"]).status_code == 200
    set_last_heartbeat(app, "silent", 200)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["runtimes", "sweep"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "marked 2 runtime(s) offline"
    assert statuses(app) == {("alive", "claude"): "online", ("silent", "claude"): "offline", ("silent", "codex"): "offline"}
    assert lifecycle_counts(client, "claude") == {"registered": 2, "ready": 2, "offline": 1, "failed": 0}
    assert lifecycle_counts(client, "codex")["offline"] == 1

    # A second sweep finds nothing new to flip, so nothing is counted twice.
    again = runner.invoke(args=["runtimes", "sweep"])
    assert again.output.strip() == "marked 0 runtime(s) offline"
    assert metric(client, "multica_runtime_offline_total") == 2

    # The daemon comes back: a heartbeat revives it without a new `runtime_ready`.
    assert client.post("/api/daemon/heartbeat", json={"daemon_id": "silent"}, headers=daemon.headers).status_code == 200
    assert statuses(app)[("silent", "codex")] == "online"
    assert lifecycle_counts(client, "codex") == {"registered": 1, "ready": 1, "offline": 1, "failed": 0}
    flush(app)
    assert runtime_events_in(sink) == set()


def test_max_silence_sets_the_threshold(app, client, daemon):
    assert register(client, daemon, "quiet", ["claude"]).status_code == 200
    set_last_heartbeat(app, "quiet", 200)
    runner = app.test_cli_runner()

    assert runner.invoke(args=["runtimes", "sweep", "--max-silence", "300"]).output.strip() == "marked 0 runtime(s) offline"
    assert statuses(app) == {("quiet", "claude"): "online"}
    assert runner.invoke(args=["runtimes", "sweep", "--max-silence", "150"]).output.strip() == "marked 1 runtime(s) offline"
    assert statuses(app) == {("quiet", "claude"): "offline"}


def test_default_threshold_is_90_seconds(app, client, daemon):
    assert register(client, daemon, "edge", ["claude"]).status_code == 200
    set_last_heartbeat(app, "edge", 80)
    with app.app_context():
        assert sweep_silent_runtimes() == 0
        assert sweep_silent_runtimes(now=utcnow() + timedelta(seconds=15)) == 1
    assert statuses(app) == {("edge", "claude"): "offline"}


def test_negative_or_bad_max_silence_is_a_usage_error(app):
    runner = app.test_cli_runner()
    for value in ("-1", "soon"):
        result = runner.invoke(args=["runtimes", "sweep", "--max-silence", value])
        assert result.exit_code == 2, result.output


def test_sweep_through_the_real_flask_cli(app, client, daemon, database_url):
    """`flask --app app runtimes sweep` wired through create_app, against the test database."""
    assert register(client, daemon, "silent", ["claude"]).status_code == 200
    set_last_heartbeat(app, "silent", 120)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("POSTHOG_", "APP_ENV"))}
    env.update(DATABASE_URL=database_url, LOG_LEVEL="WARNING")

    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "runtimes", "sweep", "--max-silence", "90"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "marked 1 runtime(s) offline"
    assert statuses(app) == {("silent", "claude"): "offline"}
