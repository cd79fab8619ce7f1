"""The in-progress gauge under a real gunicorn with two workers: a task dispatched through one worker
and finished through the other still leaves the gauge at zero (§6.3, D8)."""

from __future__ import annotations

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.mmap_dict import MmapedDict

from tests.conftest import ROOT
from tests.process.test_shutdown import BIN, free_port, server_env, wait_until_up
from tests.tasks.helpers import create_issue

TASKS = 40
ROUNDS = 5
GAUGE = "multica_agent_task_in_progress"


def by_worker(directory: Path, kind: str, name: str) -> dict[str, float]:
    """`name` as each worker's file of `kind` (`counter`, `gauge_sum`) holds it, over its label sets."""
    shares: dict[str, float] = {}
    for path in directory.glob(f"{kind}_*.db"):
        total = sum(value for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)) if f'"{name}"' in key)
        shares[path.stem.rsplit("_", 1)[1]] = total
    return shares


def crossed(directory: Path) -> bool:
    """Whether some worker finished a different number of tasks than it dispatched, i.e. at least
    one task ended in the worker that did not dispatch it."""
    dispatched = by_worker(directory, "counter", "multica_agent_task_dispatched_total")
    finished = by_worker(directory, "counter", "multica_agent_task_terminal_total")
    return any(dispatched.get(pid, 0) != finished.get(pid, 0) for pid in set(dispatched) | set(finished))


def scrape(url: str) -> float:
    lines = httpx.get(url + "/metrics", timeout=10).text.splitlines()
    return sum(float(line.split()[-1]) for line in lines if line.startswith(GAUGE + "{"))


def test_tasks_finished_through_another_worker_leave_the_gauge_at_zero(
    client, owner, workspace, daemon, runtime, agent, sink, database_url, tmp_path
):
    prometheus_dir = tmp_path / "prometheus"
    port = free_port()
    env = server_env(
        sink, database_url, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2", GUNICORN_THREADS="2",
        PROMETHEUS_MULTIPROC_DIR=str(prometheus_dir),
    )
    server = subprocess.Popen(
        [os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "app:app"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {daemon.token}"}

    def post(path: str, body: dict) -> httpx.Response:
        # A connection per request, so that both workers take a share of the calls.
        return httpx.post(url + path, json=body, headers=headers, timeout=30)

    try:
        wait_until_up(url, server)
        # Which worker takes a connection is the kernel's choice: repeat until a task has crossed.
        for round_number in range(ROUNDS):
            for number in range(TASKS):
                create_issue(client, owner, workspace, agent, title=f"issue {round_number}.{number}")
            with ThreadPoolExecutor(4) as pool:
                claims = list(pool.map(lambda _: post("/api/daemon/tasks/claim", {"runtime_id": runtime["id"]}), range(TASKS)))
                assert [response.status_code for response in claims] == [200] * TASKS
                ids = [response.json()["task"]["id"] for response in claims]
                started = pool.map(lambda task_id: post(f"/api/daemon/tasks/{task_id}/start", {}), ids)
                assert all(response.status_code == 200 for response in started)
                assert scrape(url) == TASKS
                done = pool.map(lambda task_id: post(f"/api/daemon/tasks/{task_id}/complete", {"result": "ok"}), ids)
                assert all(response.status_code == 200 for response in done)
            assert scrape(url) == 0
            if crossed(prometheus_dir):
                break
        else:
            raise AssertionError(f"no task ended in another worker in {ROUNDS} rounds")
        assert len(by_worker(prometheus_dir, "gauge_sum", GAUGE)) == 2
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
