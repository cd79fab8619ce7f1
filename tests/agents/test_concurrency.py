"""Agents created at the same moment on PostgreSQL: exactly one is the workspace's first (SPEC §5.3)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.agents.test_agents_and_issues import add_runtime
from tests.conftest import create_user, create_workspace, flush

pytestmark = pytest.mark.postgres
THREADS = 10


def test_only_one_concurrent_agent_is_first(app, sink, live_server):
    owner = create_user(app)
    workspace = create_workspace(app, owner, slug="race")
    runtime_id = add_runtime(app, workspace["id"])
    barrier = threading.Barrier(THREADS, timeout=30)

    def create(_):
        with httpx.Client(timeout=30) as http:
            barrier.wait()
            return http.post(
                f"{live_server.url}/api/workspaces/{workspace['id']}/agents",
                json={"runtime_id": runtime_id, "template": "coding"}, headers=owner.headers,
            ).status_code

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        statuses = list(pool.map(create, range(THREADS)))
    assert statuses == [201] * THREADS
    flush(app)
    firsts = [e["properties"]["is_first_agent_in_workspace"] for e in sink.wait_for_events(THREADS, "agent_created")]
    assert sorted(firsts) == [False] * (THREADS - 1) + [True]
