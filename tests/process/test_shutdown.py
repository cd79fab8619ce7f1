"""Real processes: queued events are delivered when `flask run` gets Ctrl-C and when a gunicorn
worker exits, and `/metrics` aggregates workers in multiprocess mode (D5, D8, D14.7)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import ROOT

BIN = os.path.dirname(sys.executable)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            httpx.get(url + "/healthz", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


def server_env(sink, database_url, **extra) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "POSTHOG_API_KEY": "phc_process",
        "POSTHOG_HOST": sink.url,
        # Nothing would be sent before exit without a drain: the periodic flush is an hour away.
        "POSTHOG_FLUSH_INTERVAL": "3600",
        "POSTHOG_BATCH_SIZE": "500",
        "DATABASE_URL": database_url,
        "RATELIMIT_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def send_pageviews(url: str, count: int) -> None:
    for i in range(count):
        response = httpx.post(
            url + "/api/analytics/events",
            json={"events": [{"event": "$pageview", "properties": {"$current_url": f"/p{i}"}}]},
            cookies={"multica_anon_id": f"anon-{i}"},
            timeout=5,
        )
        assert response.status_code == 202


def test_ctrl_c_on_flask_run_delivers_the_queue(sink, database_url):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [os.path.join(BIN, "flask"), "--app", "app", "run", "--port", str(port), "--no-reload"],
        cwd=ROOT, env=server_env(sink, database_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_up(url, proc)
        send_pageviews(url, 5)
        assert sink.events() == []
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert sorted(e["properties"]["$current_url"] for e in sink.events("$pageview")) == [f"/p{i}" for i in range(5)]
    assert "analytics: posthog client closed" in stderr and "sent=5" in stderr


def test_gunicorn_worker_exit_drains_and_metrics_aggregate(sink, database_url, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = server_env(sink, database_url, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"))
    proc = subprocess.Popen(
        [os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_up(url, proc)
        send_pageviews(url, 12)
        metrics = httpx.get(url + "/metrics", timeout=5).text
        assert "multica_analytics_queue_depth" in metrics
        assert 'multica_http_request_total' in metrics or "multica_http_request_duration_seconds" in metrics
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(sink.events("$pageview")) == 12, stderr[-2000:]
    assert stderr.count("analytics: posthog client closed") >= 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_gunicorn_preload_forks_working_pipelines(sink, database_url, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = server_env(
        sink, database_url, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2", GUNICORN_PRELOAD="1",
        POSTHOG_FLUSH_INTERVAL="0.1", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"),
    )
    proc = subprocess.Popen(
        [os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "app:app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_up(url, proc)
        send_pageviews(url, 10)
        assert sink.wait_for(lambda s: len(s.events("$pageview")) == 10, timeout=10)
        metrics = httpx.get(url + "/metrics", timeout=5).text
        sent = [line for line in metrics.splitlines() if line.startswith('multica_analytics_events_total{outcome="sent"}')]
        assert sent and float(sent[0].split()[-1]) == 10.0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
