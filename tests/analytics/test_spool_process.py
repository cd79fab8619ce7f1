"""A real `flask run`, and a gunicorn with two workers sharing one spool, killed with SIGKILL during
an outage and restarted against a healthy sink (D17, D19.16)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.process.test_shutdown import BIN, free_port, server_env, wait_until_up

QUEUE_SIZE = 64
BATCH_SIZE = 16


def start_server(kind: str, env: dict, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if kind == "flask":
        command = [os.path.join(BIN, "flask"), "--app", "app", "run", "--port", str(port), "--no-reload"]
    else:
        command = [os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "app:app"]
        env = {**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"prom-{port}")}
    # A session of its own, so that SIGKILL reaches every process of the server (gunicorn's workers).
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, proc)
    return proc, url


def spooled_urls(spool_dir: Path) -> list[str]:
    urls = []
    for path in sorted(spool_dir.glob("*.seg")):
        for line in path.read_bytes().split(b"\n"):
            try:
                urls.append(json.loads(line)["properties"]["$current_url"])
            except ValueError:
                pass  # a line torn by the kill
    return urls


@pytest.mark.parametrize("kind, processes", [("flask", 1), ("gunicorn", 2)])
def test_sigkill_during_an_outage_loses_at_most_the_queue(kind, processes, sink, database_url, tmp_path):
    spool_dir = tmp_path / "spool"
    env = server_env(
        sink, database_url, POSTHOG_SPOOL_DIR=str(spool_dir), POSTHOG_QUEUE_SIZE=str(QUEUE_SIZE),
        POSTHOG_BATCH_SIZE=str(BATCH_SIZE), POSTHOG_FLUSH_INTERVAL="0.05", POSTHOG_TIMEOUT="2",
    )
    sink.blackhole()
    proc, url = start_server(kind, env, tmp_path)
    accepted: list[str] = []
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(base_url=url, timeout=5, cookies={"multica_anon_id": "anon-crash"}) as http:
            i = 0
            while not stop.is_set():
                path = f"/p{i}"
                i += 1
                try:
                    response = http.post(
                        "/api/analytics/events",
                        json={"events": [{"event": "$pageview", "properties": {"$current_url": path}}]}
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 202:
                    accepted.append(path)

    sender = threading.Thread(target=send, daemon=True)
    try:
        sender.start()
        # Long enough for the first batch to time out against the blackhole and the queue to spill.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(accepted) < 600 or time.monotonic() < deadline - 26):
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
    sender.join(timeout=10)
    assert len(accepted) >= 600, proc.stderr.read()[-2000:]
    on_disk = spooled_urls(spool_dir)
    assert on_disk, "nothing reached the spool before the kill"

    sink.healthy()
    # Replay starts with the process (flask: its readiness probe is its first request; gunicorn:
    # each worker's post_worker_init), two workers sharing the directory in the gunicorn case.
    proc, url = start_server(kind, env, tmp_path)
    try:
        assert sink.wait_for(lambda s: len(s.events("$pageview")) >= len(on_disk), timeout=30)
        assert sink.wait_for(lambda s: not list(spool_dir.glob("*.seg")), timeout=10)
    finally:
        proc.send_signal(signal.SIGINT if kind == "flask" else signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    delivered = [e["properties"]["$current_url"] for e in sink.events("$pageview")]
    assert sink.duplicates() == []
    assert set(on_disk) <= set(delivered)  # everything spooled before the kill arrived
    lost = len(set(accepted) - set(delivered))
    bound = processes * (QUEUE_SIZE + BATCH_SIZE)
    print(f"\nSIGKILL of {kind} during the outage: {len(accepted)} events accepted, {len(on_disk)} on disk, "
          f"{lost} lost (bound: {processes} x (queue {QUEUE_SIZE} + one batch {BATCH_SIZE}) = {bound})")
    assert lost <= bound
