"""The command-line daemon against a live server: register, heartbeat, deregister on SIGTERM (D12, SPEC §6.1)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from multica.daemon import MAX_BACKOFF_SECONDS, backoff_delay, default_daemon_id
from multica.extensions import db
from multica.runtimes.models import Runtime
from tests.conftest import ROOT, LiveServer, flush
from tests.runtimes.helpers import lifecycle_counts, metric, runtime_events_in


def start_daemon(*args: str) -> subprocess.Popen:
    """`python -m multica.daemon ...` as a real child process."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("MULTICA_DAEMON_TOKEN", None)
    return subprocess.Popen(
        [sys.executable, "-m", "multica.daemon", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_until(predicate, timeout: float = 20.0, what: str = "condition"):
    """Poll `predicate` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def runtime_states(client, owner, workspace) -> dict[str, str]:
    listed = client.get(f"/api/workspaces/{workspace['id']}/runtimes", headers=owner.headers).json
    return {runtime["provider"]: runtime["status"] for runtime in listed}


def heartbeats_served(client) -> float:
    return metric(client, "multica_http_request_duration_seconds_count", url_rule="/api/daemon/heartbeat", status="200")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_daemon_registers_heartbeats_and_deregisters_on_sigterm(app, client, owner, workspace, daemon, live_server, sink):
    process = start_daemon(
        "--server", live_server.url, "--token", daemon.token, "--provider", "claude", "--provider", "codex",
        "--daemon-id", "e2e-host", "--interval", "0.2",
    )
    try:
        wait_until(lambda: runtime_states(client, owner, workspace) == {"claude": "online", "codex": "online"}, what="runtimes online")
        wait_until(lambda: heartbeats_served(client) >= 3, what="three heartbeats")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "registered 2 runtime(s) for daemon e2e-host" in out and "claude  online" in out and "codex  online" in out
    assert "deregistered daemon e2e-host" in out
    assert runtime_states(client, owner, workspace) == {"claude": "offline", "codex": "offline"}
    # Heartbeats kept it alive without counting anything again.
    for provider in ("claude", "codex"):
        assert lifecycle_counts(client, provider) == {"registered": 1, "ready": 1, "offline": 1, "failed": 0}
    flush(app)
    assert runtime_events_in(sink) == set()


def test_sigint_also_deregisters(client, owner, workspace, daemon, live_server):
    process = start_daemon("--server", live_server.url, "--token", daemon.token, "--provider", "claude", "--interval", "0.2")
    try:
        wait_until(lambda: runtime_states(client, owner, workspace) == {"claude": "online"}, what="runtime online")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"registered 1 runtime(s) for daemon {default_daemon_id()}" in out
    assert runtime_states(client, owner, workspace) == {"claude": "offline"}


def test_once_registers_and_exits_leaving_the_runtime_online(client, owner, workspace, daemon, live_server):
    process = start_daemon("--server", live_server.url, "--token", daemon.token, "--provider", "gemini", "--once")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "gemini  online" in out
    assert runtime_states(client, owner, workspace) == {"gemini": "online"}


def test_a_runtime_is_named_after_the_daemon_id_when_given(client, owner, workspace, daemon, live_server):
    """D20.6: `--daemon-id X` names the runtime `X`; without it, the runtime is named after the host."""
    for extra in (("--daemon-id", "build-box"), ()):
        process = start_daemon("--server", live_server.url, "--token", daemon.token, "--provider", "codex", "--once", *extra)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
    listed = client.get(f"/api/workspaces/{workspace['id']}/runtimes", headers=owner.headers).json
    names = {runtime["daemon_id"]: runtime["name"] for runtime in listed}
    assert names["build-box"] == "build-box"
    assert names[default_daemon_id()] == socket.gethostname().strip()[:200]


def test_rejected_token_exits_3_with_a_clear_message(app, client, live_server):
    process = start_daemon("--server", live_server.url, "--token", "mdt_revoked-or-made-up", "--provider", "claude")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 3
    assert "rejected the daemon token (invalid daemon token)" in err
    assert metric(client, "multica_runtime_registered_total") == 0


def test_unreachable_server_exits_4_with_a_clear_message():
    url = f"http://127.0.0.1:{free_port()}"
    process = start_daemon("--server", url, "--token", "mdt_whatever", "--provider", "claude")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 4
    assert f"cannot reach the server at {url}" in err


@pytest.mark.parametrize(
    "args",
    [
        ["--token", "mdt_x", "--provider", "claude"],
        ["--server", "localhost:5000", "--token", "mdt_x", "--provider", "claude"],
        ["--server", "http://127.0.0.1:1", "--token", "mdt_x"],
        ["--server", "http://127.0.0.1:1", "--provider", "claude"],
        ["--server", "http://127.0.0.1:1", "--token", "mdt_x", "--provider", "claude", "--interval", "0"],
    ],
)
def test_bad_usage_exits_2(args):
    process = start_daemon(*args)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2 and "usage:" in err


def test_server_outage_is_retried_and_shutdown_still_exits_0(app, client, owner, workspace, daemon):
    server = LiveServer(app).start()
    process = start_daemon("--server", server.url, "--token", daemon.token, "--provider", "claude", "--interval", "0.2")
    try:
        wait_until(lambda: runtime_states(client, owner, workspace) == {"claude": "online"}, what="runtime online")
        # The server goes away completely: connections are refused from now on.
        server.stop()
        server._server.server_close()
        time.sleep(1.5)
        assert process.poll() is None, "the daemon must keep retrying while the server is down"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "warning: heartbeat failed (cannot reach the server" in err and "retrying in" in err
    assert "could not deregister" in err
    # It could not say goodbye, so the runtime stays online until the sweeper notices the silence.
    assert runtime_states(client, owner, workspace) == {"claude": "online"}


def test_backoff_doubles_with_jitter_and_is_capped():
    for failures, base in ((1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (50, MAX_BACKOFF_SECONDS)):
        delays = [backoff_delay(failures) for _ in range(200)]
        assert all(base * 0.5 <= delay <= base for delay in delays), (failures, min(delays), max(delays))
        assert len(set(delays)) > 1


def test_revoking_the_token_stops_a_running_daemon_with_exit_3(client, owner, workspace, daemon, live_server):
    process = start_daemon("--server", live_server.url, "--token", daemon.token, "--provider", "claude", "--interval", "0.2")
    try:
        wait_until(lambda: runtime_states(client, owner, workspace) == {"claude": "online"}, what="runtime online")
        revoked = client.delete(f"/api/workspaces/{workspace['id']}/daemon-tokens/{daemon.id}", headers=owner.headers)
        assert revoked.status_code == 204
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 3
    assert "rejected the daemon token (invalid daemon token)" in err


def test_daemon_registers_again_when_the_server_forgot_it(app, client, owner, workspace, daemon, live_server):
    process = start_daemon("--server", live_server.url, "--token", daemon.token, "--provider", "claude", "--interval", "0.2")
    try:
        wait_until(lambda: runtime_states(client, owner, workspace) == {"claude": "online"}, what="runtime online")
        with app.app_context():
            db.session.execute(sa.delete(Runtime))
            db.session.commit()
        # The next heartbeat gets 404 and the daemon puts its runtime back: a genuinely new row.
        wait_until(lambda: runtime_states(client, owner, workspace) == {"claude": "online"}, what="runtime re-registered")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "re-registered 1 runtime(s)" in out
    assert lifecycle_counts(client, "claude") == {"registered": 2, "ready": 2, "offline": 1, "failed": 0}
