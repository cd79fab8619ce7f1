"""Fixtures for the task tests: a workspace with a daemon token, a registered runtime and an agent on it."""

from __future__ import annotations

import pytest

from tests.tasks.helpers import start_daemon, wait_until


@pytest.fixture
def runtime(client, daemon) -> dict:
    """A claude runtime registered by the daemon."""
    response = client.post("/api/daemon/register", json={"daemon_id": "laptop", "providers": ["claude"]}, headers=daemon.headers)
    assert response.status_code == 200, response.json
    return response.json["runtimes"][0]


@pytest.fixture
def agent(client, owner, workspace, runtime) -> dict:
    """A coding agent on `runtime`."""
    response = client.post(
        f"/api/workspaces/{workspace['id']}/agents", json={"runtime_id": runtime["id"], "template": "coding"}, headers=owner.headers,
    )
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def loop(client, owner, workspace, daemon, live_server):
    """Start a daemon running `script`, wait for its runtime, give it an agent: returns (process, agent, runtime)."""
    started = []

    def begin(script: str, *extra: str):
        process = start_daemon(live_server, daemon.token, script, *extra)
        started.append(process)
        listed = wait_until(
            lambda: client.get(f"/api/workspaces/{workspace['id']}/runtimes", headers=owner.headers).json, what="runtime registered",
        )
        runtime = listed[0]
        agent = client.post(
            f"/api/workspaces/{workspace['id']}/agents", json={"runtime_id": runtime["id"], "template": "coding"}, headers=owner.headers,
        ).json
        return process, agent, runtime

    yield begin
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()
